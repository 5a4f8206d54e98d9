"""lm-evaluation-harness ``--log_samples`` output to `Responses`.

Layout (lm-eval 0.4.x): ``<output_path>/<model>/samples_<task>_<datetime>.jsonl`` (``.json``
before 0.4.3, also one JSON document per line), one line per document and filter, with
``doc_id``, ``doc``, ``target``, ``arguments``, ``resps``, ``filtered_resps``, ``filter``,
``metrics`` (the metric names), ``doc_hash``, ``prompt_hash``, ``target_hash`` and one key per
metric (``acc``, ``exact_match``, ...). The Open LLM Leaderboard's per-sample details are the
same files.

Mapping:

* agent = the folder that holds the samples file (lm-eval names it after the model);
* item = ``doc_id`` of one task; samples of several tasks need ``task=``; when a folder holds
  several runs of one task, the latest (by the date in the file name) is read;
* correct = the chosen metric (``metric="acc"``; with a filter, as lm-eval writes it in its
  results: ``"exact_match,strict-match"``); by default ``acc``, else ``exact_match``, else the
  only metric; a task with several filters needs the filter named;
* answer = ``filtered_resps``: for log-likelihood (multiple-choice) tasks the option with the
  highest log-likelihood (per character for ``acc_norm``), as an option index ``"0"``,
  ``"1"``, ...; the option probabilities (softmax of the log-likelihoods) come too; for
  generation tasks the filtered text. gold = ``target`` (an option index where it is one);
* ``doc_hash`` must agree across models for every document: a disagreement means the runs
  saw different documents under one id and is refused.

Lines are parsed one at a time (the files are streamed, never loaded whole).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monoculture._labels import AnswerNormalization
from monoculture.errors import InputError, ReadError
from monoculture.io._cells import CellTable, paused_gc, score_of
from monoculture.responses import Responses

__all__ = ["lm_eval_sample_files", "read_lm_eval_samples"]

SAMPLES_NAME = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T[\d\-.:]+)\.jsonl?$")
_DEFAULT_METRICS = ("acc", "exact_match")


@dataclass(slots=True)
class _Row:
    doc_id: Any
    doc_hash: str | None
    target: Any
    answer: str | None
    probs: list[float] | None
    metrics: dict[str, Any]
    line: int


@dataclass
class _SamplesFile:
    path: Path
    agent: str
    task: str
    date: str
    rows: dict[str, dict[Any, _Row]] = field(default_factory=dict)  # filter -> doc_id -> row
    metric_names: set[str] = field(default_factory=set)


def lm_eval_sample_files(paths: Sequence[Path]) -> list[Path]:
    """The ``samples_<task>_<datetime>.jsonl`` (or ``.json``) files named by ``paths`` (files,
    or folders searched recursively)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("samples_*.json*") if SAMPLES_NAME.match(p.name))
            )
        else:
            found.append(path)
    return found


def read_lm_eval_samples(
    paths: str | Path | Sequence[str | Path],
    *,
    metric: str | None = None,
    task: str | None = None,
    answer_normalization: AnswerNormalization = "auto",
    strict_scoring: bool = False,
) -> Responses:
    """Read lm-evaluation-harness sample logs (files or output folders) into a `Responses`.

    One agent per model folder; see the module docstring for the mapping. ``metric`` names
    the metric (``"acc"``, or ``"exact_match,strict-match"`` to name the filter too);
    ``task`` the task when the samples hold several.

    Raises:
        InputError: invalid JSON (file and line), a ``doc_hash`` that differs between models
            (both files and the document), several tasks without ``task``, an unknown metric
            or filter; each message says how to fix it.

    Example:
        >>> r = read_lm_eval_samples("tests/fixtures/lm_eval", task="mono_mc")  # doctest: +SKIP
    """
    with paused_gc():
        return _read(
            paths,
            metric=metric,
            task=task,
            answer_normalization=answer_normalization,
            strict_scoring=strict_scoring,
        )


