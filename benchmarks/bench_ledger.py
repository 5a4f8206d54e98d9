"""The transparency log: appends per second and proof times, against the issue's targets.

Targets (issue 13): >= 20,000 records appended per second on 2 cores; inclusion and
consistency proofs under 1 ms for a log of 1,000,000 records (read from stored subtree
hashes, no recomputation). Appends are timed with records shaped like the experiment
ledger's rows (~600 bytes of canonical JSON each), in batches as `Store.record` writes a
step, and also one record per transaction (a live call); the 1,000,000-record log for the
proofs is built from small records (``{"i": ..., "decision": ...}``) to save time: proof
cost depends on the tree's size, not on the records'.
Run: ``.venv/bin/python benchmarks/bench_ledger.py [--size N] [--appends N]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from monoculture.ledger import TransparencyLog

APPEND_TARGET = 20_000  # records per second
PROOF_TARGET_MS = 1.0


def ledger_row(i: int) -> dict[str, Any]:
    """A record like the experiment runner's ledger rows."""
    return {
        "run": "3f2a9c1b7d4e",
        "key": f"{i:064x}",
        "agent": f"careful-t0.8-s{i % 4}",
        "item": f"probe-{i % 100}",
        "round": i % 3,
        "kind": "answer",
        "request": {
            "messages": [
                {"role": "system", "content": "You are a careful reasoner. Check every step."},
                {"role": "user", "content": f"Question {i}: which is larger? A) 9.11 B) 9.9"},
            ],
            "seed": i % 4,
            "temperature": 0.8,
            "max_tokens": 8,
        },
        "response": {"text": "B", "top_logprobs": [[["B", -0.21], ["A", -1.66]]]},
        "status": "ok",
        "error": None,
        "attempts": 1,
        "latency": 0.1234 + i * 1e-6,
        "prompt_tokens": 41,
        "completion_tokens": 1,
        "time": 1_760_000_000.25 + i,
    }


def time_appends(folder: Path, n: int, batch: int) -> float:
    """Records appended per second (canonical encoding, hashing and the commit included)."""
    rows = [ledger_row(i) for i in range(n)]
    with TransparencyLog.open(folder / f"appends-{batch}.sqlite", create=True) as log:
        start = time.perf_counter()
        for first in range(0, n, batch):
            log.append_many(rows[first : first + batch])
        return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000, help="records in the proof log")
    parser.add_argument("--appends", type=int, default=100_000, help="records to append")
    parser.add_argument("--proofs", type=int, default=2_000, help="proofs of each kind")
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        batched = time_appends(folder, args.appends, 1_000)
        single = time_appends(folder, min(args.appends, 5_000), 1)
        print(
            f"appends, ledger-sized records, 1,000 per transaction: {batched:,.0f}/s "
            f"(target >= {APPEND_TARGET:,}/s: {batched / APPEND_TARGET:.1f}x the target)"
        )
        print(
            f"appends, one record per transaction (a live call): {single:,.0f}/s "
            f"({single / APPEND_TARGET:.2f}x the batched target)"
        )

        path = folder / "big.sqlite"
        start = time.perf_counter()
        with TransparencyLog.open(path, create=True) as log:
            for first in range(0, args.size, 10_000):
                log.append_many(
                    {"i": i, "decision": "AB"[i % 2]}
                    for i in range(first, min(first + 10_000, args.size))
                )
        build = time.perf_counter() - start
        print(
            f"built a log of {args.size:,} small records in {build:.1f} s "
            f"({args.size / build:,.0f}/s)"
        )

        with TransparencyLog.open(path, read_only=True) as log:
            size = log.size
            inclusion, consistency = [], []
            for _ in range(args.proofs):
                index = rng.randrange(size)
                start = time.perf_counter()
                proof = log.prove_inclusion(index)
                inclusion.append(time.perf_counter() - start)
                proof.verify()
                old = rng.randrange(1, size + 1)
                start = time.perf_counter()
                proof_c = log.prove_consistency(old)
                consistency.append(time.perf_counter() - start)
                proof_c.verify()
            for name, times in (("inclusion", inclusion), ("consistency", consistency)):
                mean = statistics.fmean(times) * 1e3
                p99 = sorted(times)[int(0.99 * len(times))] * 1e3
                print(
                    f"{name} proof, log of {size:,}: mean {mean:.3f} ms, p99 {p99:.3f} ms "
                    f"(target < {PROOF_TARGET_MS:g} ms: p99 at "
                    f"{p99 / PROOF_TARGET_MS:.2f}x the limit)"
                )
            start = time.perf_counter()
            result = log.verify()
            print(
                f"verify, log of {size:,}: {time.perf_counter() - start:.1f} s "
                f"(ok={result.ok}; every hash recomputed, O(n))"
            )


if __name__ == "__main__":
    main()
