"""Inspect AI evaluation logs (``.eval`` archives and ``.json`` logs) to `Responses`.

The format is read directly; ``inspect_ai`` is not needed. An ``.eval`` log is a zip with
``header.json`` (the run: task, model, scorers), ``summaries.json`` (one entry per sample and
epoch, with its scores), ``samples/<id>_epoch_<n>.json`` (full samples), ``reductions.json``
and, while a run is in progress, ``_journal/``; members are Zstandard (inspect_ai 0.3.28x and
later) or deflate. A ``.json`` log is one document with the same header fields and a
``samples`` list.

Mapping:

* agent = the log's ``eval.model``; when several logs share a model, the log's file name is
  added in brackets (``mockllm/a [run2]``); the run's other model roles, if any, become the
  agent attribute ``roles``;
* item = the sample ``id``; logs of different tasks need ``task=`` to pick one;
* correct = the chosen scorer's value (``C``/``I``/``P``/``N``, booleans, numbers; only full
  credit is correct); the scorer is ``scorer=`` or, by default, the run's first scorer;
  ``scorer="name:key"`` picks one value of a scorer that returns several;
* answer = the score's ``answer``, else the model's output text; gold = the sample's target
  when it is one string;
* epochs are repetitions, reduced by the rule in `monoculture.io._cells`.

Only the summaries are read where they carry every answer; sample files are opened only for
samples whose score has no answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monoculture._labels import AnswerNormalization
from monoculture.errors import InputError, ReadError
from monoculture.io._cells import CellTable, paused_gc, score_of
from monoculture.io._zip import ZipArchive
from monoculture.responses import Responses

__all__ = ["inspect_log_files", "read_inspect_logs"]

_SAMPLE_MEMBER = re.compile(r"^samples/(.+)_epoch_(\d+)\.json$")


@dataclass
class _Sample:
    id: Any
    epoch: int
    target: Any
    scores: dict[str, Any]
    output: str | None


@dataclass
class _Log:
    path: Path
    header: dict[str, Any]
    samples: list[_Sample]

    @property
    def task(self) -> str:
        return str(self.header.get("eval", {}).get("task", "?"))

    @property
    def model(self) -> str:
        return str(self.header.get("eval", {}).get("model", "?"))

    def scorer_names(self) -> list[str]:
        declared = [s.get("name") for s in self.header.get("eval", {}).get("scorers") or []]
        names = [str(n) for n in declared if n]
        for sample in self.samples:
            names.extend(name for name in sample.scores if name not in names)
        return names


def inspect_log_files(paths: Sequence[Path]) -> list[Path]:
    """The ``.eval`` and ``.json`` logs named by ``paths`` (files, or folders searched
    recursively), sorted by name within each folder."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix in (".eval", ".json") and p.is_file())
            )
        else:
            found.append(path)
    return found


def read_inspect_logs(
    paths: str | Path | Sequence[str | Path],
    *,
    scorer: str | None = None,
    task: str | None = None,
    answer_normalization: AnswerNormalization = "auto",
    strict_scoring: bool = False,
) -> Responses:
    """Read Inspect AI logs (``.eval`` or ``.json``; files or folders) into a `Responses`.

    One agent per model (see the module docstring for the mapping and the epoch rule).
    ``scorer`` picks the scorer (``"name"`` or ``"name:key"``); ``task`` the task when the
    logs hold several.

    Raises:
        InputError: a damaged or truncated log, invalid JSON, an unknown scorer, several
            tasks without ``task``, or no scored samples; the message names the file.

    Example:
        >>> from pathlib import Path
        >>> logs = Path("tests/fixtures/inspect")
        >>> r = read_inspect_logs([logs / "alpha.eval", logs / "beta.eval"])  # doctest: +SKIP
    """
    with paused_gc():
        return _read(
            paths,
            scorer=scorer,
            task=task,
            answer_normalization=answer_normalization,
            strict_scoring=strict_scoring,
        )


def _read(
    paths: str | Path | Sequence[str | Path],
    *,
    scorer: str | None,
    task: str | None,
    answer_normalization: AnswerNormalization,
    strict_scoring: bool,
) -> Responses:
    given = [Path(p) for p in ([paths] if isinstance(paths, str | Path) else paths)]
    files = inspect_log_files(given)
    if not files:
        raise ReadError(
            f"{', '.join(map(str, given))}: no Inspect logs (.eval or .json) found; give log "
            "files or the folder that holds them."
        )
    logs = [_read_log(path) for path in files]
    logs = _one_task(logs, task)
    source = str(given[0]) if len(given) == 1 else f"{given[0]} and {len(given) - 1} more"
    table = CellTable(source=source)
    names = _agent_names(logs)
    for log, agent in zip(logs, names, strict=True):
        chosen, key = _choose_scorer(log, scorer)
        roles = log.header.get("eval", {}).get("model_roles") or {}
        table.agent_attrs[agent] = {
            "task": log.task,
            "scorer": chosen if key is None else f"{chosen}:{key}",
            "log": log.path.name,
        }
        if roles:
            table.agent_attrs[agent]["roles"] = ", ".join(
                f"{role}={_role_model(config)}" for role, config in sorted(roles.items())
            )
        for sample in log.samples:
            table.rows_read += 1
            score = sample.scores.get(chosen)
            if score is None or score.get("value") is None:
                table.left_out[f"no '{chosen}' score"] += 1
                continue
            value = score["value"]
            if key is not None:
                if not isinstance(value, dict) or key not in value:
                    raise InputError(
                        f"{log.path}: sample {sample.id!r}: scorer {chosen!r} has no value "
                        f"{key!r}; its values are {_value_keys(value)}."
                    )
                value = value[key]
            where = f"{log.path}: sample {sample.id!r}, scorer {chosen!r}"
            answer = score.get("answer")
            if answer is None:
                answer = sample.output
            table.add(
                sample.id,
                agent,
                score_of(value, where=where),
                None if answer is None else str(answer).strip() or None,
            )
            if isinstance(sample.target, str) and sample.id not in table.gold:
                table.gold[sample.id] = sample.target.strip() or None
    return table.responses(answer_normalization=answer_normalization, strict_scoring=strict_scoring)