def _read(
    paths: str | Path | Sequence[str | Path],
    *,
    metric: str | None,
    task: str | None,
    answer_normalization: AnswerNormalization,
    strict_scoring: bool,
) -> Responses:
    given = [Path(p) for p in ([paths] if isinstance(paths, str | Path) else paths)]
    files = lm_eval_sample_files(given)
    if not files:
        raise ReadError(
            f"{', '.join(map(str, given))}: no lm-eval sample files (samples_<task>_<date>"
            ".jsonl) found; run lm-eval with --log_samples and give its output folder."
        )
    headers = [_header(path) for path in files]
    headers = _one_task(headers, task)
    headers, notes = _latest_runs(headers)
    need_norm = metric is not None and metric.partition(",")[0].endswith("_norm")
    _parse_all(headers, need_norm)
    metric_name, filter_name = _choose_metric(headers, metric)
    source = str(given[0]) if len(given) == 1 else f"{given[0]} and {len(given) - 1} more"
    table = CellTable(source=source, notes=notes)
    _check_doc_hashes(headers, filter_name)
    for header in headers:
        rows = header.rows.get(filter_name, {})
        table.agent_attrs[header.agent] = {"task": header.task, "samples_file": header.path.name}
        norm = metric_name.endswith("_norm")
        for row in rows.values():
            table.rows_read += 1
            value = row.metrics.get(metric_name)
            if value is None:
                table.left_out[f"no {metric_name!r} value"] += 1
                continue
            # 0.0 and 1.0 (nearly every value) skip the general parser.
            score = (
                value
                if value.__class__ is float and (value == 0.0 or value == 1.0)
                else score_of(value, where=f"{header.path}, line {row.line}")
            )
            answer = row.answer
            if norm and row.probs is not None:
                answer = row.metrics.get("__argmax_norm__", answer)
            table.add(row.doc_id, header.agent, score, answer, probs=None if norm else row.probs)
            if row.doc_id not in table.gold:
                table.gold[row.doc_id] = _gold(row)
        table.left_out.update(
            {
                f"filter {other!r} (not chosen)": len(rows)
                for other, rows in header.rows.items()
                if other != filter_name
            }
        )
    table.notes.append(f"metric {metric_name!r}, filter {filter_name!r}")
    return table.responses(answer_normalization=answer_normalization, strict_scoring=strict_scoring)


def _header(path: Path) -> _SamplesFile:
    if not path.is_file():
        raise ReadError(f"{path}: no such file.")
    match = SAMPLES_NAME.match(path.name)
    if match is None:
        raise ReadError(
            f"{path}: not an lm-eval samples file name (samples_<task>_<date>.jsonl); give "
            "the files lm-eval writes with --log_samples, or choose another --format."
        )
    return _SamplesFile(path, path.parent.name, match["task"], match["date"])


def _one_task(headers: list[_SamplesFile], task: str | None) -> list[_SamplesFile]:
    tasks = sorted({h.task for h in headers})
    if task is not None:
        chosen = [h for h in headers if h.task == task]
        if not chosen:
            raise InputError(
                f"{headers[0].path.parent.parent}: no samples of task {task!r}; the files hold "
                f"{tasks}. Give one of these as --task."
            )
        return chosen
    if len(tasks) > 1:
        raise InputError(
            f"{headers[0].path.parent.parent}: the samples hold several tasks {tasks}; items "
            "of different tasks cannot be compared. Choose one with --task."
        )
    return headers


def _latest_runs(headers: list[_SamplesFile]) -> tuple[list[_SamplesFile], list[str]]:
    latest: dict[tuple[str, str], _SamplesFile] = {}
    for header in headers:
        key = (header.agent, header.task)
        if key not in latest or header.date > latest[key].date:
            latest[key] = header
    dropped = len(headers) - len(latest)
    notes = []
    if dropped:
        notes.append(
            f"{dropped} older run(s) of the same model and task were skipped; the latest was read."
        )
    return list(latest.values()), notes


