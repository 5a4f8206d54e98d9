"""``monoculture aggregate`` and ``monoculture select`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monoculture.cli.main import app
from tests.aggregate.planted import bloc_swarm


@pytest.fixture(scope="module")
def bloc_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("aggregate") / "bloc.csv"
    table = bloc_swarm(400, seed=9).to_long()
    table["agent"] = "[red]" + table["agent"]  # names that are rich markup
    table.to_csv(path, index=False)
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--no-progress"])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_aggregate_prints_every_method_and_writes_json_and_html(
    bloc_file: Path, tmp_path: Path
) -> None:
    # Catches a JSON that misses a documented field or method, and an HTML page that
    # prints user text as markup.
    code, out, _ = _run(
        "aggregate",
        str(bloc_file),
        "--json",
        str(tmp_path / "a.json"),
        "--html",
        str(tmp_path / "a.html"),
    )
    assert code == 0
    for name in ("plurality", "weighted", "dawid_skene", "one_coin", "cluster", "covariance"):
        assert name in out
    result = json.loads((tmp_path / "a.json").read_text())
    assert [m["name"] for m in result["methods"]][:2] == ["plurality", "weighted"]
    assert set(result["methods"][0]["accuracy"]) >= {"value", "ci_low", "ci_high"}
    assert result["split"]["seed"] == 0
    page = (tmp_path / "a.html").read_text()
    assert "id='aggregation-table'" in page
    assert "<td>covariance</td>" in page


def test_methods_option_limits_the_table(bloc_file: Path, tmp_path: Path) -> None:
    code, _, _ = _run(
        "aggregate",
        str(bloc_file),
        "--methods",
        "plurality,covariance",
        "--json",
        str(tmp_path / "m.json"),
    )
    assert code == 0
    names = [m["name"] for m in json.loads((tmp_path / "m.json").read_text())["methods"]]
    assert names == ["plurality", "covariance"]


def test_select_avoids_the_bloc_and_names_top_k(bloc_file: Path, tmp_path: Path) -> None:
    code, out, _ = _run("select", str(bloc_file), "-k", "3", "--json", str(tmp_path / "s.json"))
    assert code == 0
    result = json.loads((tmp_path / "s.json").read_text())
    chosen = result["selection"]["agents"]
    # Catches a selection that takes the clones, and names printed as markup (rich would
    # swallow "[red]").
    assert sum(a.startswith("[red]bloc") for a in chosen) <= 1
    for name in chosen:
        assert name in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["select", "{file}", "-k", "12"], "more than the 9 agents"),
        (["select", "{file}", "-k", "0"], "-k must be at least 1"),
        (["aggregate", "{file}", "--split", "1.5"], "strictly between 0 and 1"),
        (["aggregate", "{file}", "--split", "0"], "strictly between 0 and 1"),
        (["aggregate", "{file}", "--methods", "majority"], "unknown method(s) majority"),
        (["select", "{file}", "-k", "3", "--split", "-1"], "strictly between 0 and 1"),
    ],
)
def test_bad_options_exit_2_with_the_fix(bloc_file: Path, args: list[str], message: str) -> None:
    code, _out, err = _run(*(a.replace("{file}", str(bloc_file)) for a in args))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_too_few_training_items_says_how_many(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    bloc_swarm(12, seed=1).to_long().to_csv(path, index=False)
    code, _, err = _run("aggregate", str(path))
    assert code == 2
    assert "at least 10 training items" in err


def test_correctness_only_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "correct.csv"
    path.write_text("item_id,agent,correct\n1,a,1\n1,b,0\n2,a,0\n2,b,1\n")
    code, _, err = _run("aggregate", str(path))
    assert code == 2
    assert "has no answers" in err


def test_cli_method_list_matches_the_library() -> None:
    # Catches the CLI's copy (kept so that --help loads no numpy) drifting from the library.
    from monoculture.aggregate import AGGREGATORS, DEFAULT_METHODS
    from monoculture.cli import aggregate

    assert tuple(AGGREGATORS) == aggregate.METHODS
    assert ",".join(DEFAULT_METHODS) == aggregate.DEFAULT_METHODS
