"""Policy as code: parsing errors with lines, rule judgement, targets, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from monoculture import Responses
from monoculture.errors import InputError, ReadError
from monoculture.experiment.config import ExperimentConfig
from monoculture.governance import RULES, evaluate_policy, load_policy, parse_policy
from tests.conftest import MMLU, requires_mmlu

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "policy.toml"


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def family_swarm(n_families: int = 3, seed: int = 0) -> Responses:
    """Six agents in ``n_families`` families; the first family answers alike."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 4, 300)
    answers = np.where(rng.random((300, 6)) < 0.7, gold[:, None], rng.integers(0, 4, (300, 6)))
    answers[:, 1] = answers[:, 0]
    r = Responses.from_arrays(answers=answers, gold=gold, labels="ABCD")
    families = [f"f{i % n_families}" for i in range(6)]
    families[1] = families[0]
    return r.with_agent_attributes(pd.DataFrame({"agent": r.agents, "family": families}))


def test_example_policy_parses_and_every_rule_is_known() -> None:
    # Catches: the example drifting from the rule table (a renamed rule would exit 2).
    policy = load_policy(EXAMPLE)
    assert {r.name for r in policy.rules} <= set(RULES)
    assert policy.rules[1].require == "interval"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[rules]\nmax_group_power = 0.4\nmax_grup_power = 0.3\n",
            "rule 'max_grup_power' (line 3): unknown rule",
        ),
        (
            '[rules]\n\nmin_families = "three"\n',
            "rule 'min_families' (line 3): the limit must be a number",
        ),
        ("[rules]\nmax_group_power = 1.5\n", "(line 2): the limit is a share"),
        ("[rules]\nmin_families = 2.5\n", "(line 2): the limit is a count"),
        ('[rules]\nmax_pivotal_share = { limit = 0.5, require = "all" }\n', "(line 2): require"),
        (
            '[settings]\npower_index = "penrose"\n[rules]\nmin_agents = 2\n',
            "setting 'power_index' (line 2)",
        ),
        ("[settings]\nbootstrapp = 10\n[rules]\nmin_agents = 2\n", "(line 2): unknown setting"),
        ("max_group_power = 0.4\n", "(line 1): not allowed here. Rules go under [rules]"),
        ("[rules]\nmax_group_power = \n", "not valid TOML"),
        ("[settings]\nseed = 1\n", "no rules"),
    ],
)
def test_bad_policies_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    # Catches: an unknown or misspelt rule silently ignored (a policy that checks nothing),
    # a string limit compared as text, and errors that do not say where.
    with pytest.raises(InputError) as error:
        load_policy(write(tmp_path, text))
    assert message in str(error.value)


def test_malformed_toml_is_a_read_error_with_the_line(tmp_path: Path) -> None:
    # tomllib's message carries "(at line N, column M)".
    with pytest.raises(ReadError, match="line 2"):
        load_policy(write(tmp_path, "[rules]\nmax_group_power 0.4\n"))


def test_value_and_interval_requirements() -> None:
    # Catches: require = "interval" judged on the point value (a bound just inside the
    # limit with an interval across it must fail), and min/max directions swapped.
    r = family_swarm()
    value = evaluate_policy(parse_policy({"rules": {"max_mean_error_consistency": 0.9}}), r)
    result = value.results[0]
    assert result.status == "pass"
    assert result.ci_low < result.value < result.ci_high
    limit = (result.value + result.ci_high) / 2  # value passes, interval does not
    for require, status in (("value", "pass"), ("interval", "fail")):
        raw = {"rules": {"max_mean_error_consistency": {"limit": limit, "require": require}}}
        assert evaluate_policy(parse_policy(raw), r).results[0].status == status
    low = {"rules": {"min_agents": 7}}
    assert evaluate_policy(parse_policy(low), r).results[0].status == "fail"


def test_group_rules_on_results() -> None:
    # 6 agents, families f0 (agents 0, 1, 3), f1 (agent 4), f2 (agents 2, 5) -> blocs
    # [4; 3, 1, 2]: f0 swings {f1}, {f2}, {f1, f2}; f1 and f2 swing only {f0}: 3/5, 1/5, 1/5.
    # Catches: group power taken per agent rather than per bloc.
    r = family_swarm()
    raw = {"settings": {"group_by": "family"}, "rules": {"max_group_power": 0.5, "min_families": 3}}
    report = evaluate_policy(parse_policy(raw), r)
    power, families = report.results
    assert power.status == "fail"
    assert power.value == pytest.approx(0.6)
    assert power.subject == "f0 (family)"
    assert families.status == "pass"
    assert families.value == 3


