"""How a figure and its interval are written, in the terminal and on the page alike."""

from __future__ import annotations

from monoculture.analysis_schema import Interval


def level_text(level: float) -> str:
    """``0.95`` -> ``"95 %"``; ``0.995`` -> ``"99.5 %"``."""
    return f"{level * 100:g} %"


def bounds_text(entry: Interval | float | None, fmt: str) -> str:
    """``"[low, high]"`` with ``fmt`` for a figure with an interval, else ``""``."""
    if not isinstance(entry, Interval) or entry.ci_low is None or entry.ci_high is None:
        return ""
    return f"[{fmt.format(entry.ci_low)}, {fmt.format(entry.ci_high)}]"
