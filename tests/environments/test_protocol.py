"""Parsing agents' answers into actions, and the package's public names."""

from __future__ import annotations

import math

import numpy as np
import pytest

import monoculture.environments as environments
from monoculture.environments import ActionSpace, Commons, CommonsPolicy, DriftingEstimation, play
from monoculture.errors import InputError

COMMONS = Commons().action_space  # whole tons in [0, 100]; default 0 (GovSim's parser)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'll take 12 tons.", (12.0, True)),
        ("Answer: 7 tons", (7.0, True)),
        ("  30\n", (30.0, True)),
        ("12.0", (12.0, True)),
        ("100", (100.0, True)),
        ("0", (0.0, True)),
        # Invalid, replaced by the default 0 and flagged; none of them is guessed:
        ("twelve", (0.0, False)),  # number words are not read
        ("-3", (0.0, False)),  # below the range (GovSim's \d+ would have read 3)
        ("1e9", (0.0, False)),  # above the range (GovSim's \d+ would have read 1)
        ("101", (0.0, False)),
        ("12.5", (0.0, False)),  # a fraction where whole tons are asked for
        ("1,000", (0.0, False)),  # thousands separators are read: 1000, out of range
        ("", (0.0, False)),
        ("   ", (0.0, False)),
        (None, (0.0, False)),
        ("I would rather not fish.", (0.0, False)),
    ],
)
def test_parse_action_on_messy_text(text: str | None, expected: tuple[float, bool]) -> None:
    # Catches clipping or rounding an invalid answer into a valid-looking one.
    assert COMMONS.parse_action(text) == expected


def test_parse_action_reads_signs_decimals_and_exponents_in_a_real_range() -> None:
    space = DriftingEstimation().action_space  # [start - 1000, start + 1000], default NaN
    assert space.parse_action("My estimate is 51.25.") == (51.25, True)
    assert space.parse_action("-3") == (-3.0, True)
    assert space.parse_action("5e2") == (500.0, True)
    assert space.parse_action(".5") == (0.5, True)
    assert space.parse_action("1,020.5") == (1020.5, True)
    value, valid = space.parse_action("1e9")
    assert math.isnan(value)
    assert not valid
    value, valid = space.parse_action("about fifty")
    assert math.isnan(value)
    assert not valid


def test_option_spaces_read_the_text_or_the_letter() -> None:
    space = ActionSpace(kind="option", options=("cooperate", "defect"), default=0.0)
    assert space.letters == ("A", "B")
    assert space.parse_action("Defect") == (1.0, True)
    assert space.parse_action("B") == (1.0, True)
    assert space.parse_action("(A)") == (0.0, True)
    assert space.parse_action("maybe") == (0.0, False)
    assert space.check(np.array([0, 1, 2, 0.5])).tolist() == [True, True, False, False]
    with pytest.raises(InputError, match="options"):
        ActionSpace(kind="option")


def test_check_matches_parse_action_on_numbers() -> None:
    # The vectorised check and the text parser must accept the same actions.
    values = np.array([-1, 0, 3, 12.5, 100, 101, np.nan, np.inf])
    parsed = [COMMONS.parse_action(repr(float(v)))[1] for v in values[:6]]
    assert COMMONS.check(values[:6]).tolist() == parsed
    assert not COMMONS.check(values[6:]).any()


def test_play_refuses_a_policy_of_the_wrong_shape() -> None:
    class Wrong:
        def reset(self, runs: int, n_agents: int, rng: np.random.Generator) -> dict[str, object]:
            return {}

        def act(self, observation: object, memory: object, rng: object) -> np.ndarray:
            return np.zeros(3)

    with pytest.raises(InputError, match="shape"):
        play(Commons(), Wrong(), runs=2)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="runs"):
        play(Commons(), CommonsPolicy(), runs=0)


def test_public_names_are_sorted_and_importable() -> None:
    names = environments.__all__
    # ruff's isort-style order: constants, then classes, then functions.
    assert list(names) == sorted(names, key=lambda n: (not n.isupper(), n[0].islower(), n))
    for name in names:
        assert hasattr(environments, name), name