def _parse_all(headers: list[_SamplesFile], need_norm: bool) -> None:
    # Worker processes were tried: pickling the rows back cost more than they saved.
    for header in headers:
        _parse(header, need_norm)


def _parse(header: _SamplesFile, need_norm: bool = False) -> None:
    path = header.path
    try:
        handle = path.open("rb")
    except OSError as error:
        raise ReadError(f"{path}: cannot be read: {error.strerror}.") from None
    with handle:
        first = handle.read(1)
        handle.seek(0)
        if first == b"[":
            try:
                records: Any = json.load(handle)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise ReadError(f"{path}: is not valid JSON ({error}).") from None
            lines = enumerate(records, start=1)
        else:
            lines = enumerate(_json_lines(handle, path, need_norm), start=1)
        for number, record in lines:
            _add_row(header, record, number, need_norm)


_TAIL = b', "filtered_resps": '
_TARGET = ', "target": '
_DOC_ID = re.compile(rb'^\{"doc_id": (-?\d+|"(?:[^"\\]|\\.)*")')
_DECODER = json.JSONDecoder()


def _json_lines(handle: Any, path: Path, need_norm: bool = False) -> Any:
    """One record per line. The prompt-sized middle of a line (``doc``, ``arguments``,
    ``resps``) is not decoded when the fields read lie outside it: in a JSON text a key's
    opening quote preceded by ``, `` cannot be inside a string (quotes there are escaped),
    so the tail from ``"filtered_resps"`` on is itself a JSON object."""
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            cut = -1 if need_norm else line.find(_TAIL)
            head = _DOC_ID.match(line) if cut > 0 else None
            if head is None:
                yield json.loads(line)
                continue
            record = json.loads(b"{" + line[cut + 2 :])
            record["doc_id"] = json.loads(head[1].decode())
            text = line[:cut].decode("utf-8")
            at = text.find(_TARGET)
            if at > 0:
                record["target"] = _DECODER.raw_decode(text, at + len(_TARGET))[0]
            yield record
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ReadError(
                f"{path}, line {number}: is not valid JSON ({error}); the file is damaged or "
                "truncated. Re-copy it or re-run lm-eval with --log_samples."
            ) from None


def _add_row(header: _SamplesFile, record: Any, line: int, need_norm: bool) -> None:
    if not isinstance(record, dict) or "doc_id" not in record:
        raise ReadError(
            f"{header.path}, line {line}: is not an lm-eval sample (no 'doc_id'); give "
            "--log_samples output or choose another --format."
        )
    names = record.get("metrics") or [key for key in _DEFAULT_METRICS if key in record]
    metrics = {name: record[name] for name in names if name in record}
    header.metric_names.update(metrics)
    answer, probs, argmax_norm = _answer(record, need_norm)
    if argmax_norm is not None:
        metrics["__argmax_norm__"] = argmax_norm
    row = _Row(
        doc_id=record["doc_id"],
        doc_hash=record.get("doc_hash"),
        target=record.get("target"),
        answer=answer,
        probs=probs,
        metrics=metrics,
        line=line,
    )
    header.rows.setdefault(str(record.get("filter", "none")), {})[row.doc_id] = row


def _answer(
    record: dict[str, Any], need_norm: bool
) -> tuple[str | None, list[float] | None, str | None]:
    """(answer, option probabilities, answer by per-character log-likelihood when
    ``need_norm``)."""
    filtered = record.get("filtered_resps")
    if isinstance(filtered, list) and _is_loglikelihoods(filtered):
        try:
            ll = [float(pair[0]) for pair in filtered]
        except (TypeError, ValueError):
            return None, None, None
        top = max(ll)
        best = ll.index(top)
        weights = [math.exp(v - top) for v in ll]
        total = sum(weights)
        lengths = _choice_lengths(record, len(ll)) if need_norm else None
        norm = None
        if lengths is not None:
            scaled = [v / max(n, 1) for v, n in zip(ll, lengths, strict=True)]
            norm = str(scaled.index(max(scaled)))
        return str(best), [w / total for w in weights], norm
    if isinstance(filtered, list):
        filtered = filtered[0] if filtered else None
    if filtered is None:
        return None, None, None
    text = str(filtered).strip()
    return text or None, None, None


