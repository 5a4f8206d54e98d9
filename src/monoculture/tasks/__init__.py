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

__all__ = [
    "EASY_FAMILIES",
    "FAMILY_GROUPS",
    "HARD_FAMILIES",
    "PROBE_FAMILIES",
    "Item",
    "expand_families",
    "generate_probes",
    "load_items",
]
