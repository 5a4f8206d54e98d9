"""``monoculture analyze --policy`` and the governance part of analyze's output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from monoculture.cli.main import app

runner = CliRunner()
MMLU = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mmlu-pro"


def _files(tmp_path: Path) -> tuple[Path, Path]:
    """A small results file (6 agents, three families) and its agent table."""
    rng = np.random.default_rng(1)
    rows = []
    for item in range(40):
        gold = int(rng.integers(0, 3))
        for agent in range(6):
            answer = gold if rng.random() < 0.6 else int(rng.integers(0, 3))
            rows.append(
                {
                    "item_id": item,
                    "agent": f"m{agent}",
                    "answer": "ABC"[answer],
                    "gold": "ABC"[gold],
                }
            )
    results = tmp_path / "results.csv"
    pd.DataFrame(rows).to_csv(results, index=False)
    agents = tmp_path / "agents.csv"
    pd.DataFrame(
        {"agent": [f"m{k}" for k in range(6)], "family": ["a", "a", "a", "b", "b", "c"]}
    ).to_csv(agents, index=False)
    return results, agents


@pytest.fixture
def no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command reads the data."""
    import monoculture.io

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data were read before the policy was checked")

    monkeypatch.setattr(monoculture.io, "read_responses", refuse)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "No such file"),
        ("[rules\nmax_group_power = 0.4\n", "line 1"),
        ("[rules]\nmax_group_powr = 0.4\n", "max_group_powr"),
        ("[rules]\nmin_families = 'three'\n", "min_families"),
    ],
    ids=["missing", "malformed", "unknown-rule", "wrong-type"],
)
def test_bad_policy_exits_2_before_reading_the_data(
    tmp_path: Path, no_reading: None, text: str | None, message: str
) -> None:
    # Catches: a bad policy found only after minutes of analysis, a traceback instead of
    # one line naming the problem, and exit status 1 (a failed policy) for bad input.
    results, agents = _files(tmp_path)
    policy = tmp_path / "policy.toml"
    if text is not None:
        policy.write_text(text)
    result = runner.invoke(
        app, ["analyze", str(results), "--agents", str(agents), "--policy", str(policy)]
    )
    assert result.exit_code == 2, result.output
    assert "--policy" in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_failing_policy_is_reported_and_exit_status_stays_0(tmp_path: Path) -> None:
    # Catches: analyze turned into a second CI gate (exit 1 on a failing rule), and policy
    # results left out of the terminal output.
    results, agents = _files(tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_text("[settings]\nbootstrap = 20\n[rules]\nmin_families = 5\nmin_agents = 3\n")
    result = runner.invoke(
        app,
        [
            "analyze",
            str(results),
            "--agents",
            str(agents),
            "--policy",
            str(policy),
            "--bootstrap",
            "20",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Governance by family" in result.output
    assert "min_families" in result.output
    assert "FAILED (1 of 2 rules not passed)" in result.output
    assert "do not change analyze's exit status" in result.output


def test_help_says_the_policy_does_not_gate() -> None:
    # Catches: --policy documented as if analyze were the CI gate.
    result = runner.invoke(app, ["analyze", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "does not change analyze's exit status" in text
    assert "monoculture check" in text


def test_no_governance_part_without_agent_attributes(tmp_path: Path) -> None:
    # Catches: a governance table (or a crash) when the agents have no attributes.
    results, _ = _files(tmp_path)
    result = runner.invoke(app, ["analyze", str(results), "--bootstrap", "0", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "Governance" not in result.output


@pytest.mark.skipif(
    not (MMLU / "responses.csv.gz").is_file() or not (MMLU / "agents.csv").is_file(),
    reason="../shared/data/mmlu-pro (responses.csv.gz, agents.csv) is not present",
)
def test_mmlu_pro_llama_is_the_single_point_of_failure_by_family() -> None:
    # Published in docs/governance.md: llama (9 of 31 models) is flip-pivotal on 62 % of
    # the 12,032 decisions. Catches: the flag computed on the wrong side of 1/2, or over
    # another attribute than family.
    result = runner.invoke(
        app,
        [
            "analyze",
            str(MMLU / "responses.csv.gz"),
            "--agents",
            str(MMLU / "agents.csv"),
            "--bootstrap",
            "20",
            "--no-progress",
        ],
        env={"COLUMNS": "120"},
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Single point of failure by family: llama." in text
    row = next(line for line in text.splitlines() if line.strip().startswith("llama "))
    assert "SPOF" in row
    assert "62.4" in row
    mistral = next(line for line in text.splitlines() if line.strip().startswith("mistral "))
    assert "SPOF" not in mistral
