"""Run an experiment: plan the calls of each round, serve what the cache has, send the rest
(asyncio locally, or Ray tasks), record every call in the ledger, and analyse each round.

A re-run with the same configuration repeats no finished call: every answered request is in
the cache, keyed by its canonical form, so a killed run continues where it stopped
(``--resume``) and a finished one replays in seconds. Failed calls are recorded, left out of
the responses with a count, and tried again on the next run.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from monoculture.agents.http import CallError, ChatClient, RetryPolicy
from monoculture.agents.local import LocalModelServer
from monoculture.agents.spec import AgentSpec
from monoculture.analysis import Analysis, analyze
from monoculture.errors import InputError
from monoculture.experiment.calls import (
    Call,
    Outcome,
    build_request,
    outcome_from_response,
    scripted_response,
)
from monoculture.experiment.config import ExperimentConfig
from monoculture.experiment.store import Store, request_key
from monoculture.responses import Responses
from monoculture.tasks import generate_probes, load_items
from monoculture.tasks.extraction import gold_answer
from monoculture.tasks.items import Item
from monoculture.topologies import (
    cascade_prompt,
    conformity_metrics,
    debate_prompt,
    judge_prompt,
    oversight_metrics,
)

__all__ = ["ExperimentResult", "Progress", "run_experiment"]


@dataclass
class Progress:
    """Live counts for a progress bar."""

    planned: int = 0
    done: int = 0
    cached: int = 0
    failed: int = 0
    tokens: int = 0


@dataclass
class ExperimentResult:
    """Outcomes of every call, the `Responses` of each answer round and their analyses."""

    config: ExperimentConfig
    outcomes: pd.DataFrame
    responses: dict[int, Responses]
    analyses: dict[int, Analysis]
    conformity: pd.DataFrame
    oversight: pd.DataFrame
    progress: Progress
    notes: list[str] = field(default_factory=list)


class _Caller:
    """Sends calls: cache first, then the endpoint (or the scripted model)."""

    def __init__(
        self,
        config: ExperimentConfig,
        store: Store,
        run_id: str,
        executor: Literal["local", "ray"],
        progress: Progress,
        report: Callable[[Progress], None],
    ) -> None:
        self.config, self.store, self.run_id = config, store, run_id
        self.executor, self.progress, self.report = executor, progress, report
        self.server: LocalModelServer | None = None
        self.client: ChatClient | None = None
        endpoint = config.endpoint
        self.constrain = endpoint.constrain == "grammar" or (
            endpoint.constrain == "auto" and config.agents.backend == "local"
        )
        self.retry = RetryPolicy(max_attempts=endpoint.max_attempts, timeout=endpoint.timeout)

    def identity(self, agent: AgentSpec) -> str:
        if agent.backend == "local":
            path = self.config.endpoint.model_path or "SmolLM2-135M-Instruct.Q4_1.gguf"
            return f"local:{Path(path).name}"
        return f"{agent.backend}:{agent.base_url or ''}"

    async def _base_url(self) -> str:
        endpoint = self.config.endpoint
        if self.config.agents.backend == "local":
            if self.server is None:  # started only when the cache cannot serve a call
                self.server = LocalModelServer(endpoint.model_path, parallel=endpoint.parallel)
                self.server.__enter__()
            return self.server.base_url
        assert endpoint.base_url is not None
        return endpoint.base_url

    async def _client(self) -> ChatClient:
        if self.client is None:
            endpoint = self.config.endpoint
            local = self.config.agents.backend == "local"
            self.client = ChatClient(
                await self._base_url(),
                api_key_env=endpoint.api_key_env,
                # One call waiting behind each decoding slot keeps the slots busy.
                concurrency=min(endpoint.concurrency, endpoint.parallel + 1)
                if local
                else endpoint.concurrency,
                retry=self.retry,
                requests_per_minute=endpoint.requests_per_minute,
                tokens_per_minute=endpoint.tokens_per_minute,
            )
            await self.client.__aenter__()
        return self.client

    async def close(self) -> None:
        if self.client is not None:
            await self.client.__aexit__(None, None, None)
        if self.server is not None:
            self.server.__exit__(None, None, None)

    async def run(self, calls: list[Call], peers: dict[Call, list[str]]) -> list[Outcome]:
        self.progress.planned += len(calls)
        self.report(self.progress)
        requests = {call: build_request(call, constrain=self.constrain) for call in calls}
        keys = {call: request_key(self.identity(call.agent), requests[call]) for call in calls}
        cached = self.store.lookup(keys[c] for c in calls if c.agent.backend != "scripted")
        outcomes: dict[Call, Outcome] = {}
        ledger: list[dict[str, Any]] = []
        for call in calls:
            if call.agent.backend == "scripted":
                response = scripted_response(call, peers.get(call, []))
                outcomes[call] = outcome_from_response(call, response, "ok")
                ledger.append(self._row(call, keys[call], requests[call], response, "ok"))
            elif keys[call] in cached:
                response = cached[keys[call]]
                outcomes[call] = outcome_from_response(call, response, "cached")
                ledger.append(self._row(call, keys[call], requests[call], response, "cached"))
        self.store.record(ledger)
        self.progress.done += len(outcomes)
        self.progress.cached += sum(o.status == "cached" for o in outcomes.values())
        self.report(self.progress)
        # Calls that share a prompt (same constitution and question, other seeds or
        # temperatures) go out one after another, so the server reuses the prompt it has just
        # evaluated (ordering by question first was slower in the demo: 153 s vs 98 s a round).
        missing = sorted(
            (call for call in calls if call not in outcomes),
            key=lambda c: (c.agent.constitution, c.user_prompt),
        )
        # Identical requests (e.g. greedy agents that differ only in seed) are sent once.
        first: dict[str, Call] = {}
        for call in missing:
            first.setdefault(keys[call], call)
        unique = list(first.values())
        if unique:
            if self.executor == "ray":
                fresh = await self._send_ray(unique, requests, keys)
            else:
                fresh = await asyncio.gather(
                    *(self._send(call, requests[call], keys[call]) for call in unique)
                )
            outcomes.update(zip(unique, fresh, strict=True))
        shared = [call for call in missing if call not in outcomes]
        if shared:
            stored = self.store.lookup(keys[call] for call in shared)
            rows = []
            for call in shared:
                if keys[call] not in stored:  # the one sent failed: so does its twin
                    twin = outcomes[first[keys[call]]]
                    outcomes[call] = Outcome(call, None, None, "failed", twin.error)
                    continue
                outcomes[call] = outcome_from_response(call, stored[keys[call]], "cached")
                rows.append(
                    self._row(call, keys[call], requests[call], stored[keys[call]], "cached")
                )
            self.store.record(rows)
            self.progress.done += len(shared)
            self.progress.cached += len(rows)
            self.report(self.progress)
        return [outcomes[call] for call in calls]

    def _row(
        self,
        call: Call,
        key: str,
        request: dict[str, Any],
        response: Any,
        status: str,
        error: str | None = None,
        attempts: int = 0,
        latency: float = 0.0,
    ) -> dict[str, Any]:
        response = response or {}
        return {
            "run": self.run_id,
            "key": key,
            "agent": call.agent.name,
            "item": call.item.id,
            "round": call.round,
            "kind": call.kind,
            "request": request,
            "response": response,
            "status": status,
            "error": error,
            "attempts": attempts,
            "latency": latency,
            "prompt_tokens": response.get("prompt_tokens", 0),
            "completion_tokens": response.get("completion_tokens", 0),
            "time": time.time(),
        }

    def _finish(
        self,
        call: Call,
        key: str,
        request: dict[str, Any],
        response: dict[str, Any] | None,
        error: str | None,
        attempts: int,
        started: float,
    ) -> Outcome:
        latency = time.monotonic() - started
        if response is None:
            self.store.record(
                [self._row(call, key, request, None, "failed", error, attempts, latency)]
            )
            self.progress.failed += 1
            outcome = Outcome(call, None, None, "failed", error)
        else:
            self.store.remember(key, response)
            self.store.record(
                [self._row(call, key, request, response, "ok", error, attempts, latency)]
            )
            outcome = outcome_from_response(call, response, "ok")
            self.progress.tokens += outcome.prompt_tokens + outcome.completion_tokens
        self.progress.done += 1
        self.report(self.progress)
        return outcome

    async def _send(self, call: Call, request: dict[str, Any], key: str) -> Outcome:
        started = time.monotonic()
        client = await self._client()
        try:
            result = await client.complete(request)
        except CallError as error:
            return self._finish(
                call, key, request, None, str(error), self.retry.max_attempts, started
            )
        response = {
            "text": result.text,
            "top_logprobs": result.top_logprobs[:1],
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
        }
        errors = "; ".join(result.errors) or None
        return self._finish(call, key, request, response, errors, len(result.errors) + 1, started)

    async def _send_ray(
        self, calls: list[Call], requests: dict[Call, dict[str, Any]], keys: dict[Call, str]
    ) -> list[Outcome]:
        try:
            import ray
        except ImportError:
            raise InputError("--executor ray needs Ray: pip install ray") from None
        base_url = await self._base_url()
        remote = ray.remote(_ray_call)
        started = time.monotonic()
        refs = [
            remote.remote(base_url, requests[c], self.retry, self.config.endpoint.api_key_env)
            for c in calls
        ]
        results = await asyncio.gather(*(asyncio.wrap_future(ref.future()) for ref in refs))
        out = []
        for call, (response, error, attempts) in zip(calls, results, strict=True):
            out.append(
                self._finish(call, keys[call], requests[call], response, error, attempts, started)
            )
        return out


def _ray_call(
    base_url: str, request: dict[str, Any], retry: RetryPolicy, api_key_env: str | None
) -> tuple[dict[str, Any] | None, str | None, int]:
    """One call inside a Ray worker (its own event loop and client)."""

    async def call() -> tuple[dict[str, Any] | None, str | None, int]:
        async with ChatClient(
            base_url, api_key_env=api_key_env, retry=retry, concurrency=1
        ) as client:
            try:
                result = await client.complete(request)
            except CallError as error:
                return None, str(error), retry.max_attempts
            return (
                {
                    "text": result.text,
                    "top_logprobs": result.top_logprobs[:1],
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                },
                "; ".join(result.errors) or None,
                len(result.errors) + 1,
            )

    return asyncio.run(call())


def _items(config: ExperimentConfig) -> list[Item]:
    tasks = config.tasks
    if tasks.file:
        return load_items(tasks.file)
    return generate_probes(tasks.n_items, families=tasks.families, form=tasks.form, seed=tasks.seed)


def _with_seed(agent: AgentSpec, repetition: int) -> AgentSpec:
    return (
        agent
        if repetition == 0
        else agent.model_copy(update={"seed": agent.seed + 1_000_003 * repetition})
    )


async def _plan_and_run(config: ExperimentConfig, caller: _Caller) -> list[Outcome]:
    items = _items(config)
    workers = config.worker_specs()
    supervisors = config.supervisor_specs()
    outcomes: list[Outcome] = []
    for repetition in range(config.repetitions):
        reps = [_with_seed(a, repetition) for a in workers]
        sups = [_with_seed(a, repetition) for a in supervisors]
        its = (
            items
            if repetition == 0
            else [
                Item(f"{i.id}#{repetition}", i.question, i.answer, i.options, i.family)
                for i in items
            ]
        )

        def call(
            agent: AgentSpec,
            item: Item,
            round_: int,
            kind: str,
            prompt: str,
            judged: str | None = None,
        ) -> Call:
            letters = ("yes", "no") if kind == "judge" else item.letters
            return Call(
                agent,
                item,
                round_,
                kind,
                prompt,
                judged,
                tuple(f"{x}" for x in letters) if kind != "judge" else (),
            )

        if config.topology == "cascade":
            answers: dict[tuple[str, str], str | None] = {}
            for position, agent in enumerate(reps):
                batch = [
                    call(
                        agent,
                        item,
                        0,
                        "answer",
                        cascade_prompt(
                            item, [(a.name, answers[(a.name, item.id)]) for a in reps[:position]]
                        ),
                    )
                    for item in its
                ]
                peers = {
                    c: [answers[(a.name, c.item.id)] or "" for a in reps[:position]] for c in batch
                }
                done = await caller.run(batch, peers)
                outcomes += done
                answers.update({(o.call.agent.name, o.call.item.id): o.answer for o in done})
            continue
        answering = reps + (sups if config.topology == "oversight" else [])
        first = await caller.run(
            [call(a, i, 0, "answer", i.prompt()) for a in answering for i in its], {}
        )
        outcomes += first
        previous = {(o.call.agent.name, o.call.item.id): o.answer for o in first}
        if config.topology == "debate":
            for round_ in range(1, config.rounds + 1):
                batch = [
                    call(
                        a,
                        i,
                        round_,
                        "answer",
                        debate_prompt(i, [previous[(b.name, i.id)] for b in reps]),
                    )
                    for a in reps
                    for i in its
                ]
                peers = {
                    c: [previous[(b.name, c.item.id)] or "" for b in reps if b is not c.agent]
                    for c in batch
                }
                if round_ == 1 and config.conformity_control:
                    controlled = its[: config.control_items or len(its)]
                    batch += [
                        call(a, i, 1, "control", i.prompt()) for a in reps for i in controlled
                    ]
                done = await caller.run(batch, peers)
                outcomes += done
                previous = {
                    (o.call.agent.name, o.call.item.id): o.answer
                    for o in done
                    if o.call.kind == "answer"
                }
        elif config.topology == "oversight":
            batch = [
                call(s, i, 1, "judge", judge_prompt(i, previous[(w.name, i.id)]), judged=w.name)
                for s in sups
                for w in reps
                for i in its
            ]
            outcomes += await caller.run(batch, {})
    return outcomes


def _outcome_table(outcomes: list[Outcome]) -> pd.DataFrame:
    rows = []
    for o in outcomes:
        agent, item = o.call.agent, o.call.item
        gold = gold_answer(item)
        rows.append(
            {
                "agent": agent.name,
                "item": item.id,
                "round": o.call.round,
                "kind": o.call.kind,
                "judged_agent": o.call.judged_agent,
                "status": o.status,
                "answer": o.answer,
                "gold": gold,
                "correct": float(o.answer == gold) if o.status != "failed" else float("nan"),
                "family": item.family,
                "model": agent.model,
                "constitution": agent.constitution_name,
                "temperature": agent.temperature,
                "seed": agent.seed,
                "role": agent.role,
                "probs": None if o.probs is None else [o.probs[k] for k in item.letters],
            }
        )
    return pd.DataFrame(rows)


def round_responses(table: pd.DataFrame, round_: int, source: str) -> Responses:
    """The `Responses` of one answer round (failed calls left out, and counted)."""
    rows = table[(table["kind"] == "answer") & (table["round"] == round_)]
    ok = rows[rows["status"] != "failed"]
    long = ok.rename(columns={"item": "item_id"})[
        [
            "item_id",
            "agent",
            "answer",
            "gold",
            "family",
            "round",
            "model",
            "constitution",
            "temperature",
            "seed",
            "role",
            "probs",
        ]
    ].copy()
    if long["probs"].isna().any() or not len(long):
        long = long.drop(columns=["probs"])
    else:
        long["probs"] = long["probs"].map(lambda p: "[" + ",".join(f"{x:.17g}" for x in p) + "]")
    responses = Responses.from_long(long, source=f"{source} round {round_}")
    failed = int((rows["status"] == "failed").sum())
    if failed:
        summary = responses.input_summary
        left = {**summary.left_out, "calls that failed after retries (see the ledger)": failed}
        responses = replace(
            responses,
            input_summary=replace(summary, rows_read=summary.rows_read + failed, left_out=left),
        )
    return responses


def run_experiment(
    config: ExperimentConfig,
    output: Path,
    *,
    cache: Path | None = None,
    executor: Literal["local", "ray"] = "local",
    progress: Callable[[Progress], None] | None = None,
) -> ExperimentResult:
    """Run ``config``; write the ledger, tables, analyses and reports under ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    store = Store(cache or output / "cache.sqlite", output / "ledger.sqlite")
    state = Progress()
    caller = _Caller(
        config, store, uuid.uuid4().hex[:12], executor, state, progress or (lambda p: None)
    )

    async def main() -> list[Outcome]:
        try:
            return await _plan_and_run(config, caller)
        finally:
            await caller.close()

    try:
        outcomes = asyncio.run(main())
    finally:
        store.close()
    table = _outcome_table(outcomes)
    table.drop(columns=["probs"]).to_csv(output / "outcomes.csv", index=False)
    answer_rounds = sorted(table.loc[table["kind"] == "answer", "round"].unique())
    responses, analyses, notes = {}, {}, []
    synthetic = config.agents.backend == "scripted"
    for round_ in answer_rounds:
        responses[int(round_)] = round_responses(table, int(round_), config.name)
        analyses[int(round_)] = analyze(
            responses[int(round_)], bootstrap=config.bootstrap, synthetic=synthetic
        )
        (output / f"analysis-round-{round_}.json").write_text(analyses[int(round_)].to_json())
    conformity = conformity_metrics(table) if config.topology == "debate" else pd.DataFrame()
    oversight = oversight_metrics(table) if config.topology == "oversight" else pd.DataFrame()
    conformity.to_csv(output / "conformity.csv", index=False)
    oversight.to_csv(output / "oversight.csv", index=False)
    if state.failed:
        notes.append(
            f"{state.failed} call(s) failed after retries; they are in the ledger "
            "and will be tried again on the next run."
        )
    return ExperimentResult(config, table, responses, analyses, conformity, oversight, state, notes)
