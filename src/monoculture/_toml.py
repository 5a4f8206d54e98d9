"""Reading TOML configuration into pydantic models, with errors that name key and line."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from monoculture.errors import InputError, ReadError

Model = TypeVar("Model", bound=BaseModel)


def _assigns(line: str, key: str) -> bool:
    return line.strip().startswith((f"{key} ", f"{key}="))


def line_of(text: str, key: str) -> str:
    """`` (line N)`` for the first line that assigns ``key``, else empty."""
    for number, line in enumerate(text.splitlines(), start=1):
        if _assigns(line, key):
            return f" (line {number})"
    return ""


def _assignments(text: str, key: str) -> int:
    """How many lines assign ``key``."""
    return sum(_assigns(line, key) for line in text.splitlines())


def read_toml(path: str | Path) -> tuple[dict[str, Any], str]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ReadError(f"{path}: cannot be read: {error.strerror}.") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as error:
        raise ReadError(f"{path}: not valid TOML: {error}.") from None


def validate(model: type[Model], raw: dict[str, Any], text: str, path: str | Path) -> Model:
    """``model.model_validate(raw)``; a failure names the key, its line and the value."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        parts = [str(p) for p in first["loc"] if not str(p).endswith("Config")]
        key = ".".join(parts)
        # A key inside an array of tables ([[environment.designs]]) may share its name with
        # keys elsewhere (name = ...): then no line rather than perhaps the wrong one.
        in_array = any(isinstance(p, int) for p in first["loc"])
        ambiguous = in_array and bool(parts) and _assignments(text, parts[-1]) > 1
        line = line_of(text, parts[-1]) if parts and not ambiguous else ""
        message = str(first["msg"]).removeprefix("Value error, ").rstrip(".")
        # The value is echoed for plain settings only: a whole table says nothing, and a
        # field meant to name a secret may hold the secret itself.
        secret = any(word in key.lower() for word in _SECRET_WORDS)
        says_it = "got " in message
        got = "" if not parts or secret or says_it else f" (got {first.get('input')!r})"
        where = f"key {key!r}{line}" if parts else "the configuration"
        raise InputError(f"{path}: {where}: {message}{got}.") from None


_SECRET_WORDS = ("key", "token", "secret", "password")
