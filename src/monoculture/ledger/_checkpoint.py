"""Signed checkpoints: the C2SP tlog-checkpoint body in a C2SP signed note, Ed25519.

A checkpoint ("tree head") is the text::

    <origin>
    <size, decimal>
    <root hash, base64>

followed by a blank line and one signature line per signer,
``— <key name> <base64(key ID || Ed25519 signature)>``; the signature covers the text up to
and including its last newline. The key ID is the first 4 bytes of
SHA-256(key name || 0x0A || 0x01 || public key) (C2SP signed-note, Ed25519 type 0x01).

Keys are text in the golang.org/x/mod/sumdb/note encodings, so Go's tooling reads them:
the private key ``PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || 32-byte seed)>`` and the
verifier key ``<name>+<key ID hex>+<base64(0x01 || 32-byte public key)>``. A private key is
read from a file or an environment variable, held only in memory, and never written
anywhere but the file `write_key_pair` creates (mode 0600); no message quotes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from monoculture.errors import InputError
from monoculture.ledger._merkle import HASH_SIZE, ProofError

__all__ = [
    "Checkpoint",
    "SigningKey",
    "VerifierKey",
    "load_signing_key",
    "load_verifier_key",
    "open_checkpoint",
    "sign_checkpoint",
    "write_key_pair",
]

_ED25519 = b"\x01"
_DASH = "\u2014 "
# C2SP: a key name is non-empty UTF-8 without Unicode spaces or "+".
_NAME = re.compile(r"[^\s+]+")


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public).digest()[:4]


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise InputError(
            f"key name {name!r}: must be non-empty without spaces or '+' (C2SP signed-note); "
            "use e.g. 'example.org/swarm-log'."
        )


@dataclass(frozen=True)
class VerifierKey:
    """A public key that checks checkpoint signatures: ``name`` and the raw 32-byte key.

    >>> key = SigningKey.from_seed("log", bytes(32)).verifier()
    >>> VerifierKey.from_text(key.to_text()) == key
    True
    """

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        """First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)."""
        return _key_id(self.name, self.public)

    def to_text(self) -> str:
        """``<name>+<key ID hex>+<base64(0x01 || public key)>``."""
        encoded = base64.b64encode(_ED25519 + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_text(cls, text: str, *, source: str = "the public key") -> VerifierKey:
        """Parse a verifier key; `InputError` naming ``source`` when it is malformed."""
        parts = text.strip().split("+", 2)
        fix = "give the .pub file `monoculture ledger keygen` wrote (one line: name+id+key)."
        if len(parts) != 3:
            raise InputError(f"{source}: not a verifier key (name+id+key); {fix}")
        name, id_hex, encoded = parts
        _check_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise InputError(f"{source}: the key is not valid base64; {fix}") from None
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise InputError(f"{source}: not an Ed25519 key (type 0x01, 32 bytes); {fix}")
        key = cls(name, raw[1:])
        if key.key_id.hex() != id_hex.lower():
            raise InputError(f"{source}: the key ID does not match the key; {fix}")
        return key

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key with its C2SP name. Its ``repr`` never shows the key.

    >>> key = SigningKey.from_seed("log", bytes(32))
    >>> key
    SigningKey(name='log')
    >>> key.verifier().verify(b"hi", key.sign(b"hi"))
    True
    """

    name: str
    _private: Ed25519PrivateKey = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        """A new random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> SigningKey:
        """The key whose RFC 8032 secret (seed) is the 32 bytes ``seed``."""
        if len(seed) != 32:
            raise InputError(f"an Ed25519 seed is 32 bytes; got {len(seed)}.")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_text(cls, text: str, *, source: str = "the signing key") -> SigningKey:
        """Parse ``PRIVATE+KEY+<name>+<id>+<base64>``; the message never quotes the text."""
        parts = text.strip().split("+", 4)
        fix = "give the .key file `monoculture ledger keygen` wrote (PRIVATE+KEY+...)."
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise InputError(f"{source}: not a signing key; {fix}")
        _, _, name, id_hex, encoded = parts
        _check_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise InputError(f"{source}: the key is not valid base64; {fix}") from None
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise InputError(f"{source}: not an Ed25519 key (type 0x01, 32 bytes); {fix}")
        key = cls.from_seed(name, raw[1:])
        if key.verifier().key_id.hex() != id_hex.lower():
            raise InputError(f"{source}: the key ID does not match the key; {fix}")
        return key

    def to_text(self) -> str:
        """``PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || seed)>``: secret; keep it so."""
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        key_id = self.verifier().key_id.hex()
        return f"PRIVATE+KEY+{self.name}+{key_id}+{base64.b64encode(_ED25519 + seed).decode()}"

    def verifier(self) -> VerifierKey:
        """The matching public key."""
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return VerifierKey(self.name, public)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (RFC 8032, deterministic)."""
        return self._private.sign(message)