def _is_loglikelihoods(value: Any) -> bool:
    # Each option's (log-likelihood, is-greedy) pair; the first tells for the rest.
    return (
        isinstance(value, list)
        and len(value) > 0
        and isinstance(value[0], list | tuple)
        and len(value[0]) == 2
    )


def _choice_lengths(record: dict[str, Any], n: int) -> list[int] | None:
    arguments = record.get("arguments")
    if isinstance(arguments, dict):
        pairs = [arguments.get(f"gen_args_{k}", {}) for k in range(n)]
        texts = [pair.get("arg_1") for pair in pairs]
    elif isinstance(arguments, list):
        texts = [
            pair[1] if isinstance(pair, list) and len(pair) > 1 else None for pair in arguments
        ]
    else:
        return None
    if len(texts) != n or not all(isinstance(t, str) for t in texts):
        return None
    # lm-eval divides by the choice's length without the separating space it prepends.
    return [len(t[1:]) if t.startswith(" ") else len(t) for t in texts if isinstance(t, str)]


def _gold(row: _Row) -> str | None:
    target = row.target
    if isinstance(target, list):
        target = target[0] if len(target) == 1 else None
    if target is None:
        return None
    text = str(target).strip()
    if row.probs is not None and not (text.isdigit() and int(text) < len(row.probs)):
        return None  # a target that is no option index cannot be compared with one
    return text or None


def _choose_metric(headers: list[_SamplesFile], metric: str | None) -> tuple[str, str]:
    names = sorted(set().union(*(h.metric_names for h in headers)))
    filters = sorted(set().union(*(h.rows.keys() for h in headers)))
    choices = [f"{m},{f}" for f in filters for m in names]
    place = headers[0].path.parent.parent
    if metric is not None:
        name, _, filter_name = metric.partition(",")
        if name not in names:
            raise InputError(
                f"{place}: unknown metric {name!r}; the samples have {names}. Give one as --metric."
            )
    else:
        preferred = [m for m in _DEFAULT_METRICS if m in names]
        if preferred:
            name = preferred[0]
        elif len(names) == 1:
            name = names[0]
        else:
            raise InputError(
                f"{place}: the samples have several metrics {names} and none is acc or "
                "exact_match; choose one with --metric."
            )
        filter_name = ""
    if not filter_name:
        if len(filters) > 1:
            raise InputError(
                f"{place}: the task has several filters {filters}; name one with the metric, "
                f"as lm-eval does: --metric {choices[0]!r} (choices: {choices})."
            )
        filter_name = filters[0]
    elif filter_name not in filters:
        raise InputError(
            f"{place}: unknown filter {filter_name!r}; the samples have {filters}. Give "
            f"--metric as one of {choices}."
        )
    return name, filter_name


def _check_doc_hashes(headers: list[_SamplesFile], filter_name: str) -> None:
    seen: dict[Any, tuple[str, Path]] = {}
    counts: Counter[str] = Counter()
    for header in headers:
        for doc_id, row in header.rows.get(filter_name, {}).items():
            if row.doc_hash is None:
                continue
            counts[row.doc_hash] += 1
            first = seen.setdefault(doc_id, (row.doc_hash, header.path))
            if first[0] != row.doc_hash:
                raise InputError(
                    f"doc_id {doc_id!r}: doc_hash differs between {first[1]} and "
                    f"{header.path} (line {row.line}): the runs saw different documents under "
                    "one id. Re-run the models on the same task version and data, or read "
                    "them separately."
                )
