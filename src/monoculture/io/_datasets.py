"""Public item-level results: a registry of data sets, downloads that resume and verify, and
converters to `Responses`.

The registry (``datasets.toml`` beside this module) is data: each data set names its
files (URL, local path, pinned SHA-256 and size), a converter, a licence and a one-line
description. ``sha256 = ""`` marks a file whose checksum is not pinned yet; `get_dataset`
refuses such a data set unless ``verify=False``.

A download never leaves a half-written data set: files are fetched into
``<out>/.<name>.partial/raw/<path>.part`` (resumed with an HTTP ``Range`` request when the
command is run again), checked against the pinned checksum, renamed, converted to
``responses.parquet`` (`write_responses`), and only then is the folder renamed to
``<out>/<name>``.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd

from monoculture.errors import InputError, ReadError
from monoculture.io._saved import write_responses
from monoculture.io.long_table import responses_from_long
from monoculture.responses import Responses

__all__ = ["DataSet", "RemoteFile", "get_dataset", "list_datasets"]

Progress = Callable[[str, int, int], None]
"""``progress(label, bytes_done, bytes_total)``; ``bytes_total`` is 0 when unknown."""

_TIMEOUT = 60.0


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set.

    Attributes:
        url: where it is fetched from.
        path: where it goes, relative to the data set's ``raw/`` folder.
        agent: the agent (model) whose results it holds, for the converter.
        sha256: the pinned SHA-256 (hex); empty when not pinned yet.
        size: the size in bytes; 0 when not known.
    """

    url: str
    path: str
    agent: str = ""
    sha256: str = ""
    size: int = 0


@dataclass(frozen=True)
class DataSet:
    """A registered public data set.

    Attributes:
        name: what ``monoculture data get NAME`` takes.
        description: one line.
        licence: the terms it comes under.
        homepage: where it is described.
        converter: how its files become a `Responses` (``mmlu_pro``, ``zeroeval``,
            ``lm_eval``).
        files: the files to download.
        options: converter options (e.g. ``benchmark``, ``metric``).
    """

    name: str
    description: str
    licence: str
    homepage: str
    converter: str
    files: tuple[RemoteFile, ...]
    options: dict[str, str] = field(default_factory=dict)

    @property
    def pinned(self) -> bool:
        """Whether every file has a pinned checksum."""
        return all(f.sha256 for f in self.files)

    @property
    def size(self) -> int:
        """Total size in bytes of the files whose size is known."""
        return sum(f.size for f in self.files)


REGISTRY_ENV = "MONOCULTURE_DATA_REGISTRY"


def _registry_text(registry: str | Path | None) -> tuple[str, str]:
    # A registry of one's own (e.g. with checksums pinned after checking the files) can be
    # named in the environment.
    registry = registry if registry is not None else os.environ.get(REGISTRY_ENV) or None
    if registry is not None:
        path = Path(registry)
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as error:
            raise ReadError(f"{path}: cannot be read: {error.strerror}.") from None
    resource = resources.files("monoculture.io").joinpath("datasets.toml")
    return resource.read_text(encoding="utf-8"), "monoculture/io/datasets.toml"