def load_signing_key(*, path: Path | None = None, env: str | None = None) -> SigningKey:
    """The signing key in the file ``path`` or in the environment variable ``env`` (exactly
    one of them). Errors name the file or variable, never the key."""
    if path is not None and env is not None:
        raise InputError("give the signing key as a file or an environment variable, not both.")
    if env is not None:
        text = os.environ.get(env)
        if not text:
            raise InputError(
                f"environment variable {env} is not set or empty: it should hold a signing "
                f'key (PRIVATE+KEY+...); set it, e.g. export {env}="$(cat log.key)".'
            )
        return SigningKey.from_text(text, source=f"environment variable {env}")
    if path is None:
        raise InputError("give the signing key as a file or an environment variable.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InputError(
            f"{path}: cannot read the signing key ({reason}); check the path and its "
            "permissions, or create one with `monoculture ledger keygen`."
        ) from None
    return SigningKey.from_text(text, source=str(path))


def load_verifier_key(path: Path) -> VerifierKey:
    """The verifier key in the file ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InputError(
            f"{path}: cannot read the public key ({reason}); give the .pub file "
            "`monoculture ledger keygen` wrote."
        ) from None
    return VerifierKey.from_text(text, source=str(path))


def write_key_pair(key: SigningKey, private_path: Path, public_path: Path) -> None:
    """Write the private key (created with mode 0600, refusing to overwrite) and the public
    key. The private file is created with its final mode, so it is never readable by others,
    not even for a moment."""
    for path in (private_path, public_path):
        if path.exists():
            raise InputError(f"{path}: exists; choose another name or move it away.")
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(key.to_text() + "\n")
    public_path.write_text(key.verifier().to_text() + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's ``origin`` (its name), its ``size`` and the RFC 9162 ``root``
    of its first ``size`` records; ``extensions`` are extra body lines.

    >>> Checkpoint("example.org/log", 2, bytes(32)).text()
    'example.org/log\\n2\\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\\n'
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The note text the signatures cover."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey) -> str:
    """The signed note: the checkpoint's text, a blank line, and ``key``'s signature line.

    >>> key = SigningKey.from_seed("log", bytes(32))
    >>> note = sign_checkpoint(Checkpoint("log", 0, bytes(32)), key)
    >>> open_checkpoint(note, key.verifier()).size
    0
    """
    if "\n" in checkpoint.origin or not checkpoint.origin:
        raise InputError(f"origin {checkpoint.origin!r}: must be one non-empty line.")
    text = checkpoint.text()
    signature = key.verifier().key_id + key.sign(text.encode())
    return f"{text}\n{_DASH}{key.name} {base64.b64encode(signature).decode()}\n"


def open_checkpoint(note: str, key: VerifierKey, *, source: str = "the checkpoint") -> Checkpoint:
    """The checkpoint in the signed ``note`` if ``key`` signed it.

    Raises `InputError` when the note is malformed and `ProofError` when no signature by
    ``key`` verifies (another key's signature, or a text altered after signing).
    """
    fix = "give the file `monoculture ledger checkpoint` wrote."
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise InputError(f"{source}: a signed note holds no control characters but newline.")
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not text:
        raise InputError(f"{source}: not a signed note (text, blank line, signatures); {fix}")
    text += "\n"
    lines = text.split("\n")[:-1]
    if len(lines) < 3:
        raise InputError(f"{source}: a checkpoint has origin, size and root lines; {fix}")
    origin, size_text, root_text, *extensions = lines
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_text) or int(size_text) >= 2**64:
        raise InputError(f"{source}: line 2 must be the tree size in decimal; {fix}")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        root = b""
    if len(root) != HASH_SIZE:
        raise InputError(f"{source}: line 3 must be a base64 SHA-256 root hash; {fix}")
    if not signatures.endswith("\n"):
        raise InputError(f"{source}: the signature lines must end with a newline; {fix}")
    for line in signatures[:-1].split("\n"):
        match = re.fullmatch(rf"{_DASH}(\S+) (\S+)", line)
        if match is None:
            raise InputError(f"{source}: malformed signature line {line!r}; {fix}")
        if match.group(1) != key.name:
            continue  # C2SP: signatures by unknown keys are ignored
        try:
            signature = base64.b64decode(match.group(2), validate=True)
        except binascii.Error:
            raise InputError(f"{source}: a signature is not valid base64; {fix}") from None
        if signature[:4] != key.key_id:
            continue
        if key.verify(text.encode(), signature[4:]):
            return Checkpoint(origin, int(size_text), root, tuple(extensions))
        raise ProofError(
            f"{source}: the signature by {key.name} does not verify: the checkpoint was "
            "altered after signing, or signed by another key of the same name."
        )
    raise ProofError(
        f"{source}: not signed by the key {key.name}+{key.key_id.hex()} (no signature "
        "line with its name and key ID)."
    )
