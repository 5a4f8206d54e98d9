"""lm-evaluation-harness samples: item by item against the sample files, hashes, metrics."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from monoculture.errors import InputError
from monoculture.io import read_lm_eval_samples, read_responses
from monoculture.responses import Responses
from tests.io._fixtures import LM_EVAL

MODELS = ["model-alpha", "model-beta", "model-gamma"]


def _lines(model: str, task: str) -> list[dict]:
    (path,) = (LM_EVAL / model).glob(f"samples_{task}_*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def mc() -> Responses:
    return read_lm_eval_samples(LM_EVAL, task="mono_mc")


def test_multiple_choice_cells_match_the_samples(mc: Responses) -> None:
    # Catches a wrong doc_id join, the argmax taken over the wrong axis, or acc misread.
    assert mc.agents.tolist() == MODELS
    assert mc.answers is not None
    assert mc.gold is not None
    assert mc.probs is not None
    for a, model in enumerate(MODELS):
        for line in _lines(model, "mono_mc"):
            i = mc.item_ids.tolist().index(line["doc_id"])
            ll = np.array([float(pair[0]) for pair in line["filtered_resps"]])
            assert mc.correct[i, a] == line["acc"]
            assert mc.labels[mc.answers[i, a]] == str(int(np.argmax(ll)))
            assert mc.labels[mc.gold[i]] == line["target"]
            expected = np.exp(ll - ll.max()) / np.exp(ll - ll.max()).sum()
            np.testing.assert_allclose(mc.probs[i, a, : len(ll)], expected, atol=1e-12)


def test_answers_agree_with_the_metric(mc: Responses) -> None:
    # The argmax answer reproduces lm-eval's own acc: no disagreement is noted.
    assert not any("disagrees" in note for note in mc.input_summary.notes)
    norm = read_lm_eval_samples(LM_EVAL, task="mono_mc", metric="acc_norm")
    assert not any("disagrees" in note for note in norm.input_summary.notes)
    for a, model in enumerate(MODELS):
        for line in _lines(model, "mono_mc"):
            i = norm.item_ids.tolist().index(line["doc_id"])
            assert norm.correct[i, a] == line["acc_norm"]


def test_generation_task_with_a_named_filter() -> None:
    r = read_lm_eval_samples(LM_EVAL, task="mono_gen", metric="exact_match,strict")
    assert r.answers is not None
    for a, model in enumerate(MODELS):
        for line in _lines(model, "mono_gen"):
            if line["filter"] != "strict":
                continue
            i = r.item_ids.tolist().index(line["doc_id"])
            assert r.correct[i, a] == line["exact_match"]
            assert r.labels[r.answers[i, a]] == line["filtered_resps"][0]
    assert r.input_summary.left_out == {"filter 'flexible' (not chosen)": 18}


def test_several_filters_need_one_named() -> None:
    with pytest.raises(InputError, match=r"several filters.*--metric 'exact_match,flexible'"):
        read_lm_eval_samples(LM_EVAL, task="mono_gen")


def test_mixed_tasks_need_task() -> None:
    with pytest.raises(InputError, match=r"several tasks \['mono_gen', 'mono_mc'\].*--task"):
        read_lm_eval_samples(LM_EVAL)


def test_unknown_metric() -> None:
    with pytest.raises(InputError, match=r"unknown metric 'f1'.*\['acc', 'acc_norm'\]"):
        read_lm_eval_samples(LM_EVAL, task="mono_mc", metric="f1")


def _copy(tmp_path: Path) -> Path:
    for model in MODELS:
        target = tmp_path / model
        target.mkdir()
        for path in (LM_EVAL / model).glob("samples_mono_mc_*.jsonl"):
            shutil.copy(path, target / path.name)
    return tmp_path


def test_doc_hash_disagreement_names_both_files_and_the_doc(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (path,) = (root / "model-beta").glob("*.jsonl")
    lines = path.read_text().splitlines()
    doc = json.loads(lines[3])
    doc["doc_hash"] = "0" * 64
    lines[3] = json.dumps(doc)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        read_lm_eval_samples(root)
    message = str(caught.value)
    assert f"doc_id {doc['doc_id']}" in message
    assert "model-alpha" in message
    assert str(path) in message
    assert "Re-run" in message


def test_invalid_json_line_names_file_and_line(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (path,) = (root / "model-gamma").glob("*.jsonl")
    lines = path.read_text().splitlines()
    lines[5] = lines[5][:40]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"model-gamma/samples_mono_mc_.*line 6: is not valid"):
        read_lm_eval_samples(root)


def test_older_json_array_files_and_latest_run(tmp_path: Path) -> None:
    # Before 0.4.3 the samples were written as .json; a second, older run is skipped.
    root = _copy(tmp_path)
    (path,) = (root / "model-alpha").glob("*.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    (root / "model-alpha" / "samples_mono_mc_2020-01-01T00-00-00.000000.json").write_text(
        json.dumps(records)
    )
    path.rename(path.with_suffix(".json"))
    r = read_lm_eval_samples(root)
    assert r.correct.tolist() == read_lm_eval_samples(LM_EVAL, task="mono_mc").correct.tolist()
    assert any("older run" in note for note in r.input_summary.notes)


def test_read_responses_detects_samples_and_takes_options() -> None:
    r = read_responses(LM_EVAL, task="mono_mc", metric="acc")
    assert r.n_agents == 3
    with pytest.raises(InputError, match="--scorer does not apply to lm_eval"):
        read_responses(LM_EVAL, task="mono_mc", scorer="match")