def test_unmeasurable_rules_are_not_passes() -> None:
    # Catches: a rule that a target cannot measure reported as a pass.
    config = ExperimentConfig.model_validate(
        {"agents": {"backend": "scripted", "models": ["a", "b"], "seeds": [0, 1]}}
    )
    raw = {
        "rules": {
            "min_agents": 4,
            "min_models": 2,
            "min_effective_agents": 2,
            "min_families": 2,
            "max_group_power": 0.5,
        }
    }
    report = evaluate_policy(parse_policy(raw), config)
    statuses = {r.rule: r.status for r in report.results}
    assert statuses == {
        "min_agents": "pass",
        "min_models": "pass",
        "min_effective_agents": "n/a",
        "min_families": "n/a",
        # one constitution for every agent: one group holds all the power
        "max_group_power": "fail",
    }
    assert report.exit_code == 1
    skipped = parse_policy({"settings": {"unevaluable": "skip"}, "rules": raw["rules"]})
    assert evaluate_policy(skipped, config).results[2].status == "n/a"


# ---------------------------------------------------------------------------- CLI
def run_cli(*args: str) -> tuple[int, str, str]:
    from monoculture.cli.check import check_command

    app = typer.Typer()
    app.command()(check_command)
    result = CliRunner().invoke(app, [*args, "--no-progress"])
    return result.exit_code, result.stdout, result.stderr


def results_file(tmp_path: Path) -> tuple[Path, Path]:
    r = family_swarm()
    long = r.to_long()
    path = tmp_path / "responses.csv"
    long.to_csv(path, index=False)
    agents = tmp_path / "agents.csv"
    r.agent_attrs.reset_index().rename(columns={"index": "agent"}).to_csv(agents, index=False)
    return path, agents


def test_cli_exit_codes(tmp_path: Path) -> None:
    # Catches: exit 0 on a failing rule (a CI gate that never blocks), and a bad policy
    # reported as a failed rule (1) instead of bad input (2).
    path, agents = results_file(tmp_path)
    passing = write(tmp_path, "[rules]\nmin_agents = 6\nmin_families = 2\n", "pass.toml")
    failing = write(tmp_path, "[rules]\nmin_agents = 6\nmin_families = 4\n", "fail.toml")
    bad = write(tmp_path, "[rules]\nmin_agents = 6\nmin_famlies = 4\n", "bad.toml")
    code, out, _ = run_cli("--policy", str(passing), str(path), "--agents", str(agents))
    assert code == 0, out
    assert "PASSED: 2 of 2 rules" in out
    code, out, _ = run_cli("--policy", str(failing), str(path), "--agents", str(agents))
    assert code == 1
    assert "FAIL" in out
    assert "min_families" in out
    code, _, err = run_cli("--policy", str(bad), str(path))
    assert code == 2
    assert "min_famlies" in err
    assert "line 3" in err
    code, _, err = run_cli("--policy", str(passing), str(tmp_path / "absent.csv"))
    assert code == 2
    assert "no such file" in err


def test_cli_json_and_analysis_target(tmp_path: Path) -> None:
    # Catches: an analysis JSON read as a table of responses, and a JSON report that does
    # not match the printed one.
    from monoculture import analyze

    _path, _agents = results_file(tmp_path)
    analysis = tmp_path / "analysis.json"
    analysis.write_text(analyze(family_swarm(), bootstrap=50).to_json(), encoding="utf-8")
    policy = write(tmp_path, "[rules]\nmin_agents = 2\nmax_pivotal_share = 0.9\n")
    out_json = tmp_path / "check.json"
    code, out, _ = run_cli("--policy", str(policy), str(analysis), "--json", str(out_json))
    assert code == 1  # max_pivotal_share cannot be measured on an analysis JSON
    saved = json.loads(out_json.read_text())
    assert saved["schema"] == "monoculture.policy_check"
    assert saved["target_kind"] == "analysis"
    assert [r["status"] for r in saved["rules"]] == ["pass", "n/a"]
    assert "analysis JSON" in out


@requires_mmlu
def test_mmlu_sample_policy_fails_on_effective_agents(tmp_path: Path) -> None:
    # The check: on MMLU-Pro with agents.csv the sample policy fails on effective
    # agents (31 models behave like about 2.6 independent ones, interval well below 4).
    out_json = tmp_path / "check.json"
    code, out, _ = run_cli(
        "--policy",
        str(EXAMPLE),
        str(MMLU / "responses.csv.gz"),
        "--agents",
        str(MMLU / "agents.csv"),
        "--json",
        str(out_json),
    )
    assert code == 1, out
    rules = {r["rule"]: r for r in json.loads(out_json.read_text())["rules"]}
    effective = rules["min_effective_agents"]
    assert effective["status"] == "fail"
    assert effective["ci_high"] < 4
    assert 2.3 < effective["value"] < 3.0
    assert rules["min_families"]["value"] == 11
    assert rules["max_pivotal_share"]["subject"] == "llama (family)"
