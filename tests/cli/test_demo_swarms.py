"""The demo's comparisons: one model against two families, a shared option order against
shuffled ones, computed on sub-swarms of one run (here a scripted one, no model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from monoculture.cli.demo import demo_config, demo_swarms, swarm_comparison
from monoculture.experiment import ExperimentConfig, run_experiment


def test_the_embedded_demo_compares_models_and_orders() -> None:
    config = demo_config()
    specs = config.worker_specs()
    assert {a.model for a in specs} == {"SmolLM2-135M-Instruct", "gemma-3-270m"}
    assert {a.elicitation for a in specs} == {"cloze", "letter"}
    assert {a.option_order for a in specs if a.elicitation == "letter"} == {
        "fixed",
        "shuffle_agent",
    }
    assert {a.prompt_style for a in specs if a.model == "gemma-3-270m"} == {"completion"}


def test_sub_swarms_and_their_figures(tmp_path: Path) -> None:
    config = ExperimentConfig.model_validate(
        {
            "bootstrap": 0,
            "tasks": {"n_items": 30, "families": ["easy"]},
            "agents": {
                "backend": "scripted",
                "models": ["one", "two"],
                "elicitations": ["cloze"],
                "temperatures": [0.0, 0.7],
                "seeds": [0, 1],
            },
            "more_agents": [
                {
                    "backend": "scripted",
                    "models": ["one", "two"],
                    "option_orders": ["fixed", "shuffle_agent"],
                }
            ],
        }
    )
    responses = run_experiment(config, tmp_path).responses[0]
    swarms = demo_swarms(responses)
    assert list(swarms) == [
        "one only, cloze",
        "two only, cloze",
        "two families, cloze",
        "shared order, letter",
        "shuffled order, letter",
    ]
    assert [len(v) for v in swarms.values()] == [4, 4, 4, 2, 2]
    mixed = responses.agent_attrs.reset_index(drop=True).loc[swarms["two families, cloze"]]
    assert mixed["model"].value_counts().tolist() == [2, 2]  # half of each model
    assert sorted(mixed["temperature"]) == [0.0, 0.0, 0.7, 0.7]  # the same mix
    table = swarm_comparison(responses, swarms)
    assert list(table["agents"]) == [4, 4, 4, 2, 2]
    assert (table["vote"].between(0, 1)).all()
    assert (table["effective_agents"] <= table["agents"]).all()
    assert np.isnan(table["top_position_share"].iloc[0])  # cloze shows no positions
    assert table["top_position_share"].iloc[3:].between(0, 1).all()


def test_the_run_prints_position_bias_for_agents_shown_options(tmp_path: Path) -> None:
    from monoculture.cli.run import position_lines

    config = ExperimentConfig.model_validate(
        {
            "bootstrap": 0,
            "tasks": {"n_items": 8, "families": ["easy"]},
            "agents": {"backend": "scripted", "elicitations": ["letter", "cloze"]},
        }
    )
    lines = position_lines(run_experiment(config, tmp_path))
    assert lines[0].startswith("Answers by displayed position, round 0")
    assert len(lines) == 2  # the letter agent; the cloze agent was shown no options
    assert "scripted|plain|T0|s0: " in lines[1]
    assert "bias index" in lines[1]


def test_the_embedded_environment_experiments_are_valid_and_compare_designs() -> None:
    # Catches an embedded environment file that is broken or missing from the package (it
    # would fail only after the demo's one-shot part), and a short commons that no longer
    # compares at least two designs over several runs (the demo's promise).
    from importlib import resources

    from monoculture.cli.demo import DEMO_ENVIRONMENTS

    for long, entries in DEMO_ENVIRONMENTS.items():
        for _, file in entries:
            assert resources.files("monoculture.experiment").joinpath(file).is_file()
            config = demo_config(file)
            assert config.environment is not None
            designs = config.design_configs()
            assert len(designs) >= 2
            assert config.environment.runs >= (8 if long else 5)
            assert config.environment.simulator_runs > 0
    short = demo_config(DEMO_ENVIRONMENTS[False][0][1])
    models = {
        spec.model for design in short.design_configs().values() for spec in design.worker_specs()
    }
    assert models == {"SmolLM2-135M-Instruct", "gemma-3-270m"}  # the mixed-models design
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    for _, file in [*DEMO_ENVIRONMENTS[False], *DEMO_ENVIRONMENTS[True]]:
        assert f"experiment/{file}" in pyproject.read_text()  # shipped in the wheel


def test_long_needs_the_model_part() -> None:
    # Catches --long silently ignored with --synthetic (the user asked for environments).
    from typer.testing import CliRunner

    from monoculture.cli.main import app

    result = CliRunner().invoke(app, ["demo", "--synthetic", "--long", "--items", "50"])
    assert result.exit_code == 2
    assert "--long" in result.stderr
