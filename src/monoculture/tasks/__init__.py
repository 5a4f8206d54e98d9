"""Item sets with gold answers: JSONL files and generated probe families."""

from monoculture.tasks.items import Item, load_items
from monoculture.tasks.probes import PROBE_FAMILIES, generate_probes

__all__ = ["PROBE_FAMILIES", "Item", "generate_probes", "load_items"]
