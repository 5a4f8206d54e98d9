"""Issue 9 at the command line: names shown as data, options checked before any work,
help and version fast and right, progress off a terminal, report refusing to overwrite."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monoculture.cli.main import COMMANDS, app, load_command

CORPUS = Path(__file__).parent / "bad_inputs"
BRACKETS = CORPUS / "[red]x.csv"  # agents "a[/]", "b" and ":smile:"
GOOD = CORPUS / "good.csv"

runner = CliRunner()


def _refuse_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data was read before the options were checked")

    monkeypatch.setattr("monoculture.io.tables.read_table", fail)


def test_bracketed_names_and_paths_print_unaltered(tmp_path: Path) -> None:
    # Catches rich markup in names: "a[/]" crashed with MarkupError, "[red]x.csv" lost "[red]".
    out = tmp_path / "[red]out.json"
    result = runner.invoke(app, ["analyze", str(BRACKETS), "--bootstrap", "20", "--json", str(out)])
    assert result.exit_code == 0, result.output
    for text in ("a[/] ~ b", ":smile:", f"Wrote {out}"):
        assert text in result.stdout
    assert json.loads(out.read_text())["summary"]["n_agents"] == 3


def test_error_message_keeps_brackets_in_a_real_process(tmp_path: Path) -> None:
    # Catches error lines read as markup: "[red]x.csv" and "[sweep]" vanished from messages.
    bad = tmp_path / "[red]bad.csv"
    bad.write_text("item_id,agent,correct\n1,a[/],yes\n1,b,1\n")
    done = subprocess.run(
        [sys.executable, "-m", "monoculture.cli", "analyze", str(bad), "--no-progress"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {bad}: column 'correct' must be 0 or 1")
    assert "Traceback" not in done.stderr


def test_real_process_prints_names_and_one_line_per_stage(tmp_path: Path) -> None:
    # Catches progress shown only on a terminal (nothing in logs) and names altered by rich.
    done = subprocess.run(
        [sys.executable, "-m", "monoculture.cli", "analyze", str(BRACKETS), "--bootstrap", "30"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "a[/] ~ b" in done.stdout
    lines = done.stderr.splitlines()
    for stage in ("reading", "analysis"):
        assert f"{stage}: started" in lines
        assert any(line.startswith(f"{stage}: finished in ") for line in lines)
    assert "bootstrap: started (30 to do)" in lines
    assert any(line.startswith("bootstrap: finished 30/30 in ") for line in lines)


def test_sweep_errors_keep_their_table_names(tmp_path: Path) -> None:
    # Catches "[sweep]" dropped from an error message as an unknown markup tag.
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('[simulation]\nscenario = "estimation"\n[sweep]\nflavour = [1, 2]\n')
    result = runner.invoke(app, ["simulate", str(sweep), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "[sweep] names ['flavour']" in result.stderr


def test_experiment_errors_keep_their_table_names(tmp_path: Path) -> None:
    # Catches "[supervisors]" dropped from an error message as an unknown markup tag.
    experiment = tmp_path / "oversight.toml"
    experiment.write_text('name = "x"\ntopology = "oversight"\n')
    result = runner.invoke(app, ["run", str(experiment), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "needs a [supervisors] grid" in result.stderr


def test_help_shows_toml_table_names() -> None:
    # Catches "Sweep file (TOML): , ." in `simulate --help` (help text read as markup).
    result = runner.invoke(app, ["simulate", "--help"])
    assert result.exit_code == 0
    assert "Sweep file (TOML): [simulation], [sweep]." in result.stdout


def test_version() -> None:
    # Catches a missing --version option.
    from monoculture import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"monoculture {__version__}\n"


def test_help_imports_no_command_module_or_heavy_library() -> None:
    # Catches --help paying for pandas/scipy/plotly/matplotlib: seconds before any output.
    script = """
import sys
import monoculture
before = set(sys.modules)
from typer.testing import CliRunner
from monoculture.cli.main import app
for args in (["--help"], ["analyze", "--help"], ["report", "--help"], ["simulate", "--help"]):
    assert CliRunner().invoke(app, args).exit_code == 0, args
