"""The OpenAI-compatible client: retries, giving up with reasons, pacing."""

from __future__ import annotations

import asyncio

import pytest

from monoculture.agents import CallError, ChatClient, RetryPolicy
from monoculture.agents.fault_server import FaultServer
from monoculture.agents.http import CallResult


def test_client_retries_every_kind_of_fault() -> None:
    # Catches: a fault kind not retried, or a request sent again after one was answered.
    faults = ["429", "500", "malformed", "slow", "drop"]
    with FaultServer(faults, slow_seconds=1.0) as server:

        async def call() -> CallResult:
            retry = RetryPolicy(max_attempts=8, base_delay=0.01, timeout=0.3)
            async with ChatClient(server.base_url, retry=retry) as client:
                return await client.complete({"messages": [{"role": "user", "content": "q"}]})

        result = asyncio.run(call())
        server.wait_idle()  # the slow answer the client gave up on is finished and counted
    assert result.text == "A"
    # Under load an ordinary answer may also time out; each fault is still one error.
    kinds = [
        ("HTTP 429",),
        ("HTTP 500",),
        ("malformed",),
        ("Timeout at",),
        ("RemoteProtocolError", "ReadError"),
    ]
    for kind in kinds:
        assert any(word in error for error in result.errors for word in kind), result.errors
    timeouts = sum("Timeout at" in error for error in result.errors)
    assert len(result.errors) == 4 + timeouts
    # The slow answer is counted; anything beyond the timed-out requests is a duplicate.
    assert 2 <= server.answered["q"] <= 1 + timeouts


def test_client_gives_up_with_the_reasons() -> None:
    with FaultServer(["500"] * 10) as server:

        async def call() -> object:
            retry = RetryPolicy(max_attempts=3, base_delay=0.01, timeout=1.0)
            async with ChatClient(server.base_url, retry=retry) as client:
                return await client.complete({"messages": [{"role": "user", "content": "q"}]})

        with pytest.raises(CallError, match="HTTP 500"):
            asyncio.run(call())


def test_requests_per_minute_are_paced() -> None:
    from monoculture.agents.http import _Pacer

    async def third_request_waits() -> bool:
        pacer = _Pacer(rpm=2, tpm=None)
        await pacer.wait(10)
        await pacer.wait(10)
        waiter = asyncio.create_task(pacer.wait(10))
        await asyncio.sleep(0.2)
        waiting = not waiter.done()
        waiter.cancel()
        return waiting

    assert asyncio.run(third_request_waits())  # a third request within the minute waits