def list_datasets(*, registry: str | Path | None = None) -> list[DataSet]:
    """The registered data sets: from ``registry`` (a TOML file in the packaged file's
    layout), else the file named by the environment variable ``MONOCULTURE_DATA_REGISTRY``,
    else the packaged ``datasets.toml``.

    Example:
        >>> "mmlu-pro" in [d.name for d in list_datasets()]
        True
    """
    text, where = _registry_text(registry)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ReadError(f"{where}: is not valid TOML ({error}).") from None
    out = []
    for entry in document.get("dataset", []):
        try:
            files = tuple(
                RemoteFile(
                    url=str(f["url"]),
                    path=str(f["path"]),
                    agent=str(f.get("agent", "")),
                    sha256=str(f.get("sha256", "")).lower(),
                    size=int(f.get("size", 0)),
                )
                for f in entry["file"]
            )
            out.append(
                DataSet(
                    name=str(entry["name"]),
                    description=str(entry["description"]),
                    licence=str(entry["licence"]),
                    homepage=str(entry.get("homepage", "")),
                    converter=str(entry["converter"]),
                    files=files,
                    options={str(k): str(v) for k, v in (entry.get("options") or {}).items()},
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ReadError(
                f"{where}: data set {entry.get('name', '?')!r} lacks or mistypes {error}; "
                "each needs name, description, licence, converter and files with url and path."
            ) from None
    for ds in out:
        if ds.converter not in CONVERTERS:
            raise ReadError(
                f"{where}: data set {ds.name!r} names the unknown converter {ds.converter!r}; "
                f"the converters are {sorted(CONVERTERS)}."
            )
    return out


def get_dataset(
    name: str,
    out_dir: str | Path = ".",
    *,
    verify: bool = True,
    progress: Progress | None = None,
    registry: str | Path | None = None,
    client: Any = None,
) -> Path:
    """Download, verify and convert the data set ``name`` into ``out_dir/name``; returns that
    folder, which holds ``responses.parquet`` (read it with `read_responses`), ``raw/`` (the
    files as downloaded) and ``SOURCE.json`` (URLs, checksums, licence).

    Run again after an interruption, it resumes the partial downloads. A folder that is
    already complete is returned as it is.

    Raises:
        InputError: an unknown name; a data set without pinned checksums while ``verify``;
            a checksum mismatch (the bad file is deleted); a server error or an interrupted
            transfer (run again to resume).
    """
    import httpx

    sets = {ds.name: ds for ds in list_datasets(registry=registry)}
    if name not in sets:
        raise InputError(
            f"unknown data set {name!r}; the registered ones are {sorted(sets)} "
            "(`monoculture data list`)."
        )
    ds = sets[name]
    unpinned = [f for f in ds.files if not f.sha256]
    if verify and unpinned:
        raise InputError(
            f"data set {name!r}: {len(unpinned)} of its {len(ds.files)} file(s) have no pinned "
            'SHA-256 in the registry (sha256 = "", e.g. '
            f"{unpinned[0].path}), so what arrives cannot be verified. Pass --no-verify to "
            "download it anyway; the checksums computed are written to SOURCE.json."
        )
    out = Path(out_dir)
    target = out / name
    if (target / "responses.parquet").is_file():
        return target
    if target.exists():
        raise InputError(
            f"{target}: exists but is not a complete data set; remove it or choose another "
            "folder with -o."
        )
    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".{name}.partial"
    raw = staging / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    own_client = client is None
    http = client or httpx.Client(follow_redirects=True, timeout=_TIMEOUT)
    checksums: dict[str, str] = {}
    try:
        for number, remote in enumerate(ds.files, start=1):
            label = f"{name} {number}/{len(ds.files)} {remote.path}"
            checksums[remote.path] = _fetch(
                http, remote, raw / remote.path, label, verify=verify, progress=progress
            )
    finally:
        if own_client:
            http.close()
    responses = CONVERTERS[ds.converter](raw, ds)
    write_responses(responses, staging / "responses.parquet")
    source = {
        "name": ds.name,
        "description": ds.description,
        "licence": ds.licence,
        "homepage": ds.homepage,
        "verified": verify,
        "files": [
            {"url": f.url, "path": f.path, "sha256": checksums[f.path], "pinned": f.sha256}
            for f in ds.files
        ],
    }
    (staging / "SOURCE.json").write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    staging.rename(target)
    return target


def _auth_headers(url: str) -> dict[str, str]:
    # Some Hugging Face details datasets ask for a login; the token goes to huggingface.co only.
    host = urlparse(url).hostname or ""
    token = os.environ.get("HF_TOKEN")
    if token and (host == "huggingface.co" or host.endswith(".huggingface.co")):
        return {"Authorization": f"Bearer {token}"}
    return {}


def _fetch(
    http: Any,
    remote: RemoteFile,
    path: Path,
    label: str,
    *,
    verify: bool,
    progress: Progress | None,
) -> str:
    """Download ``remote`` to ``path`` through ``path.part`` (resuming it), check it, rename
    it; returns its SHA-256. A complete file already there is only checked."""
    import httpx

    if path.is_file():
        return _check(path, remote, verify=verify, partial=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    headers = _auth_headers(remote.url)
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        with http.stream("GET", remote.url, headers=headers) as response:
            if response.status_code == 416 and have:
                pass  # the partial file already holds every byte
            elif response.status_code >= 400:
                raise InputError(
                    f"{remote.url}: the server answered HTTP {response.status_code}; nothing "
                    "was kept. Try again later, or check the URL in the registry."
                )
            else:
                append = response.status_code == 206 and have > 0
                if not append:
                    have = 0  # the server ignored the range: start again
                total = _total(response, have) or remote.size
                done = have
                with part.open("ab" if append else "wb") as handle:
                    for chunk in response.iter_bytes():
                        handle.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            # An unknown total must not read as finished.
                            progress(label, done, total or done + 1)
                if progress is not None:
                    progress(label, done, done)
    except httpx.HTTPError as error:
        kept = part.stat().st_size if part.exists() else 0
        raise InputError(
            f"{remote.url}: the transfer was interrupted ({type(error).__name__}: {error}) "
            f"after {kept:,} bytes; run the command again to resume."
        ) from None
    digest = _check(part, remote, verify=verify, partial=part)
    part.replace(path)
    return digest


def _total(response: Any, have: int) -> int:
    length = response.headers.get("Content-Length")
    if length is None or not length.isdigit():
        return 0
    return int(length) + (have if response.status_code == 206 else 0)


def _check(path: Path, remote: RemoteFile, *, verify: bool, partial: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    found = digest.hexdigest()
    if verify and remote.sha256 and found != remote.sha256:
        partial.unlink(missing_ok=True)
        raise InputError(
            f"{remote.url}: checksum mismatch: expected SHA-256 {remote.sha256}, got {found}; "
            "the file was deleted. Run the command again; if it persists, the file changed "
            "upstream and the registry needs a new pin."
        )
    return found


# ---------------------------------------------------------------------- converters
def _mmlu_pro(raw: Path, ds: DataSet) -> Responses:
    """MMLU-Pro ``eval_results``: each zip (or per-subject JSON) is a JSON list of records
    with ``question_id``, ``answer`` (gold letter), ``pred`` (the extracted letter, null when
    none), ``category`` and ``src``. Correct = ``pred == answer``; unparsed counts as wrong
    (the official scorer guesses at random instead)."""
    frames = []
    for remote in ds.files:
        for records in _json_lists(raw / remote.path):
            frame = pd.DataFrame.from_records(
                [r for r in records if isinstance(r, dict)],
                columns=["question_id", "answer", "pred", "category", "src"],
            )
            frame["agent"] = remote.agent
            frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table = table.drop_duplicates(["question_id", "agent"], keep="first")
    pred = table["pred"].where(table["pred"].notna() & (table["pred"] != ""), None)
    long = pd.DataFrame(
        {
            "item_id": table["question_id"].to_numpy(),
            "agent": table["agent"].to_numpy(),
            "answer": pred.to_numpy(),
            "gold": table["answer"].to_numpy(),
            "correct": (pred == table["answer"]).astype(int).to_numpy(),
            "category": table["category"].to_numpy(),
            "src": table["src"].to_numpy(),
        }
    )
    return responses_from_long(long, source=f"data set {ds.name}", answer_normalization="none")


def _json_lists(path: Path) -> list[list[Any]]:
    """The JSON lists in a file: the file itself, or each ``.json`` member of a zip."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return [
                _parse_json(archive.read(member), f"{path}!{member}")
                for member in archive.namelist()
                if member.endswith(".json") and not member.startswith("__MACOSX")
            ]
    return [_parse_json(path.read_bytes(), str(path))]


def _parse_json(data: bytes, where: str) -> list[Any]:
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReadError(f"{where}: is not valid JSON ({error}).") from None
    if not isinstance(document, list):
        raise ReadError(f"{where}: expected a JSON list of records.")
    return document


_ANSWER_FIELD = re.compile(r'"answer"\s*:\s*"(.*?)"', re.DOTALL)
_LETTER = re.compile(r"\b([A-J])\b")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def _zeroeval(raw: Path, ds: DataSet) -> Responses:
    """ZeroEval ``result_dirs/<benchmark>/<model>.json``: a JSON list with ``id``, ``output``
    (the model's text, a JSON object with an ``answer`` field) and the gold (``answer``, or
    ``correct_answer`` with ``choices`` for multiple choice). The answer field is extracted
    as ZeroEval's evaluators do; it is compared with the gold as a number (GSM8K), as a
    Python literal (CRUXEval) or as an option letter (MMLU-Redux)."""
    benchmark = ds.options.get("benchmark", "")
    rows = []
    for remote in ds.files:
        for record in _json_lists(raw / remote.path)[0]:
            if not isinstance(record, dict):
                continue
            output = record.get("output") or [""]
            text = output[0] if isinstance(output, list) and output else str(output)
            match = _ANSWER_FIELD.search(str(text))
            answer = match[1].strip() if match else None
            gold, correct = _zeroeval_score(benchmark, record, answer)
            rows.append((record.get("id"), remote.agent, answer, gold, correct))
    long = pd.DataFrame(rows, columns=["item_id", "agent", "answer", "gold", "correct"])
    long = long.drop_duplicates(["item_id", "agent"], keep="first")
    return responses_from_long(long, source=f"data set {ds.name}")


def _zeroeval_score(
    benchmark: str, record: dict[str, Any], answer: str | None
) -> tuple[str | None, int]:
    if benchmark == "mmlu-redux":
        choices = record.get("choices") or []
        right = record.get("correct_answer")
        gold = "ABCDEFGHIJ"[choices.index(right)] if right in choices else None
        letter = _LETTER.search(answer) if answer else None
        picked = letter[1] if letter else None
        return gold, int(picked is not None and picked == gold)
    gold_text = str(record.get("answer", "")).lstrip("#").strip()
    if benchmark == "gsm":
        return gold_text, int(
            _as_number(answer) is not None and _as_number(answer) == _as_number(gold_text)
        )
    return gold_text, int(answer is not None and _same_literal(answer, gold_text))


def _as_number(text: str | None) -> float | None:
    if text is None:
        return None
    match = _NUMBER.search(text.replace("$", ""))
    if match is None:
        return None
    try:
        return float(match[0].replace(",", ""))
    except ValueError:
        return None


def _same_literal(answer: str, gold: str) -> bool:
    try:
        return bool(ast.literal_eval(answer) == ast.literal_eval(gold))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return answer.strip() == gold.strip()


def _lm_eval(raw: Path, ds: DataSet) -> Responses:
    """Open LLM Leaderboard details are lm-eval sample files: read by `read_lm_eval_samples`
    with the registry's ``metric``."""
    from monoculture.io._lm_eval import read_lm_eval_samples

    return read_lm_eval_samples(raw, metric=ds.options.get("metric"))


CONVERTERS: dict[str, Callable[[Path, DataSet], Responses]] = {
    "lm_eval": _lm_eval,
    "mmlu_pro": _mmlu_pro,
    "zeroeval": _zeroeval,
}
