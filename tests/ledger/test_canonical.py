"""RFC 8785 canonical JSON: the RFC's own examples and its Appendix B numbers, the rejected
values, and properties (parses back to the value; key order does not matter)."""

from __future__ import annotations

import json
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monoculture.errors import InputError
from monoculture.ledger import canonical_json, es_number


def test_rfc8785_section_3_2_2_example() -> None:
    # RFC 8785 3.2.2 (input) and 3.2.3 (output): catches Python's float layout (1e+30 is
    # 1e30 in Python, 4.50 must be 4.5), escapes of ECMAScript's JSON.stringify (\u000f
    # lower-case, "/" not escaped, € as UTF-8), and unsorted keys.
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_sorts_keys_by_utf16_code_units() -> None:
    # RFC 8785 3.2.3's example: catches sorting by code points, which puts U+FB33 before the
    # emoji (U+1F600), while UTF-16 puts the emoji's surrogates (0xD83D...) first.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonical_json(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("bits", "expected"),
    [
        # RFC 8785 Appendix B: IEEE-754 bit patterns and ECMAScript's output.
        ("0000000000000001", "5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("8000000000000000", "0"),  # minus zero
    ],
)
def test_rfc8785_appendix_b_numbers(bits: str, expected: str) -> None:
    # Catches each switch of the ECMAScript layout: the 21-digit limit, the -6 limit,
    # exponent signs, trailing zeros, and minus zero.
    assert es_number(struct.unpack(">d", bytes.fromhex(bits))[0]) == expected


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, 2**53 + 1, -(2**53) - 1, {1: "a"}, {"a": {3.5}}, b"x"],
    ids=["nan", "inf", "-inf", "big int", "big negative int", "int key", "set", "bytes"],
)
def test_values_outside_the_subset_are_refused(value: object) -> None:
    # Catches NaN written as NaN (not JSON), integers silently rounded by a double,
    # int keys stringified by json, and arbitrary objects accepted.
    with pytest.raises(InputError):
        canonical_json(value)


def test_a_lone_surrogate_is_refused() -> None:
    # Catches invalid UTF-8 being written (or a crash with UnicodeEncodeError).
    with pytest.raises(InputError, match="surrogate"):
        canonical_json({"text": "\ud800"})


def test_integers_and_booleans() -> None:
    # Catches True written as 1 (bool is an int in Python) and 2**53 refused.
    assert canonical_json([True, False, 0, -5, 2**53]) == b"[true,false,0,-5,9007199254740992]"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _as_doubles(value: object) -> object:
    """JSON numbers are doubles: 65407130263041030 and 6.540713026304103e16 are one number."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [_as_doubles(v) for v in value]
    assert isinstance(value, dict)
    return {k: _as_doubles(v) for k, v in value.items()}


@given(json_values)
def test_canonical_json_parses_back_to_the_value(value: object) -> None:
    # Catches a number layout that changes the value (ES digits must round-trip), an escape
    # JSON cannot read, or a newline in the output (records are exported one per line).
    encoded = canonical_json(value)
    assert b"\n" not in encoded
    assert _as_doubles(json.loads(encoded)) == _as_doubles(value)


@given(st.dictionaries(st.text(), st.integers(0, 9), max_size=8))
def test_key_order_does_not_change_the_encoding(value: dict[str, int]) -> None:
    # Catches insertion order leaking into the record (then one decision hashes two ways).
    reordered = dict(reversed(list(value.items())))
    assert canonical_json(reordered) == canonical_json(value)
