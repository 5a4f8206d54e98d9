"""``monoculture ledger``: verify, prove, sign and export a transparency log.

Exit status: 0 when the log (and the checkpoint, proof or signature) verifies; 1 when it
does not (the message names the first bad record, or what failed); 2 on bad input (a file
that is not a log, a record out of range, an unreadable key), with the fix.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from monoculture.cli._common import check_output_path, print_plain, stderr, user_errors
from monoculture.errors import InputError

if TYPE_CHECKING:
    from monoculture.ledger import TransparencyLog

app = typer.Typer(
    name="ledger",
    help="Verify, prove, sign and export a transparency log of decisions and calls.",
    rich_markup_mode=None,
    add_completion=False,
    no_args_is_help=True,
)

LogArgument = Annotated[
    Path, typer.Argument(help="The log: a ledger.sqlite a run wrote (or any monoculture log).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@contextmanager
def _verification_errors() -> Iterator[None]:
    """A proof or signature that does not verify: one line on stderr, exit status 1."""
    from monoculture.ledger import ProofError

    try:
        yield
    except ProofError as error:
        print_plain(stderr, f"FAIL: {error}", style="bold red")
        raise typer.Exit(code=1) from None


@contextmanager
def _open_log(path: Path) -> Iterator[TransparencyLog]:
    from monoculture.ledger import TransparencyLog

    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the ledger.sqlite inside it.")
    with TransparencyLog.open(path, read_only=True) as log:
        yield log


def _print_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


@app.command("verify")
def verify_command(
    log_path: LogArgument,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="A signed checkpoint of this log (needs --public-key)."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="The verifier key (.pub) that signed the checkpoint."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every hash and name the first bad record (exit 1) if any was changed.

    Without a checkpoint, verify finds records edited, deleted, inserted, reordered or
    truncated behind the log's back; with a signed checkpoint it also finds a rewrite of the
    records and their stored hashes together, and a truncation of the whole log.
    """
    with user_errors(), _verification_errors():
        from monoculture.ledger import load_verifier_key, open_checkpoint

        if (checkpoint is None) != (public_key is None):
            raise InputError(
                "--checkpoint and --public-key go together: the checkpoint is trusted only "
                "once its signature is checked; give both, or neither."
            )
        signed = None
        if checkpoint is not None and public_key is not None:
            key = load_verifier_key(public_key)
            try:
                note = checkpoint.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
                raise InputError(
                    f"--checkpoint {checkpoint}: cannot read ({reason}); give the file "
                    "`monoculture ledger checkpoint` wrote."
                ) from None
            signed = open_checkpoint(note, key, source=f"--checkpoint {checkpoint}")
        with _open_log(log_path) as log:
            result = log.verify(checkpoint=signed)
        if as_json:
            _print_json(
                {
                    "ok": result.ok,
                    "size": result.size,
                    "root": result.root.hex(),
                    "first_bad": result.first_bad,
                    "problem": result.problem,
                    "checkpoint_size": result.checkpoint_size,
                }
            )
        console = Console()
        if not result.ok:
            if not as_json:
                where = f"record {result.first_bad}: " if result.first_bad is not None else ""
                print_plain(stderr, f"FAIL: {log_path}: {where}{result.problem}", style="bold red")
            raise typer.Exit(code=1)
        if as_json:
            return
        print_plain(console, f"ok: {log_path}: {result.size:,} records, root {result.root.hex()}")
        if signed is not None:
            print_plain(
                console,
                f"ok: the first {signed.size:,} records match the checkpoint signed by "
                f"{signed.origin}",
            )
        else:
            print_plain(
                console,
                "note: without --checkpoint, a rewrite of records and stored hashes together "
                "(or a truncation with its head) goes unseen; give --checkpoint and "
                "--public-key to catch it.",
            )


