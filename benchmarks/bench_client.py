"""The agent client: overhead per call, throughput against the embedded model at
concurrency 1, 8 and 64, and cached-call throughput (target >= 5,000 calls/s).

Run: ``.venv/bin/python benchmarks/bench_client.py``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from monoculture.agents import ChatClient, LocalModelServer
from monoculture.agents.fault_server import FaultServer
from monoculture.experiment import ExperimentConfig, run_experiment
from monoculture.tasks import generate_probes

REQUEST = {"messages": [{"role": "user", "content": "q"}], "max_tokens": 1}


async def _ours(url: str, n: int) -> float:
    async with ChatClient(url, concurrency=1) as client:
        start = time.perf_counter()
        for _ in range(n):
            await client.complete(REQUEST)
        return (time.perf_counter() - start) / n


async def _raw(url: str, n: int) -> float:
    async with httpx.AsyncClient() as client:
        start = time.perf_counter()
        for _ in range(n):
            response = await client.post(url.rstrip("/") + "/chat/completions", json=REQUEST)
            response.json()
        return (time.perf_counter() - start) / n


async def _throughput(url: str, concurrency: int, n: int) -> float:
    items = generate_probes(n, seed=concurrency)
    requests = [
        {
            "messages": [{"role": "user", "content": item.prompt()}],
            "max_tokens": 1,
            "grammar": "root ::= " + " | ".join(f'"{x}"' for x in item.letters),
            "temperature": 0,
        }
        for item in items
    ]
    async with ChatClient(url, concurrency=concurrency) as client:
        start = time.perf_counter()
        await asyncio.gather(*(client.complete(r) for r in requests))
        return n / (time.perf_counter() - start)


def _cached_rate() -> float:
    with FaultServer() as server, tempfile.TemporaryDirectory() as folder:
        config = ExperimentConfig.model_validate(
            {
                "name": "cache",
                "topology": "independent",
                "bootstrap": 0,
                "tasks": {"n_items": 500},
                "agents": {"backend": "openai", "seeds": list(range(12)), "temperatures": [0.5]},
                "endpoint": {"base_url": server.base_url, "concurrency": 16},
            }
        )
        run_experiment(config, Path(folder))
        start = time.perf_counter()
        again = run_experiment(config, Path(folder))
        seconds = time.perf_counter() - start
    assert again.progress.cached == 6000
    return 6000 / seconds


def main() -> None:
    with FaultServer() as server:
        ours = asyncio.run(_ours(server.base_url, 500))
        raw = asyncio.run(_raw(server.base_url, 500))
    print("client overhead, 500 sequential calls to an instant loopback server")
    print(
        f"  monoculture ChatClient: {ours * 1e3:.2f} ms per call; bare httpx: "
        f"{raw * 1e3:.2f} ms; ratio {ours / raw:.2f}"
    )
    with LocalModelServer(parallel=4) as local:
        print(
            "throughput against the embedded SmolLM2-135M server (4 slots, 2 cores), "
            "distinct prompts"
        )
        for concurrency in (1, 8, 64):
            rate = asyncio.run(_throughput(local.base_url, concurrency, 64))
            print(f"  concurrency {concurrency:>2}: {rate:.1f} calls/s")
    rate = _cached_rate()
    print(
        f"cached calls (a full re-run of 6,000 calls, ledger writes and analysis included): "
        f"{rate:,.0f} calls/s (target >= 5,000)"
    )


if __name__ == "__main__":
    main()
