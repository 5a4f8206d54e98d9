"""Generated probe families with exact gold answers and unlimited fresh items.

Hard families (each seeded, in ``"free"`` and ``"choice"`` form): multi-digit arithmetic,
decimal comparison (9.11 vs 9.9), letter counting, date arithmetic, syllogisms, and modified
classic riddles (the familiar answer is wrong for the modified version). Multiple-choice
distractors are the errors a model tends to make (off-by-one, digit-wise comparison, the
classic riddle's answer), so correlated mistakes have somewhere to go.

Easy-knowledge families, from small tables in this module, for models of a few hundred
million parameters (which are at chance on the hard ones): capitals, colours, animal
sounds, opposites, counts, everyday objects. Their distractors are other answers from the
same table. ``"hard"`` and ``"easy"`` name each group in ``families``.

``word_problems`` (in no group): two-step arithmetic word problems whose items carry their
sub-questions and intermediate answer in ``attrs`` (`monoculture.tasks.word_problems`), for
the orchestrator topology.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Literal

import numpy as np

from monoculture.errors import InputError
from monoculture.tasks.items import LETTERS, Item
from monoculture.tasks.word_problems import word_problem

__all__ = [
    "EASY_FAMILIES",
    "FAMILY_GROUPS",
    "HARD_FAMILIES",
    "PROBE_FAMILIES",
    "expand_families",
    "generate_probes",
]

Form = Literal["free", "choice"]
# question, gold, wrong answers[, the item's attrs (e.g. a word problem's sub-questions)]
_Generator = Callable[
    [np.random.Generator],
    tuple[str, str, list[str]] | tuple[str, str, list[str], dict[str, str]],
]


def _arithmetic(rng: np.random.Generator) -> tuple[str, str, list[str]]:
    a, b = int(rng.integers(100, 999)), int(rng.integers(10, 99))
    answer = a * b
    wrong = [answer + 10, answer - 10, answer + int(rng.integers(1, 9)) * 100]
    return f"What is {a} x {b}?", str(answer), [str(w) for w in wrong]


def _decimals(rng: np.random.Generator) -> tuple[str, str, list[str]]:
    whole = int(rng.integers(1, 20))
    short = int(rng.integers(2, 9))  # e.g. 9.9
    long = int(rng.integers(10, short * 10))  # e.g. 9.11 < 9.9 although 11 > 9
    small, large = f"{whole}.{long}", f"{whole}.{short}"
    return (f"Which number is larger: {small} or {large}?", large, [small, "They are equal"])


def _letters(rng: np.random.Generator) -> tuple[str, str, list[str]]:
    words = [
        "strawberry",
        "bookkeeper",
        "mississippi",
        "committee",
        "balloon",
        "banana",
        "parallel",
        "assessment",
        "successful",
        "occurrence",
    ]
    word = words[int(rng.integers(len(words)))]
    # sorted(): a set's order changes between processes, and ties are common.
    letter = max(sorted(set(word)), key=word.count)
    count = word.count(letter)
    return (
        f"How many times does the letter '{letter}' appear in '{word}'?",
        str(count),
        [str(count - 1), str(count + 1)],
    )


def _dates(rng: np.random.Generator) -> tuple[str, str, list[str]]:
    start = dt.date(2020, 1, 1) + dt.timedelta(days=int(rng.integers(0, 1500)))
    days = int(rng.integers(20, 200))
    end = start + dt.timedelta(days=days)
    fmt = "%B %d, %Y"
    wrong = [(end + dt.timedelta(days=d)).strftime(fmt) for d in (-1, 1, 30)]
    return (f"What date is {days} days after {start.strftime(fmt)}?", end.strftime(fmt), wrong)


def _syllogisms(rng: np.random.Generator) -> tuple[str, str, list[str]]:
    things = [
        ("bloops", "razzies", "lazzies"),
        ("wugs", "daxes", "feps"),
        ("zorbs", "quibs", "plonks"),
        ("tovs", "brils", "snarks"),
    ]
    a, b, c = things[int(rng.integers(len(things)))]
    valid = bool(rng.integers(2))
    if valid:
        text = f"All {a} are {b}. All {b} are {c}. Are all {a} necessarily {c}?"
    else:
        text = f"All {a} are {b}. Some {b} are {c}. Are all {a} necessarily {c}?"
    return text, "yes" if valid else "no", ["no" if valid else "yes", "cannot tell"]


def _riddles(rng: np.random.Generator) -> tuple[str, str, list[str]]:
    kind = int(rng.integers(3))
    if kind == 0:
        bat = int(rng.integers(2, 9))
        ball = int(rng.integers(1, 9)) * 5
        total = bat * 100 + ball
        # Modified bat-and-ball: the bat costs exactly {bat} dollars, so no trick at all.
        return (
            f"A bat costs exactly {bat} dollars and a ball costs {ball} cents. Together "
            f"they cost {total} cents. How many cents does the ball cost?",
            str(ball),
            [str((total - bat * 100 - ball) + 10), str(ball + 5)],
        )
    if kind == 1:
        weight = int(rng.integers(2, 9))
        return (
            f"Which is heavier: {weight} kilograms of feathers or 1 kilogram of steel?",
            "feathers",
            ["steel", "They weigh the same"],
        )
    n = int(rng.integers(3, 9))
    return (
        f"A farmer has {n} sheep. All of them run away except one. How many sheep are left?",
        "1",
        [str(n - 1), "0"],
    )


# Easy knowledge: (question, answer) pairs; distractors are other answers of the same table.
_CAPITALS = [
    ("France", "Paris"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Germany", "Berlin"),
    ("Japan", "Tokyo"),
    ("England", "London"),
    ("Russia", "Moscow"),
    ("Egypt", "Cairo"),
    ("Greece", "Athens"),
    ("China", "Beijing"),
    ("Portugal", "Lisbon"),
    ("Ireland", "Dublin"),
    ("Austria", "Vienna"),
    ("Norway", "Oslo"),
    ("Sweden", "Stockholm"),
    ("Poland", "Warsaw"),
    ("Hungary", "Budapest"),
    ("Thailand", "Bangkok"),
    ("South Korea", "Seoul"),
    ("Argentina", "Buenos Aires"),
]
_COLOURS = [
    ("a banana", "yellow"),
    ("grass", "green"),
    ("the sky on a clear day", "blue"),
    ("snow", "white"),
    ("coal", "black"),
    ("a ripe tomato", "red"),
    ("an orange", "orange"),
    ("a lemon", "yellow"),
    ("milk", "white"),
    ("a strawberry", "red"),
]
_SOUNDS = [
    ("a dog", "bark"),
    ("a cat", "meow"),
    ("a cow", "moo"),
    ("a duck", "quack"),
    ("a sheep", "baa"),
    ("a lion", "roar"),
    ("a snake", "hiss"),
    ("an owl", "hoot"),
    ("a pig", "oink"),
    ("a horse", "neigh"),
]
_OPPOSITES = [
    ("hot", "cold"),
    ("big", "small"),
    ("up", "down"),
    ("day", "night"),
    ("fast", "slow"),
    ("old", "young"),
    ("happy", "sad"),
    ("open", "closed"),
    ("wet", "dry"),
    ("light", "dark"),
    ("full", "empty"),
    ("early", "late"),
    ("good", "bad"),
    ("rich", "poor"),
    ("hard", "soft"),
    ("strong", "weak"),
    ("left", "right"),
    ("win", "lose"),
    ("love", "hate"),
    ("clean", "dirty"),
]
_COUNTS = [
    ("legs does a spider have", "eight"),
    ("legs does a dog have", "four"),
    ("legs does a bird have", "two"),
    ("days are in a week", "seven"),
    ("months are in a year", "twelve"),
    ("sides does a triangle have", "three"),
    ("wheels does a bicycle have", "two"),
    ("fingers are on one hand", "five"),
    ("sides does a square have", "four"),
    ("legs does an insect have", "six"),
    ("hours are in a day", "twenty-four"),
]
_OBJECTS = [
    ("cut paper", "scissors"),
    ("write on paper", "a pen"),
    ("tell the time", "a clock"),
    ("sweep the floor", "a broom"),
    ("drink tea from", "a cup"),
    ("unlock a door", "a key"),
    ("eat soup", "a spoon"),
    ("dry yourself after a bath", "a towel"),
    ("see in the dark", "a torch"),
    ("hit a nail", "a hammer"),
    ("sleep on", "a bed"),
    ("brush your teeth", "a toothbrush"),
    ("comb your hair", "a comb"),
    ("take a photo", "a camera"),
    ("boil water", "a kettle"),
    ("keep food cold", "a fridge"),
    ("wash your hands", "soap"),
    ("carry books to school", "a backpack"),
    ("keep dry in the rain", "an umbrella"),
]


def _from_table(
    table: list[tuple[str, str]], template: str
) -> Callable[[np.random.Generator], tuple[str, str, list[str]]]:
    answers = list(dict.fromkeys(answer for _, answer in table))

    def generate(rng: np.random.Generator) -> tuple[str, str, list[str]]:
        subject, answer = table[int(rng.integers(len(table)))]
        others = [a for a in answers if a != answer]
        wrong = [others[int(k)] for k in rng.choice(len(others), 3, replace=False)]
        return template.format(subject), answer, wrong

    return generate


PROBE_FAMILIES: dict[str, _Generator] = {
    "arithmetic": _arithmetic,
    "decimals": _decimals,
    "letters": _letters,
    "dates": _dates,
    "syllogisms": _syllogisms,
    "riddles": _riddles,
    "capitals": _from_table(_CAPITALS, "What is the capital of {}?"),
    "colours": _from_table(_COLOURS, "What colour is {}?"),
    "sounds": _from_table(_SOUNDS, "What sound does {} make?"),
    "opposites": _from_table(_OPPOSITES, "What is the opposite of {}?"),
    "counts": _from_table(_COUNTS, "How many {}?"),
    "objects": _from_table(_OBJECTS, "What do you use to {}?"),
    "word_problems": word_problem,
}

HARD_FAMILIES = ("arithmetic", "decimals", "letters", "dates", "syllogisms", "riddles")
"""The reasoning probes: the default of `generate_probes`."""
EASY_FAMILIES = ("capitals", "colours", "sounds", "opposites", "counts", "objects")
"""Everyday knowledge a model of a few hundred million parameters can have."""
FAMILY_GROUPS = {"hard": HARD_FAMILIES, "easy": EASY_FAMILIES}
"""Names that stand for a group of families in ``families``."""


def expand_families(families: list[str] | None) -> list[str]:
    """The family names ``families`` stands for (groups expanded, order kept, no repeats);
    the hard families when None."""
    chosen = families if families else list(HARD_FAMILIES)
    names: list[str] = []
    for name in chosen:
        names += FAMILY_GROUPS.get(name, (name,))
    unknown = [name for name in names if name not in PROBE_FAMILIES]
    if unknown:
        raise InputError(
            f"probes: unknown families {unknown}; choose from {sorted(PROBE_FAMILIES)} or the "
            f"groups {sorted(FAMILY_GROUPS)}."
        )
    return list(dict.fromkeys(names))


def generate_probes(
    n_items: int,
    *,
    families: list[str] | None = None,
    form: Form = "choice",
    seed: int = 0,
) -> list[Item]:
    """``n_items`` fresh items cycling through the families (default: the hard ones; the
    groups ``"hard"`` and ``"easy"`` may be named); seeded and exact."""
    chosen = expand_families(families)
    if form not in ("free", "choice"):
        raise InputError(f"probes: form must be 'free' or 'choice'; got {form!r}.")
    rng = np.random.default_rng(seed)
    items = []
    for k in range(n_items):
        family = chosen[k % len(chosen)]
        question, answer, wrong, *more = PROBE_FAMILIES[family](rng)
        attrs = dict(more[0]) if more else {}
        if form == "free":
            items.append(Item(f"{family}-{k:05d}", question, answer, (), family, attrs))
            continue
        options = [answer, *dict.fromkeys(w for w in wrong if w != answer)]
        order = rng.permutation(len(options))
        shuffled = tuple(options[i] for i in order)
        gold = LETTERS[shuffled.index(answer)]
        items.append(Item(f"{family}-{k:05d}", question, gold, shuffled, family, attrs))
    return items
