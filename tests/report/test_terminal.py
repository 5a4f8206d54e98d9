"""The terminal summary: typed figures rendered with their interval at the level given."""

from __future__ import annotations

from rich.console import Console

from monoculture import analyze
from monoculture.report.terminal import render
from monoculture.synthetic import latent_swarm


def _printed(level: float, bootstrap: int = 40) -> str:
    console = Console(record=True, width=140)
    render(
        analyze(latent_swarm(n_agents=6, n_items=200, seed=3), bootstrap=bootstrap, level=level),
        console,
    )
    return console.export_text()


def test_interval_column_names_the_level() -> None:
    # Catches a header fixed at 95 % whatever level the analysis used.
    text = _printed(0.8)
    assert "80 % interval" in text
    assert "95 %" not in text


def test_figures_without_intervals_show_no_bounds() -> None:
    # Catches an interval cell drawn from missing bounds (bootstrap=0 gives none).
    text = _printed(0.95, bootstrap=0)
    row = next(line for line in text.splitlines() if "effective independent agents" in line)
    assert "[" not in row
