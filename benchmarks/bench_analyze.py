"""`analyze` on the MMLU-Pro data (31 LLMs x 12,032 items) with 1,000 bootstrap resamples.

Target: under 10 s on 2 cores, reading the file included. Skipped without ../shared/data.
Run: ``.venv/bin/python benchmarks/bench_analyze.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

from _common import peak_memory_gb
from monoculture import analyze
from monoculture.io import read_responses

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mmlu-pro"


def main() -> None:
    if not (DATA / "responses.csv.gz").is_file():
        print(f"skipped: {DATA} is absent")
        return
    start = time.perf_counter()
    responses = read_responses(DATA / "responses.csv.gz", agents=DATA / "agents.csv")
    read = time.perf_counter() - start
    result = analyze(responses, bootstrap=1000, seed=0)
    total = time.perf_counter() - start
    print("analyze on MMLU-Pro, 31 agents x 12,032 items, 1,000 bootstrap resamples")
    print(
        f"  read: {read:.1f} s; read + analyze: {total:.1f} s (target < 10 s); "
        f"ratio to the target: {total / 10:.2f}"
    )
    print(f"  peak memory: {peak_memory_gb():.2f} GB")
    print(f"  {result.verdict}")


if __name__ == "__main__":
    main()
