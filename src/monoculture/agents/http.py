"""An OpenAI-compatible client: vLLM, Ollama, llama.cpp servers, hosted APIs. It speaks
chat completions and (for base models and cloze scoring) the completions API.

Retries 429, 5xx, timeouts, dropped connections and malformed responses with exponential
backoff and full jitter; fails at once on statuses that cannot succeed on retry (400, 401,
403, 404, 422 and the other 4xx); caps concurrent requests per endpoint; optionally paces
requests and tokens per minute. API keys are read from the environment at call time, never
written anywhere, and redacted from everything a server sends back (an error body or an
answer that echoes the key).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from monoculture.errors import CallError

__all__ = [
    "CallError",
    "CallFailure",
    "CallResult",
    "ChatClient",
    "RetryPolicy",
    "api_key",
    "redact",
]

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
REDACTED = "[redacted]"

_T = TypeVar("_T")


def api_key(variable: str | None) -> str | None:
    """The API key held by the environment variable ``variable`` (None when no variable is
    named); raises `CallError` when the variable is named but unset or empty."""
    if not variable:
        return None
    value = os.environ.get(variable)
    if not value:
        raise CallError(
            f"variable {variable} is not set: endpoint.api_key_env names it for the API key. "
            f"Set it (export {variable}=...) or remove api_key_env."
        )
    return value


def redact(value: _T, secret: str | None) -> _T:
    """``value`` (a string, or lists and dicts of them) with every occurrence of ``secret``,
    as written or as JSON escapes it, replaced by ``[redacted]``."""
    if not secret:
        return value
    forms = {secret, json.dumps(secret)[1:-1]}

    def clean(item: Any) -> Any:
        if isinstance(item, str):
            for form in forms:
                item = item.replace(form, REDACTED)
            return item
        if isinstance(item, dict):
            return {clean(k): clean(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return type(item)(clean(v) for v in item)
        return item

    cleaned: _T = clean(value)
    return cleaned


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
    """The parsed response: text, per-token top log-probabilities, usage, and the errors of
    the attempts before it (one attempt per error, plus the one that answered).

    ``tokens`` holds each returned token with its own log-probability and its offset in
    the text (the prompt's tokens too when a completions request asked for ``echo``); it is
    empty when the server sent no log-probabilities."""

    text: str | None
    top_logprobs: list[dict[str, float]]
    prompt_tokens: int
    completion_tokens: int
    raw: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    tokens: list[tuple[str, float, int]] = field(default_factory=list)
    token_ids: list[int] = field(default_factory=list)
    """The ids a ``tokenize`` request returned (llama.cpp servers)."""

    @property
    def attempts(self) -> int:
        return len(self.errors) + 1


@dataclass(frozen=True)
class CallFailure:
    """A call that got no answer: the error of each attempt made (none when it could not be
    sent at all, e.g. an unset key variable)."""

    errors: tuple[str, ...]
    attempts: int

    @property
    def message(self) -> str:
        """The distinct errors in order, each with its count, and the attempts made."""
        counts = Counter(self.errors)
        several = len(counts) > 1
        parts = [f"{e} x{counts[e]}" if several else e for e in counts]
        tries = f" ({self.attempts} attempt{'s' * (self.attempts != 1)})" if self.attempts else ""
        return ("; ".join(parts) or "failed") + tries


def _connect_error(url: str, error: httpx.TransportError) -> str:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused at {url}"
        cause = cause.__cause__ or cause.__context__
    return f"cannot connect to {url} ({error})"


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
        root = base_url.rstrip("/")
        self.base = root if root.endswith("/v1") else root + "/v1"
        self.url = self.base + "/chat/completions"
        self.api_key_env = api_key_env
        self.retry = retry or RetryPolicy()
        self.semaphore = asyncio.Semaphore(concurrency)
        self.pacer = _Pacer(requests_per_minute, tokens_per_minute)
        self.rng = random.Random(seed)
        self.client: httpx.AsyncClient | None = None
        self.concurrency = concurrency
        self._token_ids: dict[str, list[int]] = {}

    async def __aenter__(self) -> ChatClient:
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        self.client = httpx.AsyncClient(timeout=self.retry.timeout, limits=limits)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def complete(self, request: dict[str, Any]) -> CallResult:
        """POST one chat-completions request, retrying transient failures; raises
        `CallError` with the attempts' errors when none answered."""
        outcome = await self.attempt(request)
        if isinstance(outcome, CallFailure):
            raise CallError(outcome.message)
        return outcome

    async def tokenize(self, text: str) -> list[int] | CallFailure:
        """The server's token ids of ``text`` (no special tokens), remembered per text."""
        if text in self._token_ids:
            return self._token_ids[text]
        result = await self.attempt({"content": text, "add_special": False}, endpoint="tokenize")
        if isinstance(result, CallFailure):
            return result
        self._token_ids[text] = result.token_ids
        return result.token_ids

    async def attempt(
        self, request: dict[str, Any], *, endpoint: str = "chat/completions"
    ) -> CallResult | CallFailure:
        """Like `complete`, but a failure comes back as a `CallFailure` that counts the
        attempts actually made (one for a status that cannot succeed on retry).
        ``endpoint`` is ``chat/completions``, ``completions`` or ``tokenize`` (llama.cpp's
        tokenizer, beside ``/v1``)."""
        if endpoint not in ("chat/completions", "completions", "tokenize"):
            raise ValueError(
                "endpoint must be 'chat/completions', 'completions' or 'tokenize'; got "
                f"{endpoint!r}."
            )
        url = f"{self.base}/{endpoint}"
        if endpoint == "tokenize":
            url = f"{self.base.removesuffix('/v1')}/tokenize"
        if self.client is None:
            raise RuntimeError("use `async with ChatClient(...)`")
        try:
            key = api_key(self.api_key_env)
        except CallError as error:
            return CallFailure((str(error),), 0)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        errors: list[str] = []
        for attempt in range(self.retry.max_attempts):
            await self.pacer.wait(int(request.get("max_tokens", 16)) + 200)
            try:
                async with self.semaphore:
                    response = await self.client.post(url, json=request, headers=headers)
                body = redact(response.text, key)
                if response.status_code in _RETRY_STATUS:
                    errors.append(f"HTTP {response.status_code} from {url}")
                elif response.status_code >= 400:
                    # 400, 401, 403, 404, 422, ...: the same request fails the same way again.
                    errors.append(f"HTTP {response.status_code} from {url}: {body[:300]}")
                    return CallFailure(tuple(errors), attempt + 1)
                else:
                    result = _parse_tokens(body) if endpoint == "tokenize" else _parse(body)
                    result.errors = errors
                    return result
            except httpx.ConnectError as error:
                errors.append(_connect_error(url, error))
            except (httpx.TimeoutException, httpx.TransportError) as error:
                errors.append(redact(f"{type(error).__name__} at {url}: {error}", key)[:300])
            except (ValueError, KeyError, IndexError, TypeError) as error:
                errors.append(redact(f"malformed response from {url}: {error}", key)[:300])
            if attempt + 1 < self.retry.max_attempts:
                await asyncio.sleep(self.retry.delay(attempt, self.rng))
        return CallFailure(tuple(errors), self.retry.max_attempts)


def _parse_tokens(text: str) -> CallResult:
    body = json.loads(text)
    ids = [int(t["id"]) if isinstance(t, dict) else int(t) for t in body["tokens"]]
    return CallResult(None, [], 0, 0, body, token_ids=ids)


def _parse(text: str) -> CallResult:
    """A chat or completions response; log-probabilities in the chat form (``content``: a
    list of tokens, as llama.cpp also sends for completions) or the legacy completions form
    (``tokens``, ``token_logprobs``, ``top_logprobs``, ``text_offset``)."""
    body = json.loads(text)
    choice = body["choices"][0]
    content = choice["message"].get("content") if "message" in choice else choice["text"]
    logprobs: list[dict[str, float]] = []
    tokens: list[tuple[str, float, int]] = []
    given = choice.get("logprobs") or {}
    if "content" in given:
        offset = 0
        for token in given.get("content") or []:
            logprobs.append(
                {e["token"]: float(e["logprob"]) for e in token.get("top_logprobs") or []}
            )
            tokens.append((str(token["token"]), float(token["logprob"]), offset))
            offset += len(str(token["token"]))
    elif "tokens" in given:
        offsets = given.get("text_offset") or []
        for k, (token, logprob) in enumerate(
            zip(given["tokens"], given.get("token_logprobs") or [], strict=False)
        ):
            tops = (given.get("top_logprobs") or [])[k : k + 1]
            logprobs.append({t: float(v) for t, v in (tops[0] or {}).items()} if tops else {})
            # The first token of an echoed prompt has no log-probability (null).
            value = float("nan") if logprob is None else float(logprob)
            tokens.append((str(token), value, int(offsets[k]) if k < len(offsets) else -1))
    usage = body.get("usage") or {}
    return CallResult(
        text=content,
        top_logprobs=logprobs,
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
        raw=body,
        tokens=tokens,
    )
