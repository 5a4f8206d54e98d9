"""Inspect AI logs: item by item against the logs' own JSON, epochs, archives, bad logs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from monoculture.errors import InputError
from monoculture.io import read_inspect_logs, read_responses
from monoculture.responses import Responses
from tests.io._fixtures import INSPECT

LOGS = [INSPECT / f"{name}.eval" for name in ("alpha", "beta", "gamma")]


def _cell(r: Responses, item: object, agent: str) -> tuple[int, str | None]:
    i = [str(x) for x in r.item_ids].index(str(item))
    a = list(r.agents).index(agent)
    assert r.observed[i, a]
    answer = None if r.answers is None or r.answers[i, a] < 0 else r.labels[r.answers[i, a]]
    return int(r.correct[i, a]), answer


@pytest.fixture(scope="module")
def swarm() -> Responses:
    return read_inspect_logs(LOGS)


@pytest.mark.parametrize("name", ["alpha", "beta"])
def test_single_epoch_cells_match_the_log(swarm: Responses, name: str) -> None:
    # Catches a sample read under the wrong id, or a C/I value or answer misread.
    log = json.loads((INSPECT / f"{name}.json").read_text())
    assert len(log["samples"]) == 10
    for sample in log["samples"]:
        score = sample["scores"]["match"]
        correct, answer = _cell(swarm, sample["id"], f"mockllm/{name}")
        assert correct == (score["value"] == "C")
        assert answer == score["answer"]


def test_epochs_reduce_by_majority(swarm: Responses) -> None:
    # Catches epochs counted as two agents, or ties counted as right.
    log = json.loads((INSPECT / "gamma.json").read_text())
    by_id: dict[object, list[bool]] = {}
    for sample in log["samples"]:
        by_id.setdefault(sample["id"], []).append(sample["scores"]["match"]["value"] == "C")
    assert {len(v) for v in by_id.values()} == {2}
    for sample_id, verdicts in by_id.items():
        correct, _ = _cell(swarm, sample_id, "mockllm/gamma")
        assert correct == int(sum(verdicts) * 2 > len(verdicts))
    assert swarm.agent_attrs.loc["mockllm/gamma", "repetitions"] == 2
    assert swarm.input_summary.rows_read == 40


def test_gold_is_the_target(swarm: Responses) -> None:
    log = json.loads((INSPECT / "alpha.json").read_text())
    assert swarm.gold is not None
    for sample in log["samples"]:
        i = [str(x) for x in swarm.item_ids].index(str(sample["id"]))
        assert swarm.labels[swarm.gold[i]] == sample["target"]


def test_zstd_json_and_deflate_logs_read_the_same() -> None:
    # Catches the Zstandard member path and the deflate path disagreeing with the JSON log.
    pairs = [INSPECT / "alpha.eval", INSPECT / "beta.eval"]
    as_json = read_inspect_logs([INSPECT / "alpha.json", INSPECT / "beta.json"])
    as_eval = read_inspect_logs(pairs)
    for a, b in ((as_json, as_eval),):
        assert a.agents.tolist() == b.agents.tolist()
        assert a.correct.tolist() == b.correct.tolist()
        assert a.answers is not None
        assert b.answers is not None
        assert a.answers.tolist() == b.answers.tolist()
    legacy = read_inspect_logs([INSPECT / "legacy-deflate" / "alpha.eval", INSPECT / "beta.eval"])
    assert legacy.correct.tolist() == as_eval.correct.tolist()


def test_zip_members_really_are_zstandard_and_deflate() -> None:
    import zipfile

    with zipfile.ZipFile(INSPECT / "alpha.eval") as archive:
        assert {info.compress_type for info in archive.infolist()} == {93}
    with zipfile.ZipFile(INSPECT / "legacy-deflate" / "alpha.eval") as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}


def test_scorer_choice() -> None:
    r = read_inspect_logs(LOGS[:2], scorer="includes")
    assert r.agent_attrs["scorer"].tolist() == ["includes", "includes"]
    log = json.loads((INSPECT / "beta.json").read_text())
    for sample in log["samples"]:
        correct, _ = _cell(r, sample["id"], "mockllm/beta")
        assert correct == (sample["scores"]["includes"]["value"] == "C")


def test_unknown_scorer_names_the_file_and_the_choices() -> None:
    with pytest.raises(InputError, match=r"alpha\.eval: unknown scorer 'nope'.*'match'.*--scorer"):
        read_inspect_logs(LOGS, scorer="nope")


def test_truncated_archive_is_refused(tmp_path: Path) -> None:
    data = (INSPECT / "alpha.eval").read_bytes()
    cut = tmp_path / "cut.eval"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.eval: is not a readable zip archive.*truncated"):
        read_inspect_logs([cut, LOGS[1]])


def test_invalid_json_log_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text((INSPECT / "alpha.json").read_text()[:500])
    with pytest.raises(InputError, match=r"bad\.json: is not valid JSON"):
        read_inspect_logs([bad, INSPECT / "beta.json"])


def test_mixed_tasks_need_task(tmp_path: Path) -> None:
    other = json.loads((INSPECT / "beta.json").read_text())
    other["eval"]["task"] = "other"
    (tmp_path / "other.json").write_text(json.dumps(other))
    shutil.copy(INSPECT / "alpha.json", tmp_path / "alpha.json")
    shutil.copy(INSPECT / "gamma.json", tmp_path / "gamma.json")
    with pytest.raises(InputError, match=r"several tasks \['letters', 'other'\].*--task"):
        read_inspect_logs(tmp_path)
    r = read_inspect_logs(tmp_path, task="letters")
    assert r.agents.tolist() == ["mockllm/alpha", "mockllm/gamma"]


def test_same_model_in_two_logs_keeps_two_agents() -> None:
    r = read_inspect_logs([INSPECT / "alpha.eval", INSPECT / "alpha.json"])
    # Same stem, so the paths tell them apart.
    assert r.n_agents == 2
    assert all(name.startswith("mockllm/alpha [") for name in r.agents)
    assert np.array_equal(r.correct[:, 0], r.correct[:, 1])


def test_read_responses_detects_a_log_folder(tmp_path: Path) -> None:
    for path in LOGS:
        shutil.copy(path, tmp_path / path.name)
    r = read_responses(tmp_path)
    assert r.agents.tolist() == ["mockllm/alpha", "mockllm/beta", "mockllm/gamma"]
