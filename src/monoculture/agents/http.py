"""An OpenAI-compatible chat-completions client: vLLM, Ollama, llama.cpp servers, hosted APIs.

Retries 429, 5xx, timeouts, dropped connections and malformed responses with exponential
backoff and full jitter; caps concurrent requests per endpoint; optionally paces requests
and tokens per minute. API keys are read from the environment at call time and never
written anywhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from monoculture.errors import CallError

__all__ = ["CallError", "CallResult", "ChatClient", "RetryPolicy"]

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter (AWS architecture blog, 2015)."""

    max_attempts: int = 5
    base_delay: float = 0.05
    max_delay: float = 5.0
    timeout: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2**attempt))


@dataclass
class CallResult:
    """The parsed response: text, per-token top log-probabilities, usage, attempt log."""

    text: str | None
    top_logprobs: list[dict[str, float]]
    prompt_tokens: int
    completion_tokens: int
    raw: dict[str, Any]
    errors: list[str] = field(default_factory=list)


class _Pacer:
    """Requests- and tokens-per-minute limits (a simple sliding one-minute window)."""

    def __init__(self, rpm: float | None, tpm: float | None) -> None:
        self.rpm, self.tpm = rpm, tpm
        self.events: list[tuple[float, int]] = []
        self.lock = asyncio.Lock()

    async def wait(self, tokens: int) -> None:
        if self.rpm is None and self.tpm is None:
            return
        async with self.lock:
            while True:
                now = time.monotonic()
                self.events = [(t, n) for t, n in self.events if now - t < 60.0]
                requests_ok = self.rpm is None or len(self.events) < self.rpm
                tokens_ok = self.tpm is None or sum(n for _, n in self.events) + tokens <= self.tpm
                if requests_ok and tokens_ok:
                    self.events.append((now, tokens))
                    return
                await asyncio.sleep(max(0.01, 60.0 - (now - self.events[0][0])))


class ChatClient:
    """Async client for one endpoint. Use as ``async with ChatClient(url) as client``."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key_env: str | None = None,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        seed: int = 0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        if not base_url.rstrip("/").endswith("/v1"):
            self.url = base_url.rstrip("/") + "/v1/chat/completions"
        self.api_key_env = api_key_env
        self.retry = retry or RetryPolicy()
        self.semaphore = asyncio.Semaphore(concurrency)
        self.pacer = _Pacer(requests_per_minute, tokens_per_minute)
        self.rng = random.Random(seed)
        self.client: httpx.AsyncClient | None = None
        self.concurrency = concurrency

    async def __aenter__(self) -> ChatClient:
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        self.client = httpx.AsyncClient(timeout=self.retry.timeout, limits=limits)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.aclose()

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if key:
                headers["Authorization"] = f"Bearer {key}"
        return headers

    async def complete(self, request: dict[str, Any]) -> CallResult:
        """POST one chat-completions request, retrying transient failures."""
        assert self.client is not None, "use `async with ChatClient(...)`"
        errors: list[str] = []
        for attempt in range(self.retry.max_attempts):
            await self.pacer.wait(int(request.get("max_tokens", 16)) + 200)
            try:
                async with self.semaphore:
                    response = await self.client.post(
                        self.url, json=request, headers=self._headers()
                    )
                if response.status_code in _RETRY_STATUS:
                    errors.append(f"HTTP {response.status_code}")
                elif response.status_code >= 400:
                    raise CallError(f"HTTP {response.status_code}: {response.text[:200]}")
                else:
                    result = _parse(response.text)
                    result.errors = errors
                    return result
            except (httpx.TimeoutException, httpx.TransportError) as error:
                errors.append(f"{type(error).__name__}: {error}"[:200])
            except (ValueError, KeyError, IndexError, TypeError) as error:
                errors.append(f"malformed response: {error}"[:200])
            if attempt + 1 < self.retry.max_attempts:
                await asyncio.sleep(self.retry.delay(attempt, self.rng))
        raise CallError("; ".join(errors) or "failed")


def _parse(text: str) -> CallResult:
    body = json.loads(text)
    choice = body["choices"][0]
    content = choice["message"].get("content")
    logprobs = []
    for token in (choice.get("logprobs") or {}).get("content") or []:
        logprobs.append(
            {entry["token"]: float(entry["logprob"]) for entry in token.get("top_logprobs") or []}
        )
    usage = body.get("usage") or {}
    return CallResult(
        text=content,
        top_logprobs=logprobs,
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
        raw=body,
    )
