"""HELM run folders to `Responses`.

A HELM run folder (``benchmark_output/runs/<suite>/<scenario>:<args>,model=<org_model>``)
holds ``run_spec.json`` (the run: scenario and ``adapter_spec.model``),
``per_instance_stats.json`` (per instance and train trial, a list of stats, each with
``name`` {``name``, ``split``, ``perturbation``}, ``count``, ``sum``, ``mean``, ...), and, after
``helm-summarize``, ``display_predictions.json`` (``instance_id``, ``train_trial_index``,
``predicted_text``, ``mapped_output``, ``stats``) and ``instances.json`` (``id``, ``input``,
``references`` with ``tags`` such as ``"correct"``). Several run folders of one scenario make
a swarm.

Mapping:

* agent = ``adapter_spec.model`` from ``run_spec.json`` (else ``model=`` in the folder name);
* item = ``instance_id``; runs of several scenarios need ``task=`` (the folder name without
  ``model=...``); perturbed copies of instances (robustness, fairness) are left out and
  counted;
* correct = the stat named by ``metric=`` (default: ``exact_match``, else
  ``quasi_exact_match``), its ``mean`` for the instance, from ``per_instance_stats.json`` or,
  if that is absent, from the stats in ``display_predictions.json``;
* answer = ``mapped_output`` (the option a multiple-choice answer maps to) or the stripped
  ``predicted_text``; gold = the text of the reference tagged ``correct`` in
  ``instances.json``;
* train trials are repetitions, reduced by the rule in `monoculture.io._cells`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monoculture._labels import AnswerNormalization
from monoculture.errors import InputError, ReadError
from monoculture.io._cells import CellTable, score_of
from monoculture.responses import Responses

__all__ = ["helm_run_folders", "read_helm_runs"]

STATS_FILE = "per_instance_stats.json"
PREDICTIONS_FILE = "display_predictions.json"
_DEFAULT_METRICS = ("exact_match", "quasi_exact_match")
_MODEL_ARG = re.compile(r"(^|,)model=[^,]*")


@dataclass
class _Run:
    path: Path
    model: str
    scenario: str


def helm_run_folders(paths: Sequence[Path]) -> list[Path]:
    """Run folders named by ``paths``: each path that holds ``per_instance_stats.json`` or
    ``display_predictions.json``, else the folders below it that do."""
    found: list[Path] = []
    for path in paths:
        if _is_run(path):
            found.append(path)
        elif path.is_dir():
            found.extend(
                sorted(
                    {p.parent for name in (STATS_FILE, PREDICTIONS_FILE) for p in path.rglob(name)}
                )
            )
    return found


def _is_run(path: Path) -> bool:
    return (path / STATS_FILE).is_file() or (path / PREDICTIONS_FILE).is_file()


def read_helm_runs(
    paths: str | Path | Sequence[str | Path],
    *,
    metric: str | None = None,
    task: str | None = None,
    answer_normalization: AnswerNormalization = "auto",
    strict_scoring: bool = False,
) -> Responses:
    """Read HELM run folders (or a suite folder holding them) into a `Responses`.

    One agent per run folder's model; see the module docstring for the mapping.

    Raises:
        InputError: invalid JSON (naming the file), several scenarios without ``task``, an
            unknown metric, or two runs of one model and scenario.

    Example:
        >>> r = read_helm_runs("tests/fixtures/helm")  # doctest: +SKIP
    """
    given = [Path(p) for p in ([paths] if isinstance(paths, str | Path) else paths)]
    folders = helm_run_folders(given)
    if not folders:
        raise ReadError(
            f"{', '.join(map(str, given))}: no HELM run folders (with {STATS_FILE} or "
            f"{PREDICTIONS_FILE}) found; give run folders or the suite folder above them."
        )
    runs = _one_scenario([_run(folder) for folder in folders], task)
    source = str(given[0]) if len(given) == 1 else f"{given[0]} and {len(given) - 1} more"
    table = CellTable(source=source)
    seen: dict[str, Path] = {}
    chosen_metric: str | None = None
    for run in runs:
        if run.model in seen:
            raise InputError(
                f"{run.path}: a second run of model {run.model!r} on {run.scenario!r} (the "
                f"first is {seen[run.model]}); give one run per model."
            )
        seen[run.model] = run.path
        scores = _scores(run.path)
        chosen_metric = _choose_metric(run.path, scores, metric)
        predictions = _predictions(run.path)
        gold = _gold(run.path)
        table.agent_attrs[run.model] = {"scenario": run.scenario, "run": run.path.name}
        for entry in scores:
            table.rows_read += 1
            if entry.get("perturbation"):
                table.left_out["perturbed instance (robustness/fairness copy)"] += 1
                continue
            value = entry["stats"].get(chosen_metric)
            if value is None:
                table.left_out[f"no {chosen_metric!r} stat"] += 1
                continue
            key = (entry["instance_id"], entry.get("train_trial_index", 0))
            where = f"{run.path / STATS_FILE}: instance {key[0]!r}, trial {key[1]}"
            table.add(key[0], run.model, score_of(value, where=where), predictions.get(key))
            if key[0] in gold and key[0] not in table.gold:
                table.gold[key[0]] = gold[key[0]]
    table.notes.append(f"metric {chosen_metric!r}")
    return table.responses(answer_normalization=answer_normalization, strict_scoring=strict_scoring)


def _load(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReadError(
            f"{path}: is not valid JSON ({error}); the file is damaged or truncated. Re-copy "
            "the run folder or re-run helm-summarize."
        ) from None
    except OSError as error:
        raise ReadError(f"{path}: cannot be read: {error.strerror}.") from None


def _run(folder: Path) -> _Run:
    spec_path = folder / "run_spec.json"
    spec = _load(spec_path) if spec_path.is_file() else {}
    model = (spec.get("adapter_spec") or {}).get("model")
    name = str(spec.get("name") or folder.name)
    if model is None:
        match = re.search(r"(?:^|,)model=([^,]*)", folder.name)
        if match is None:
            raise ReadError(
                f"{folder}: the model is named neither in run_spec.json nor in the folder name "
                "(model=...); keep HELM's run_spec.json with the run."
            )
        model = match[1]
    scenario = _MODEL_ARG.sub("", name).replace(":,", ":").rstrip(",:")
    return _Run(folder, str(model), scenario)


def _one_scenario(runs: list[_Run], task: str | None) -> list[_Run]:
    scenarios = sorted({run.scenario for run in runs})
    if task is not None:
        chosen = [run for run in runs if run.scenario == task]
        if not chosen:
            raise InputError(
                f"{runs[0].path.parent}: no run of scenario {task!r}; the runs hold "
                f"{scenarios}. Give one of these as --task."
            )
        return chosen
    if len(scenarios) > 1:
        raise InputError(
            f"{runs[0].path.parent}: the runs hold several scenarios {scenarios}; items of "
            "different scenarios cannot be compared. Choose one with --task."
        )
    return runs


def _scores(folder: Path) -> list[dict[str, Any]]:
    """Per (instance, trial): ``instance_id``, ``train_trial_index``, ``perturbation`` and
    ``stats`` (name -> mean), from per_instance_stats.json or display_predictions.json."""
    path = folder / STATS_FILE
    if path.is_file():
        entries = _load(path)
        _check_list(entries, path, "instance_id")
        out = []
        for entry in entries:
            stats = {}
            for stat in entry.get("stats") or []:
                name = stat.get("name") or {}
                if name.get("perturbation") or stat.get("mean") is None:
                    continue
                stats[str(name.get("name"))] = stat["mean"]
            out.append({**entry, "stats": stats})
        return out
    predictions = _load(folder / PREDICTIONS_FILE)
    _check_list(predictions, folder / PREDICTIONS_FILE, "instance_id")
    return [{**p, "stats": p.get("stats") or {}} for p in predictions]


def _check_list(entries: Any, path: Path, key: str) -> None:
    if not isinstance(entries, list) or not all(isinstance(e, dict) and key in e for e in entries):
        raise ReadError(
            f"{path}: is not in HELM's layout (a list of objects with {key!r}); give a HELM "
            "run folder or choose another --format."
        )


def _choose_metric(folder: Path, scores: list[dict[str, Any]], metric: str | None) -> str:
    names = sorted({name for entry in scores for name in entry["stats"]})
    if metric is not None:
        if metric not in names:
            raise InputError(
                f"{folder}: unknown metric {metric!r}; the run has {names}. Give one of these "
                "as --metric."
            )
        return metric
    for name in _DEFAULT_METRICS:
        if name in names:
            return name
    raise InputError(
        f"{folder}: the run has no exact_match stat; choose a 0/1 metric from {names} with "
        "--metric."
    )


def _predictions(folder: Path) -> dict[tuple[str, int], str | None]:
    path = folder / PREDICTIONS_FILE
    if not path.is_file():
        return {}
    predictions = _load(path)
    _check_list(predictions, path, "instance_id")
    out: dict[tuple[str, int], str | None] = {}
    for p in predictions:
        if p.get("perturbation"):
            continue
        text = p.get("mapped_output")
        if text is None:
            text = p.get("predicted_text")
        out[(p["instance_id"], int(p.get("train_trial_index", 0)))] = (
            None if text is None else str(text).strip() or None
        )
    return out


def _gold(folder: Path) -> dict[str, str]:
    path = folder / "instances.json"
    if not path.is_file():
        return {}
    instances = _load(path)
    _check_list(instances, path, "id")
    gold = {}
    for instance in instances:
        if instance.get("perturbation"):
            continue
        correct = [
            ref.get("output", {}).get("text")
            for ref in instance.get("references") or []
            if "correct" in (ref.get("tags") or [])
        ]
        if len(correct) == 1 and correct[0] is not None:
            gold[str(instance["id"])] = str(correct[0]).strip()
    return gold
