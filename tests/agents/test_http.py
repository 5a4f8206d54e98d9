"""The OpenAI-compatible client: retries, giving up with reasons, pacing."""

from __future__ import annotations

import asyncio

import pytest

from monoculture.agents import CallError, ChatClient, RetryPolicy
from monoculture.agents.fault_server import FaultServer


def test_client_retries_every_kind_of_fault() -> None:
    faults = ["429", "500", "malformed", "slow", "drop"]
    with FaultServer(faults, slow_seconds=1.0) as server:

        async def call() -> object:
            retry = RetryPolicy(max_attempts=6, base_delay=0.01, timeout=0.3)
            async with ChatClient(server.base_url, retry=retry) as client:
                return await client.complete({"messages": [{"role": "user", "content": "q"}]})

        result = asyncio.run(call())
    assert result.text == "A"  # type: ignore[attr-defined]
    assert len(result.errors) == 5  # type: ignore[attr-defined]
    assert server.answered["q"] == 1


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
