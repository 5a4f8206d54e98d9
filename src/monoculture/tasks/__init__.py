"""Item sets with gold answers: JSONL files and generated probe families."""

from monoculture.tasks.items import Item, load_items
from monoculture.tasks.probes import (
    EASY_FAMILIES,
    FAMILY_GROUPS,
    HARD_FAMILIES,
    PROBE_FAMILIES,
    expand_families,
    generate_probes,
)
from monoculture.tasks.word_problems import generate_word_problems

__all__ = [
    "EASY_FAMILIES",
    "FAMILY_GROUPS",
    "HARD_FAMILIES",
    "PROBE_FAMILIES",
    "Item",
    "expand_families",
    "generate_probes",
    "generate_word_problems",
    "load_items",
]
