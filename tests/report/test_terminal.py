"""The terminal summary: typed figures rendered with their interval at the level given."""

from __future__ import annotations

import pandas as pd
from rich.console import Console

from monoculture import Responses, analyze
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


def _render_text(responses: Responses, width: int = 140) -> str:
    console = Console(record=True, width=width)
    render(analyze(responses, bootstrap=0), console)
    return console.export_text()


def _pair_cells(text: str) -> list[str]:
    """The text of each row's pair cell in "Most correlated pairs", lines of a folded cell
    joined (a row starts where the kappa column has a value)."""
    lines = text.split("Most correlated pairs", 1)[1].splitlines()
    cells: list[str] = []
    for line in lines:
        if line.startswith("└"):
            break
        fields = line.split("│")
        if len(fields) < 3 or fields[1].strip() == "pair":
            continue
        if fields[2].strip():
            cells.append("")
        cells[-1] += fields[1].strip()
    return cells


def test_pair_names_stay_distinct_at_80_columns() -> None:
    # Catches pair names cut to the same "...": long agent names sharing a prefix at 80 columns.
    prefix = "organisation/very-long-model-family-name-v2"
    names = [f"{prefix}-alpha", f"{prefix}-beta", f"{prefix}-gamma"]
    swarm = latent_swarm(n_agents=3, n_items=200, seed=1)
    responses = Responses.from_arrays(correct=swarm.correct, agents=names)
    cells = _pair_cells(_render_text(responses, width=80))
    expected = {f"{a}~{b}" for k, a in enumerate(names) for b in names[k + 1 :]}
    assert {cell.replace(" ", "") for cell in cells} == expected


def test_names_are_printed_as_written_not_as_markup() -> None:
    # Catches agent names read as rich markup or emoji codes ("a[/]" crashed, "[red]x" vanished).
    names = ["a[/]", "[red]x", ":smile:"]
    swarm = latent_swarm(n_agents=3, n_items=200, seed=1)
    text = _render_text(Responses.from_arrays(correct=swarm.correct, agents=names))
    for name in names:
        assert name in text
    assert "a[/] ~ [red]x" in text


def test_counts_are_singular_for_one() -> None:
    # Catches "1 items" and "Left out 1 rows" in the input summary line.
    table = pd.DataFrame(
        {"item_id": [1, 1, 2], "agent": ["a", "b", "a"], "correct": [1.0, 0.0, None]}
    )
    text = _render_text(Responses.from_long(table))
    assert "Used 2 of 3 rows: 1 item x 2 agents (1 item scored by every agent). " in text
    assert "Left out 1 row:" in text
    assert "  - 1 row: " in text


def test_best_agent_is_named() -> None:
    # Catches "best single agent" printed without the agent's name, as the README shows it.
    responses = Responses.from_arrays(
        correct=[[1, 0, 1], [1, 1, 0], [1, 0, 0], [0, 0, 1]], agents=["ann", "bob", "cy"]
    )
    row = next(line for line in _render_text(responses).splitlines() if "best single" in line)
    assert "best single agent (ann)" in row
    tied = Responses.from_arrays(correct=[[1, 1, 0], [1, 1, 1]], agents=["ann", "bob", "cy"])
    row = next(line for line in _render_text(tied).splitlines() if "best single" in line)
    assert "best single agent (ann and 1 other, tied)" in row
