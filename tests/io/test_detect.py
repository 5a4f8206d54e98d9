"""One entry point: the format told from content, options checked, and `monoculture analyze`
run directly on an Inspect log folder, an lm-eval output folder and a HELM run set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monoculture.cli.main import app
from monoculture.errors import InputError
from monoculture.io import detect_format, read_responses
from tests.conftest import LONG
from tests.io._fixtures import HELM, INSPECT, LM_EVAL


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (INSPECT, "inspect"),
        (INSPECT / "alpha.eval", "inspect"),
        (INSPECT / "alpha.json", "inspect"),
        (LM_EVAL, "lm_eval"),
        (next(LM_EVAL.glob("model-alpha/samples_mono_mc_*.jsonl")), "lm_eval"),
        (HELM, "helm"),
        (next(HELM.iterdir()), "helm"),
    ],
)
def test_formats_are_told_from_content(path: Path, expected: str) -> None:
    assert detect_format(path) == expected


def test_renamed_files_are_still_recognised(tmp_path: Path) -> None:
    # Content, not the suffix: a .eval renamed to .zip, a JSON log named .json are found.
    shutil.copy(INSPECT / "alpha.eval", tmp_path / "alpha.zip")
    assert detect_format(tmp_path / "alpha.zip") == "inspect"
    table = tmp_path / "long.json"
    LONG.to_json(table, orient="records", lines=True)
    assert detect_format(table) == "long"
    assert read_responses(table).n_agents == 3


def test_mixed_formats_are_refused() -> None:
    with pytest.raises(InputError, match=r"different formats.*--format"):
        detect_format([HELM, INSPECT / "alpha.eval"])


def test_several_long_tables_are_stacked(tmp_path: Path) -> None:
    LONG.iloc[:4].to_csv(tmp_path / "a.csv", index=False)
    LONG.iloc[4:].to_csv(tmp_path / "b.csv", index=False)
    both = read_responses([tmp_path / "a.csv", tmp_path / "b.csv"])
    LONG.to_csv(tmp_path / "all.csv", index=False)
    assert both.correct.tolist() == read_responses(tmp_path / "all.csv").correct.tolist()


def test_forced_format_and_stray_options() -> None:
    assert read_responses(HELM, format="helm").n_agents == 3
    with pytest.raises(InputError, match="`format` must be one of"):
        read_responses(HELM, format="xlsx")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="--scorer does not apply to helm"):
        read_responses(HELM, scorer="match")
    with pytest.raises(InputError, match="--agent-col name"):
        read_responses(HELM, agent_col="model")
    with pytest.raises(InputError, match="--task does not apply to long"):
        read_responses(Path("tests/cli/bad_inputs/missing_column.csv"), task="x")


def _analyze(path: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        app, ["analyze", str(path), "--no-progress", "--bootstrap", "0", *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_analyze_runs_on_an_inspect_log_folder(tmp_path: Path) -> None:
    for name in ("alpha", "beta", "gamma"):
        shutil.copy(INSPECT / f"{name}.eval", tmp_path / f"{name}.eval")
    assert "mockllm/gamma" in _analyze(tmp_path)


def test_analyze_runs_on_an_lm_eval_output_folder(tmp_path: Path) -> None:
    for model in ("model-alpha", "model-beta", "model-gamma"):
        (tmp_path / model).mkdir()
        for path in (LM_EVAL / model).glob("samples_mono_mc_*"):
            shutil.copy(path, tmp_path / model / path.name)
    assert "model-beta" in _analyze(tmp_path)


def test_analyze_runs_on_a_helm_run_set() -> None:
    assert "openai/gpt2" in _analyze(HELM)


def test_analyze_reports_a_malformed_log_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "cut.eval").write_bytes((INSPECT / "alpha.eval").read_bytes()[:3000])
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "cut.eval"), "--no-progress"])
    assert result.exit_code == 2
    assert "cut.eval" in result.output
    assert "Traceback" not in result.output


def test_public_names_are_sorted_and_importable() -> None:
    import monoculture.io as io_module

    assert io_module.__all__ == sorted(io_module.__all__)
    assert all(hasattr(io_module, name) for name in io_module.__all__)


@pytest.mark.parametrize(
    ("command", "folder", "extra"),
    [
        ("aggregate", "inspect", ["--methods", "plurality"]),
        ("select", "lm_eval", ["-k", "2", "--task", "mono_mc"]),
        ("guard", "helm", []),
    ],
)
def test_every_command_reads_log_folders(command: str, folder: str, extra: list[str]) -> None:
    # Catches a command that still pre-checks its input as one table file (refusing a log
    # folder before read_responses could detect it).
    base = Path(__file__).parents[1] / "fixtures" / folder
    args = [command, str(base), *extra]
    if command == "guard":
        args = ["guard", "calibrate", str(base), "--alpha", "0.5", "--delta", "0.5"]
    elif command != "guard":
        args.append("--no-progress")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output


def test_cli_format_choices_match_the_library() -> None:
    # Catches the CLI's copy of the formats (kept so that --help loads no numpy) drifting.
    from typing import get_args

    from monoculture.cli import _common
    from monoculture.io import InputFormat

    assert get_args(_common.InputFormat) == get_args(InputFormat)
