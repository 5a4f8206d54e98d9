"""The record encoding: JSON canonicalised as RFC 8785 (JCS) defines it.

Why JCS: a record must hash the same wherever it is re-encoded (another language, another
JSON library), and JCS is the one published canonical JSON with implementations in many
languages. The subset implemented here:

- objects with string keys, sorted by their UTF-16 code units (RFC 8785 3.2.3);
- arrays (Python lists and tuples), strings, ``true``, ``false``, ``null``;
- numbers as IEEE-754 doubles written as ECMAScript's Number.prototype.toString does
  (RFC 8785 3.2.2.3): finite floats, and integers of magnitude at most 2**53 (beyond that a
  double cannot hold them exactly: store them as strings);
- strings escaped as ECMAScript's JSON.stringify does: ``\\" \\\\ \\b \\f \\n \\r \\t``, other
  characters below U+0020 as ``\\u00xx`` (lower-case hex), everything else as UTF-8.

Rejected with `InputError`: NaN and infinities, larger integers, non-string keys, strings
with lone surrogates (not valid UTF-8), and any other type. The output never contains a
newline byte, so records can be exported one per line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from monoculture.errors import InputError

__all__ = ["canonical_json", "es_number"]

_MAX_EXACT_INT = 2**53
# json's C-accelerated string encoder with ensure_ascii=False: the escapes JCS requires.
_encode_string: Callable[[str], str] = json.encoder.encode_basestring


def es_number(value: float) -> str:
    """``value`` written as ECMAScript's Number.prototype.toString writes it.

    Python's ``repr`` gives the shortest digits that round-trip (the digits ECMAScript
    chooses); only their layout differs (``1e+21`` not ``1e21``, ``1e-7`` not ``1e-07``).

    >>> [es_number(x) for x in (4.5, 1e21, 1e-7, 0.002, -0.0, 123.0)]
    ['4.5', '1e+21', '1e-7', '0.002', '0', '123']
    """
    if not math.isfinite(value):
        raise InputError(
            f"a record may not hold {value!r}: JSON (RFC 8785) has no NaN or infinity; "
            "store None or a string instead."
        )
    if value == 0:
        return "0"  # -0 too
    text = float.__repr__(value)  # not repr(): numpy's float64 repr is 'np.float64(...)'
    sign = "-" if text[0] == "-" else ""
    mantissa, _, exponent_text = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    exponent = (int(exponent_text) if exponent_text else 0) - len(fraction)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = k + exponent  # value = 0.digits * 10**n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        e = n - 1
        mark = "+" if e >= 0 else "-"
        head = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{head}e{mark}{abs(e)}"
    return sign + body


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _encode(value: Any, out: list[str]) -> None:
    # Ordered by how often ledger records hold each type.
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if abs(value) > _MAX_EXACT_INT:
            raise InputError(
                f"a record may not hold the integer {value}: beyond 2**53 a JSON number "
                "(an IEEE double, RFC 8785) cannot hold it exactly; store it as a string."
            )
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(es_number(value))
    elif isinstance(value, dict):
        keys = list(value)
        for key in keys:
            if not isinstance(key, str):
                raise InputError(
                    f"a record's object keys must be strings; got {key!r} "
                    f"({type(key).__name__}). Convert the key with str()."
                )
        # Code-point order equals UTF-16 order unless a key holds a character above U+D7FF.
        if any(key and max(key) > "\ud7ff" for key in keys):
            keys.sort(key=_utf16_key)
        else:
            keys.sort()
        out.append("{")
        first = True
        for key in keys:
            if not first:
                out.append(",")
            first = False
            out.append(_encode_string(key))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, element in enumerate(value):
            if i:
                out.append(",")
            _encode(element, out)
        out.append("]")
    else:
        raise InputError(
            f"a record may hold only JSON values (dict, list, str, int, float, bool, None); "
            f"got {type(value).__name__}. Convert it first (e.g. str() or .tolist())."
        )


def canonical_json(value: Any) -> bytes:
    """``value`` in RFC 8785 canonical JSON, as UTF-8 bytes.

    >>> canonical_json({"b": [1, 2.5, None], "a": "é\\n"})
    b'{"a":"\\xc3\\xa9\\\\n","b":[1,2.5,null]}'
    """
    out: list[str] = []
    _encode(value, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            "a record's string holds a lone surrogate (not valid Unicode, so not valid "
            "UTF-8 JSON); decode its source with errors='replace' first."
        ) from None
