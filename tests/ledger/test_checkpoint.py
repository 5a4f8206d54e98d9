"""Signing: RFC 8032's Ed25519 test 1 through the signing path, the Go sumdb/note reference
key and signature, checkpoint notes round trip, and signatures that must be refused."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from monoculture.errors import InputError
from monoculture.ledger import (
    Checkpoint,
    ProofError,
    SigningKey,
    VerifierKey,
    load_signing_key,
    load_verifier_key,
    open_checkpoint,
    sign_checkpoint,
    write_key_pair,
)

# RFC 8032 section 7.1, TEST 1.
RFC8032_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)

# golang.org/x/mod/sumdb/note's documented example: key, text and the signed note's line.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)


def test_rfc8032_test_1_through_the_signing_path() -> None:
    # Catches the seed read as something else (e.g. hashed, or the expanded key), or a
    # signature over other bytes than the message: the empty message must give RFC 8032's
    # signature exactly, and the verifier must accept it.
    key = SigningKey.from_seed("rfc8032", bytes.fromhex(RFC8032_SECRET))
    assert key.verifier().public.hex() == RFC8032_PUBLIC
    assert key.sign(b"").hex() == RFC8032_SIGNATURE
    assert key.verifier().verify(b"", bytes.fromhex(RFC8032_SIGNATURE))
    assert not key.verifier().verify(b"x", bytes.fromhex(RFC8032_SIGNATURE))


def test_go_sumdb_note_key_encodings_and_signature() -> None:
    # Catches a key ID computed from other bytes (C2SP: SHA-256(name || 0x0A || 0x01 ||
    # key)[:4]), a missing algorithm byte, or a signature line laid out otherwise than
    # base64(key ID || signature): all against Go's reference implementation's example.
    key = SigningKey.from_text(GO_SKEY)
    assert key.name == "PeterNeumann"
    assert key.to_text() == GO_SKEY
    assert key.verifier().to_text() == GO_VKEY
    assert VerifierKey.from_text(GO_VKEY) == key.verifier()
    line = base64.b64encode(key.verifier().key_id + key.sign(GO_TEXT.encode())).decode()
    assert line == GO_SIGNATURE


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    # Catches a body laid out otherwise than C2SP tlog-checkpoint (origin, size, base64
    # root), a signature not covering the final newline, or a parse that loses a field.
    key = SigningKey.generate("example.org/log")
    checkpoint = Checkpoint("example.org/log", 1234, bytes(range(32)), ("extra line",))
    note = sign_checkpoint(checkpoint, key)
    body = "example.org/log\n1234\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nextra line\n"
    assert note.startswith(body + "\n\u2014 example.org/log ")
    assert open_checkpoint(note, key.verifier()) == checkpoint


def test_a_signature_by_another_key_is_refused() -> None:
    # Catches a verifier that accepts any well-formed signature line: another key of the
    # same name (so the name matches but not the key ID), or another name altogether.
    checkpoint = Checkpoint("log", 3, bytes(32))
    note = sign_checkpoint(checkpoint, SigningKey.generate("log"))
    with pytest.raises(ProofError, match="not signed by"):
        open_checkpoint(note, SigningKey.generate("log").verifier())
    with pytest.raises(ProofError, match="not signed by"):
        open_checkpoint(note, SigningKey.generate("other").verifier())


@pytest.mark.parametrize(("old", "new"), [("\n3\n", "\n4\n"), ("log\n", "lag\n"), ("AAAA", "AAAB")])
def test_an_altered_checkpoint_is_refused(old: str, new: str) -> None:
    # Catches a signature that does not cover the size, the origin or the root.
    key = SigningKey.generate("log")
    note = sign_checkpoint(Checkpoint("log", 3, bytes(32)), key)
    with pytest.raises(ProofError, match="does not verify"):
        open_checkpoint(note.replace(old, new, 1), key.verifier())


@pytest.mark.parametrize(
    "note",
    ["", "log\n3\n", "log\nthree\nAAAA\n\n\u2014 log x\n", "log\n3\nAA==\n\n\u2014 log x\n"],
    ids=["empty", "unsigned", "bad size", "bad root"],
)
def test_malformed_checkpoints_are_input_errors(note: str) -> None:
    # Catches a crash (IndexError, ValueError) instead of a message with the fix.
    with pytest.raises(InputError, match="checkpoint"):
        open_checkpoint(note, SigningKey.generate("log").verifier())


def test_the_key_never_shows_in_repr_or_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    # Catches a dataclass repr that prints the private key (into logs and tracebacks), and
    # an error message that quotes a malformed key.
    key = SigningKey.from_text(GO_SKEY)
    assert "AYEK" not in repr(key)
    broken = GO_SKEY[:-4] + "!!!!"
    monkeypatch.setenv("SECRET_KEY_VAR", broken)
    with pytest.raises(InputError) as raised:
        load_signing_key(env="SECRET_KEY_VAR")
    assert "SECRET_KEY_VAR" in str(raised.value)
    assert "AYEK" not in str(raised.value)


def test_key_files_private_mode_0600_and_loadable(tmp_path: Path) -> None:
    # Catches a private key readable by others, an overwritten key, or files that do not
    # load back.
    key = SigningKey.generate("example.org/log")
    write_key_pair(key, tmp_path / "k.key", tmp_path / "k.pub")
    assert stat.S_IMODE(os.stat(tmp_path / "k.key").st_mode) == 0o600
    assert load_signing_key(path=tmp_path / "k.key").to_text() == key.to_text()
    assert load_verifier_key(tmp_path / "k.pub") == key.verifier()
    with pytest.raises(InputError, match="exists"):
        write_key_pair(key, tmp_path / "k.key", tmp_path / "other.pub")


def test_unreadable_or_missing_keys_are_input_errors(tmp_path: Path) -> None:
    # Catches an OSError traceback instead of a message naming the file and the fix.
    with pytest.raises(InputError, match="keygen"):
        load_signing_key(path=tmp_path / "absent.key")
    with pytest.raises(InputError, match="not set"):
        load_signing_key(env="MONOCULTURE_TEST_UNSET_VARIABLE")
    (tmp_path / "bad.pub").write_text("not a key\n")
    with pytest.raises(InputError, match="verifier key"):
        load_verifier_key(tmp_path / "bad.pub")