def _role_model(config: Any) -> str:
    if isinstance(config, dict):
        return str(config.get("model", "?"))
    if isinstance(config, list):
        return "+".join(_role_model(c) for c in config)
    return str(config)


def _value_keys(value: Any) -> str:
    return str(sorted(value)) if isinstance(value, dict) else f"a single value ({value!r})"


def _agent_names(logs: list[_Log]) -> list[str]:
    """The model, with the log's name (or, if that too repeats, its path) where several logs
    share a model."""
    models = [log.model for log in logs]
    names = []
    for model, log in zip(models, logs, strict=True):
        if models.count(model) == 1:
            names.append(model)
            continue
        stems = [other.path.stem for other in logs if other.model == model]
        tag = log.path.stem if stems.count(log.path.stem) == 1 else str(log.path)
        names.append(f"{model} [{tag}]")
    return names


def _one_task(logs: list[_Log], task: str | None) -> list[_Log]:
    tasks = sorted({log.task for log in logs})
    if task is not None:
        chosen = [log for log in logs if log.task == task]
        if not chosen:
            raise InputError(
                f"{logs[0].path.parent}: no log of task {task!r}; the logs hold {tasks}. "
                "Give one of these as --task."
            )
        return chosen
    if len(tasks) > 1:
        raise InputError(
            f"{logs[0].path.parent}: the logs hold several tasks {tasks}; items of different "
            "tasks cannot be compared. Choose one with --task."
        )
    return logs


def _choose_scorer(log: _Log, scorer: str | None) -> tuple[str, str | None]:
    names = log.scorer_names()
    if scorer is None:
        if not names:
            raise InputError(f"{log.path}: the log has no scores; score it with `inspect score`.")
        return names[0], None
    name, _, key = scorer.partition(":")
    if name not in names:
        raise InputError(
            f"{log.path}: unknown scorer {name!r}; the log has {names}. Give one of these as "
            "--scorer."
        )
    return name, key or None


# ---------------------------------------------------------------------- reading logs
def _read_log(path: Path) -> _Log:
    if not path.is_file():
        raise ReadError(f"{path}: no such file.")
    if path.suffix == ".json":
        return _read_json_log(path)
    return _read_eval_log(path)


def _read_json_log(path: Path) -> _Log:
    try:
        with path.open("rb") as handle:
            document = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReadError(
            f"{path}: is not valid JSON ({error}); the log is damaged or truncated. Re-copy "
            "it, or convert it again with `inspect log convert`."
        ) from None
    if not isinstance(document, dict) or "eval" not in document:
        raise ReadError(
            f"{path}: is not an Inspect log (no 'eval' section); give an Inspect .json log "
            "or choose another --format."
        )
    samples = [_sample(raw) for raw in document.get("samples") or []]
    return _Log(path, document, samples)


def _read_eval_log(path: Path) -> _Log:
    with ZipArchive(path) as archive:
        if "header.json" in archive.names:
            header = archive.read_json("header.json")
        elif "_journal/start.json" in archive.names:
            header = archive.read_json("_journal/start.json")
        else:
            raise ReadError(
                f"{path}: has neither header.json nor _journal/start.json; it is not an "
                "Inspect .eval log. Choose another --format."
            )
        summaries = list(_summaries(archive))
        if not summaries:
            return _Log(path, header, [_sample(raw) for raw in _sample_members(archive)])
        samples = [_sample(raw) for raw in summaries]
        for sample in samples:
            if all(s.get("answer") is not None for s in sample.scores.values()):
                continue
            member = f"samples/{sample.id}_epoch_{sample.epoch}.json"
            if member in archive.names:
                sample.output = _output_text(archive.read_json(member).get("output"))
        return _Log(path, header, samples)


def _summaries(archive: ZipArchive) -> Iterator[dict[str, Any]]:
    if "summaries.json" in archive.names:
        yield from archive.read_json("summaries.json")
        return
    chunks = sorted(
        (name for name in archive.names if name.startswith("_journal/summaries/")),
        key=lambda name: int(re.sub(r"\D", "", name) or 0),
    )
    for name in chunks:
        yield from archive.read_json(name)


def _sample_members(archive: ZipArchive) -> Iterator[dict[str, Any]]:
    for name in archive.names:
        if _SAMPLE_MEMBER.match(name):
            yield archive.read_json(name)


def _sample(raw: dict[str, Any]) -> _Sample:
    return _Sample(
        id=raw.get("id"),
        epoch=int(raw.get("epoch", 1)),
        target=raw.get("target"),
        scores=raw.get("scores") or {},
        output=_output_text(raw.get("output")),
    )


def _output_text(output: Any) -> str | None:
    if not isinstance(output, dict):
        return None
    if isinstance(output.get("completion"), str):
        return str(output["completion"])
    choices = output.get("choices") or []
    if not choices:
        return None
    content = (choices[0].get("message") or {}).get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return None
