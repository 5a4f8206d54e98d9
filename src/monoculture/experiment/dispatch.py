"""Dispatch: serve the calls a topology plans. The cache answers what it has; the rest go
to the endpoint (asyncio locally, or Ray tasks), identical requests once, or to the scripted
model; every call is recorded in the ledger, with the attempts it took, and counted for the
progress bar. Scripted answers are cached like real ones, so a resumed run repeats none.
The API key's value is redacted from everything stored.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from monoculture._threads import blas_threads
from monoculture.agents.http import CallFailure, CallResult, ChatClient, RetryPolicy, redact
from monoculture.agents.local import EMBEDDED_MODELS, LocalModelServer, local_model_file
from monoculture.agents.spec import AgentSpec
from monoculture.errors import InputError
from monoculture.experiment.calls import (
    build_request,
    outcome_from_response,
    scripted_response,
)
from monoculture.experiment.config import ExperimentConfig
from monoculture.experiment.store import Store, request_key
from monoculture.topologies.protocol import Call, Outcome

__all__ = ["Dispatcher", "Progress"]

# Changing how scripted agents answer must change this, so cached answers are not reused.
_SCRIPTED_IDENTITY = "scripted:v1"


@dataclass
class Progress:
    """Live counts for a progress bar."""

    planned: int = 0
    done: int = 0
    cached: int = 0
    failed: int = 0
    tokens: int = 0


class Dispatcher:
    """Serves planned calls: the cache first, then the endpoint (or the scripted model);
    every call goes into the ledger and the progress counts."""

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
        self.servers: dict[str, LocalModelServer] = {}
        self.clients: dict[str, ChatClient] = {}
        # A local server takes one call at a time, so its requests follow one another and
        # its prompt cache evaluates a cloze call's question once for all its options (and
        # a question shared by calls in a row once): interleaved, each call's requests
        # evaluated the whole prompt again (the demo took 561 s instead of 438 s).
        self.locks: dict[str, asyncio.Lock] = {}
        endpoint = config.endpoint
        self.constrain = endpoint.constrain == "grammar" or (
            endpoint.constrain == "auto" and config.model_backend == "local"
        )
        self.cloze: Literal["grammar", "echo"] = (
            endpoint.cloze
            if endpoint.cloze != "auto"
            else ("grammar" if self.constrain else "echo")
        )
        self.retry = RetryPolicy(max_attempts=endpoint.max_attempts, timeout=endpoint.timeout)
        local_models = {
            local_model_file(a.model, endpoint.model_path)[0]
            for a in [*config.worker_specs(), *config.supervisor_specs()]
            if a.backend == "local"
        }
        self.n_local_models = max(1, len(local_models))

    def server_threads(self) -> int:
        """Threads for a local model's server: the idle cores (by the load average, as for
        BLAS), shared by the experiment's models, which run side by side. llama.cpp's
        threads meet at a barrier after every operation, so threads that compete with
        another process for a core wait a scheduler slice each time: SmolLM2 took 19.5 s
        per request with 2 threads next to two other busy processes on 2 cores, 3.4 s with
        1."""
        return max(1, blas_threads() // self.n_local_models)

    def identity(self, agent: AgentSpec) -> str:
        if agent.backend == "local":
            return f"local:{local_model_file(agent.model, self.config.endpoint.model_path)[0]}"
        return f"{agent.backend}:{agent.base_url or ''}"

    def key(self, call: Call, request: dict[str, Any]) -> str:
        """The cache key of a call: its canonical request; for a scripted agent, also
        everything its synthetic answer depends on (name, seed, item, round, peers)."""
        if call.agent.backend != "scripted":
            return request_key(self.identity(call.agent), request)
        item = call.item
        return request_key(
            _SCRIPTED_IDENTITY,
            {
                "request": request,
                "agent": call.agent.model_dump(),
                "item": [item.id, item.question, item.answer, list(item.options or ())],
                "round": call.round,
                "kind": call.kind,
                "judged_agent": call.judged_agent,
                "peers": list(call.peers),
            },
        )

    def _secret(self) -> str | None:
        variable = self.config.endpoint.api_key_env
        return os.environ.get(variable) if variable else None

    async def _base_url(self, agent: AgentSpec) -> str:
        endpoint = self.config.endpoint
        if agent.backend == "local":
            name, path = local_model_file(agent.model, endpoint.model_path)
            if name not in self.servers:  # started only when the cache cannot serve a call
                if path is None:
                    embedded = EMBEDDED_MODELS.get(agent.model)
                    path = embedded.locate() if embedded else None
                server = LocalModelServer(
                    path, parallel=endpoint.parallel, threads=self.server_threads()
                )
                server.__enter__()
                self.servers[name] = server
            return self.servers[name].base_url
        if endpoint.base_url is None:  # the configuration's validator requires it
            raise InputError("backend 'openai' needs endpoint.base_url")
        return endpoint.base_url

    async def _client(self, agent: AgentSpec) -> tuple[ChatClient, asyncio.Lock | None]:
        base_url = await self._base_url(agent)
        local = agent.backend == "local"
        if base_url not in self.clients:
            endpoint = self.config.endpoint
            client = ChatClient(
                base_url,
                api_key_env=endpoint.api_key_env,
                # One call waiting behind each decoding slot keeps the slots busy.
                concurrency=min(endpoint.concurrency, endpoint.parallel + 1)
                if local
                else endpoint.concurrency,
                retry=self.retry,
                requests_per_minute=endpoint.requests_per_minute,
                tokens_per_minute=endpoint.tokens_per_minute,
            )
            await client.__aenter__()
            self.clients[base_url] = client
            self.locks[base_url] = asyncio.Lock()
        return self.clients[base_url], self.locks[base_url] if local else None

    async def close(self) -> None:
        for client in self.clients.values():
            await client.__aexit__(None, None, None)
        for server in self.servers.values():
            server.__exit__(None, None, None)

    async def run(self, calls: list[Call]) -> list[Outcome]:
        """The outcomes of ``calls``, in their order."""
        self.progress.planned += len(calls)
        self.report(self.progress)
        requests = {
            call: build_request(call, constrain=self.constrain, cloze=self.cloze) for call in calls
        }
        keys = {call: self.key(call, requests[call]) for call in calls}
        cached = self.store.lookup(keys.values())
        outcomes: dict[Call, Outcome] = {}
        ledger: list[dict[str, Any]] = []
        scripted: dict[str, dict[str, Any]] = {}
        for call in calls:
            key = keys[call]
            if key in cached:
                response = cached[key]
                outcomes[call] = outcome_from_response(call, response, "cached")
                ledger.append(self._row(call, key, requests[call], response, "cached"))
            elif call.agent.backend == "scripted":
                response = scripted_response(call, call.peers)
                outcomes[call] = outcome_from_response(call, response, "ok")
                ledger.append(self._row(call, key, requests[call], response, "ok", attempts=1))
                scripted[key] = cached[key] = response  # a twin later in this step: cached
        self.store.remember_all(scripted)
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
        response = redact(response or {}, self._secret())
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
            "error": redact(error, self._secret()),
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
        error = redact(error, self._secret())
        if response is None:
            self.store.record(
                [self._row(call, key, request, None, "failed", error, attempts, latency)]
            )
            self.progress.failed += 1
            outcome = Outcome(call, None, None, "failed", error)
        else:
            self.store.remember(key, redact(response, self._secret()))
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
        client, lock = await self._client(call.agent)
        if lock is not None:
            async with lock:
                response, error, attempts = await perform(client, request)
        else:
            response, error, attempts = await perform(client, request)
        return self._finish(call, key, request, response, error, attempts, started)

    async def _send_ray(
        self, calls: list[Call], requests: dict[Call, dict[str, Any]], keys: dict[Call, str]
    ) -> list[Outcome]:
        try:
            import ray
        except ImportError:
            raise InputError("--executor ray needs Ray: pip install ray") from None
        remote = ray.remote(_ray_call)
        started = time.monotonic()
        refs = [
            remote.remote(
                await self._base_url(c.agent),
                requests[c],
                self.retry,
                self.config.endpoint.api_key_env,
            )
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
            return await perform(client, request)

    return asyncio.run(call())


async def perform(
    client: ChatClient, request: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None, int]:
    """Send a request envelope (`monoculture.experiment.calls`): what is stored of it, the
    errors, and the attempts made (over all its bodies).

    A cloze request's response holds, per option in the order sent, the tokens that were
    scored (text, log-probability, offset); it fails with a clear message where the server
    returns no log-probabilities."""
    endpoint = request["endpoint"]
    if request["elicitation"] != "cloze":
        return _response_of(await client.attempt(request["bodies"][0], endpoint=endpoint))
    options: list[dict[str, Any]] = []
    errors: list[str] = []
    attempts = prompt_tokens = completion_tokens = 0
    for option, body in zip(request["options"], request["bodies"], strict=True):
        if request.get("cloze") == "grammar":
            ids = await client.tokenize(" " + option)
            if isinstance(ids, CallFailure):
                return None, "; ".join([*errors, ids.message]), attempts + ids.attempts
            forced = "root ::= " + " ".join(f"<[{i}]>" for i in ids)
            body = {**body, "grammar": forced, "max_tokens": len(ids)}
        result = await client.attempt(body, endpoint=endpoint)
        attempts += result.attempts
        if isinstance(result, CallFailure):
            return None, "; ".join([*errors, result.message]), attempts
        errors += result.errors
        tokens = result.tokens
        if body.get("echo"):  # the continuation's tokens: after the question, before the end
            end = len(body["prompt"])
            start = end - len(" " + option)
            tokens = [t for t in tokens if start <= t[2] < end]
        if not tokens or any(t[1] != t[1] for t in tokens):
            return (
                None,
                f"cloze scoring needs token log-probabilities, and {client.base}/{endpoint} "
                f"returned none for option {option!r}; use a server that returns them (a "
                'llama.cpp server with cloze = "grammar"; vLLM or another server that echoes '
                'the prompt\'s log-probabilities with cloze = "echo"), or elicitation "letter".',
                attempts,
            )
        options.append({"text": result.text, "tokens": [list(t) for t in tokens]})
        prompt_tokens += result.prompt_tokens
        completion_tokens += result.completion_tokens
    response = {
        "options": options,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
    }
    return response, "; ".join(errors) or None, attempts


def _response_of(
    outcome: CallResult | CallFailure,
) -> tuple[dict[str, Any] | None, str | None, int]:
    """What is stored of an attempt: the response (None when it failed), the errors, and
    the attempts actually made."""
    if isinstance(outcome, CallFailure):
        return None, outcome.message, outcome.attempts
    response = {
        "text": outcome.text,
        "top_logprobs": outcome.top_logprobs[:1],
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": outcome.completion_tokens,
    }
    return response, "; ".join(outcome.errors) or None, outcome.attempts