print(" ".join(sorted(set(sys.modules) - before)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded = done.stdout.split()
    heavy = ("pandas", "numpy", "scipy", "plotly", "matplotlib", "networkx", "pyarrow", "ray")
    assert not [m for m in loaded if m.split(".")[0] in heavy], loaded
    ours = [m for m in loaded if m.startswith("monoculture.")]
    assert not [m for m in ours if not m.startswith(("monoculture.cli", "monoculture.errors"))]
    assert "monoculture.cli.run" not in ours
    assert "monoculture.cli.demo" not in ours


@pytest.mark.parametrize("name", list(COMMANDS))
def test_listed_help_is_the_commands_own(name: str) -> None:
    # Catches `monoculture --help` drifting from a command's docstring (it lists them unloaded).
    command = load_command(name)
    assert command.help is not None
    assert command.help.strip().splitlines()[0] == COMMANDS[name][2]


def test_cli_defaults_and_choices_match_the_library() -> None:
    # Catches the CLI's copies (kept to load nothing heavy for --help) drifting from the source.
    from monoculture._labels import AnswerNormalization
    from monoculture.analysis import DEFAULT_MEMORY_LIMIT_GB
    from monoculture.cli import analyze
    from monoculture.metrics import QUIET_AGREEMENT

    assert analyze.QUIET_THRESHOLD_DEFAULT == QUIET_AGREEMENT
    assert analyze.MEMORY_LIMIT_DEFAULT == DEFAULT_MEMORY_LIMIT_GB
    assert typing.get_args(analyze.AnswerNormalization) == typing.get_args(AnswerNormalization)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--quiet-threshold", "1.5"], "--quiet-threshold"),
        (["--quiet-threshold", "-3"], "--quiet-threshold"),
        (["--seed", "-2"], "--seed"),
        (["--json", "{tmp}/missing/out.json"], "--json"),
        (["--html", "{tmp}/missing/report.html"], "--html"),
        (["--html", "{tmp}"], "--html"),
        (["--items", "{tmp}/items.csv"], "--items"),
    ],
)
def test_options_are_checked_before_reading(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], message: str
) -> None:
    # Catches options accepted (quiet threshold 1.5) or refused only after the whole analysis.
    _refuse_reading(monkeypatch)
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    result = runner.invoke(app, ["analyze", str(GOOD), "--no-progress", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {message}")


def test_scoring_options_reach_the_reader(tmp_path: Path) -> None:
    # Catches --answer-normalization / --strict-scoring parsed but not passed to read_responses.
    path = tmp_path / "cities.csv"
    path.write_text(
        "item_id,agent,answer,gold\n1,a,paris,Paris\n1,b,Paris,Paris\n2,a,Rome,Rome\n"
        "2,b,Oslo,Rome\n"
    )
    accuracy = {}
    for mode in ("none", "text"):
        out = tmp_path / f"{mode}.json"
        args = ["analyze", str(path), "--bootstrap", "0", "--no-progress", "--json", str(out)]
        result = runner.invoke(app, [*args, "--answer-normalization", mode])
        assert result.exit_code == 0, result.output
        agents = json.loads(out.read_text())["agents"]
        accuracy[mode] = {row["agent"]: row["accuracy"] for row in agents}
    assert accuracy["none"]["a"] == 0.5
    assert accuracy["text"]["a"] == 1.0


def test_report_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    # Catches `report` silently replacing an existing file.
    analysis = tmp_path / "analysis.json"
    result = runner.invoke(
        app, ["analyze", str(GOOD), "--bootstrap", "0", "--no-progress", "--json", str(analysis)]
    )
    assert result.exit_code == 0, result.output
    page = tmp_path / "report.html"
    page.write_text("keep me")
    refused = runner.invoke(app, ["report", str(analysis), "-o", str(page)])
    assert refused.exit_code == 2
    assert "exists; pass --force" in refused.stderr
    assert page.read_text() == "keep me"
    forced = runner.invoke(app, ["report", str(analysis), "-o", str(page), "--force"])
    assert forced.exit_code == 0, forced.output
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert f"Wrote {page}" in forced.stdout


def test_a_swarm_too_large_is_refused_before_analysis_and_a_sample_fits(tmp_path: Path) -> None:
    # Catches 10,000 agents running out of memory mid-analysis: the command must refuse
    # with the estimate and the flags, and --sample-agents must bring it within the limit.
    rows = [f"1,agent{k},{k % 2}" for k in range(3000)]
    path = tmp_path / "wide.csv"
    path.write_text("item_id,agent,correct\n" + "\n".join(rows) + "\n")
    refused = runner.invoke(app, ["analyze", str(path), "--memory-limit", "1", "--no-progress"])
    assert refused.exit_code == 2
    assert "3,000 agents need about" in refused.output
    assert "--sample-agents" in refused.output
    sampled = runner.invoke(
        app,
        [
            "analyze",
            str(path),
            "--memory-limit",
            "1",
            "--sample-agents",
            "200",
            "--bootstrap",
            "0",
            "--no-progress",
        ],
    )
    assert sampled.exit_code == 0, sampled.output
    assert "a random sample of 200 of the 3,000 agents" in sampled.output


def test_simulate_executor_is_a_choice() -> None:
    # Catches --executor taken as free text and refused only inside the command.
    result = runner.invoke(app, ["simulate", "examples/sweeps/drift.toml", "--executor", "threads"])
    assert result.exit_code == 2
    assert "'local', 'ray'" in result.output
