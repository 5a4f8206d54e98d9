"""The governance part in the terminal and on the HTML page: names from user data are
printed as data and escaped, and the values shown are those of the analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console

from monoculture import Responses, analyze
from monoculture.report.html import render_html
from monoculture.report.terminal import render

NAMES = ["[red]x", "<script>alert(1)</script>", "a[/]"]


def _analysis():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    gold = rng.integers(0, 3, 80)
    answers = np.where(rng.random((80, 7)) < 0.6, gold[:, None], rng.integers(0, 3, (80, 7)))
    answers[:, 1:4] = answers[:, [0]]  # the first family answers as one
    responses = Responses.from_arrays(answers=answers, gold=gold, labels="ABC")
    families = [NAMES[0]] * 4 + [NAMES[1]] * 2 + [NAMES[2]]
    table = pd.DataFrame({"agent": responses.agents, "family": families})
    return analyze(responses.with_agent_attributes(table), bootstrap=30)


def test_terminal_prints_group_names_as_data() -> None:
    # Catches: group names passed to rich as markup ("[red]x" would vanish into a style,
    # "a[/]" would raise a markup error).
    console = Console(record=True, width=120)
    render(_analysis(), console)
    text = console.export_text()
    assert "Governance by family" in text
    for name in ("[red]x", "a[/]"):
        assert name in text
    assert "<script>alert(1)</script>" in text
    assert "Single point of failure by family: [red]x." in text


def test_html_escapes_group_names_and_shows_the_section() -> None:
    # Catches: a group name written into the page as HTML (a script from an agent table
    # would run when the report is opened).
    analysis = _analysis()
    page = render_html(analysis.to_document())
    assert "<section id='governance'>" in page
    assert "id='fig-governance-0'" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "[red]x" in page
    top = analysis.governance["attributes"][0]["groups"][0]
    assert f"{100 * top['banzhaf']:.1f}%" in page