@app.command("prove")
def prove_command(
    log_path: LogArgument,
    record: Annotated[
        int | None, typer.Option("--record", help="Prove that record N (0-based) is in the log.")
    ] = None,
    from_size: Annotated[
        int | None,
        typer.Option("--from", help="Prove that the log's first M records are a prefix of it."),
    ] = None,
    size: Annotated[
        int | None,
        typer.Option("--size", help="Prove against the tree of the first S records (default all)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print an inclusion proof (--record N) or a consistency proof (--from M), verified."""
    with user_errors(), _verification_errors():
        from monoculture.ledger import ProofError

        with _open_log(log_path) as log:
            if record is not None and from_size is None:
                proof = log.prove_inclusion(record, size=size)
                text = log.record(record).decode()
                try:
                    proof.verify()
                except ProofError as error:
                    raise ProofError(
                        f"record {record}: {error} The record does not match the hashes the "
                        "log stored for it (edited?); run `monoculture ledger verify` on it."
                    ) from None
                if as_json:
                    _print_json({**proof.to_dict(), "record": text})
                    return
                lines = [
                    f"record {record} of {proof.size:,}: {text}",
                    f"leaf hash  {proof.leaf_hash.hex()}",
                    f"root       {proof.root.hex()}  (tree of {proof.size:,} records)",
                    f"proof      {len(proof.path)} hashes, leaf to root:",
                    *(f"  {h.hex()}" for h in proof.path),
                    f"verified: record {record} is in the tree of {proof.size:,} records with "
                    "this root (RFC 9162 2.1.3.2).",
                ]
            elif from_size is not None and record is None:
                consistency = log.prove_consistency(from_size, size=size)
                consistency.verify()
                if as_json:
                    _print_json(consistency.to_dict())
                    return
                lines = [
                    f"old root   {consistency.old_root.hex()}  (tree of "
                    f"{consistency.old_size:,} records)",
                    f"root       {consistency.root.hex()}  (tree of {consistency.size:,} records)",
                    f"proof      {len(consistency.path)} hashes:",
                    *(f"  {h.hex()}" for h in consistency.path),
                    f"verified: the first {consistency.old_size:,} records are a prefix of the "
                    f"{consistency.size:,} (RFC 9162 2.1.4.2).",
                ]
            else:
                raise InputError(
                    "give --record N (an inclusion proof) or --from M (a consistency proof), "
                    "one of the two."
                )
        console = Console()
        for line in lines:
            print_plain(console, line)


@app.command("checkpoint")
def checkpoint_command(
    log_path: LogArgument,
    key: Annotated[
        Path | None, typer.Option("--key", help="The signing key file (from `ledger keygen`).")
    ] = None,
    key_env: Annotated[
        str | None,
        typer.Option("--key-env", help="An environment variable holding the signing key."),
    ] = None,
    origin: Annotated[
        str | None, typer.Option(help="The log's name in the checkpoint (default: the key's).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the checkpoint here.")
    ] = None,
) -> None:
    """Verify the log, then sign its tree head (a C2SP checkpoint, Ed25519)."""
    with user_errors(), _verification_errors():
        from monoculture.ledger import load_signing_key, sign_checkpoint

        if (key is None) == (key_env is None):
            raise InputError("give the signing key with --key FILE or --key-env VAR, one.")
        if output is not None:
            check_output_path(output, "--output", inputs=(log_path, key))
        signing_key = load_signing_key(path=key, env=key_env)
        with _open_log(log_path) as log:
            result = log.verify()
            if not result.ok:
                where = f"record {result.first_bad}: " if result.first_bad is not None else ""
                print_plain(
                    stderr,
                    f"FAIL: {log_path}: {where}{result.problem} Not signed.",
                    style="bold red",
                )
                raise typer.Exit(code=1)
            note = sign_checkpoint(log.checkpoint(origin or signing_key.name), signing_key)
        if output is None:
            sys.stdout.write(note)
            return
        try:
            output.write_text(note, encoding="utf-8")
        except OSError as error:
            raise InputError(f"--output {output}: cannot write: {error.strerror}.") from None
        print_plain(Console(), f"Wrote {output} ({result.size:,} records)")


@app.command("export")
def export_command(
    log_path: LogArgument,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write the records as JSON Lines, one canonical record per line, in log order.

    Line i is record i exactly as hashed: leaf i = SHA-256(0x00 || line i), so anyone can
    recompute the root from the export alone.
    """
    with user_errors():
        if output is not None:
            check_output_path(output, "--output", inputs=(log_path,))
        with _open_log(log_path) as log:
            if output is None:
                for _, record in log.records():
                    sys.stdout.buffer.write(record + b"\n")
                sys.stdout.buffer.flush()
                return
            try:
                with output.open("wb") as file:
                    count = 0
                    for _, record in log.records():
                        file.write(record + b"\n")
                        count += 1
            except OSError as error:
                raise InputError(f"--output {output}: cannot write: {error.strerror}.") from None
        print_plain(Console(), f"Wrote {output} ({count:,} records)")


@app.command("keygen")
def keygen_command(
    name: Annotated[
        str, typer.Option(help="The key's name (C2SP: no spaces or '+'), e.g. example.org/log.")
    ] = "monoculture-ledger",
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Write OUTPUT.key (private, mode 0600) and OUTPUT.pub."
        ),
    ] = Path("ledger"),
) -> None:
    """Make an Ed25519 signing key (OUTPUT.key, mode 0600) and its public key (OUTPUT.pub)."""
    with user_errors():
        from monoculture.ledger import SigningKey, write_key_pair

        private, public = (
            output.with_name(output.name + ".key"),
            output.with_name(output.name + ".pub"),
        )
        if not output.parent.is_dir():
            raise InputError(
                f"--output {output}: the folder {output.parent} does not exist; create it first."
            )
        key = SigningKey.generate(name)
        write_key_pair(key, private, public)
        console = Console()
        print_plain(console, f"Wrote {private} (private: keep it secret) and {public}")
        print_plain(console, f"public key: {key.verifier().to_text()}")
