"""The client on errors a retry cannot fix, closed ports, unset and echoed keys."""

from __future__ import annotations

import asyncio
import socket

import pytest

from monoculture.agents.fault_server import FaultServer
from monoculture.agents.http import CallFailure, CallResult, ChatClient, RetryPolicy, redact

KEY = "sk-test-0123456789abcdef"
RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, timeout=2.0)


def _attempt(base_url: str, api_key_env: str | None = None) -> CallResult | CallFailure:
    async def call() -> CallResult | CallFailure:
        async with ChatClient(base_url, api_key_env=api_key_env, retry=RETRY) as client:
            return await client.attempt({"messages": [{"role": "user", "content": "q"}]})

    return asyncio.run(call())


@pytest.mark.parametrize("status", ["400", "401", "403", "404", "422"])
def test_statuses_that_cannot_succeed_are_not_retried(status: str) -> None:
    # Catches: a 401 retried max_attempts times, or recorded as max_attempts when tried once.
    with FaultServer(fault=status) as server:
        outcome = _attempt(server.base_url)
    assert server.received == 1
    assert isinstance(outcome, CallFailure)
    assert outcome.attempts == 1
    assert f"HTTP {status} from {server.base_url}/chat/completions" in outcome.message
    assert f"fault server: status {status}" in outcome.message  # the server's own message


def test_retried_failures_count_every_attempt() -> None:
    # Catches: a failure reported with fewer or more attempts than were made.
    with FaultServer(fault="500") as server:
        outcome = _attempt(server.base_url)
    assert isinstance(outcome, CallFailure)
    assert server.received == outcome.attempts == 4
    assert outcome.message == f"HTTP 500 from {server.base_url}/chat/completions (4 attempts)"


def test_a_closed_port_says_connection_refused_at_the_url() -> None:
    # Catches: the cause shown as "ConnectError: All connection attempts failed", no URL.
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = _attempt(f"http://127.0.0.1:{port}/v1")
    assert isinstance(outcome, CallFailure)
    assert outcome.message.startswith(
        f"connection refused at http://127.0.0.1:{port}/v1/chat/completions"
    )


def test_an_unset_key_variable_fails_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    # Catches: a request sent without its key (a 401 later) when the variable is unset.
    monkeypatch.delenv("MONOCULTURE_TEST_KEY", raising=False)
    with FaultServer() as server:
        outcome = _attempt(server.base_url, "MONOCULTURE_TEST_KEY")
    assert server.received == 0
    assert isinstance(outcome, CallFailure)
    assert outcome.attempts == 0
    assert "variable MONOCULTURE_TEST_KEY is not set" in outcome.message


@pytest.mark.parametrize("fault", ["echo", "401"])
def test_a_key_the_server_echoes_is_redacted(fault: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Catches: the key copied from an error body or an answer into what the client returns.
    monkeypatch.setenv("MONOCULTURE_TEST_KEY", KEY)
    with FaultServer(fault=fault) as server:
        outcome = _attempt(server.base_url, "MONOCULTURE_TEST_KEY")
    assert server.authorizations == [f"Bearer {KEY}"]  # the key was sent
    shown = outcome.message if isinstance(outcome, CallFailure) else repr(outcome)
    assert KEY not in shown
    assert "Bearer [redacted]" in shown


def test_redact_walks_nested_values_and_json_escapes() -> None:
    secret = 'k"ey-123'
    value = {"a": [f"x {secret} y", 'k\\"ey-123'], "n": 3, "none": None}
    assert redact(value, secret) == {"a": ["x [redacted] y", "[redacted]"], "n": 3, "none": None}
    assert redact(value, None) is value
