"""`analyze` on MMLU-Pro next to a CPU-bound process, with BLAS threads matched to the idle
cores (the default) and with one BLAS thread per core (threadpoolctl forcing it).

Prints each time and the ratio loaded / quiet. The competing process is a busy loop that
runs for a bounded time and is always reaped. Skipped without ../shared/data.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

from threadpoolctl import threadpool_limits

from monoculture import analyze
from monoculture._threads import usable_cores
from monoculture.io import read_responses

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mmlu-pro"
BUSY = "import time\nend = time.time() + 180\nwhile time.time() < end:\n    pass\n"


def timed(responses: object, *, all_cores: bool) -> float:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if all_cores:
            # Force one BLAS thread per core inside analyze's own limit.
            os.environ["OPENBLAS_NUM_THREADS"] = str(usable_cores())
            with threadpool_limits(limits=usable_cores(), user_api="blas"):
                analyze(responses, bootstrap=1000)  # type: ignore[arg-type]
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            analyze(responses, bootstrap=1000)  # type: ignore[arg-type]
    return time.perf_counter() - start


def main() -> None:
    if not (DATA / "responses.csv.gz").is_file():
        print(f"skipped: {DATA} is absent")
        return
    responses = read_responses(DATA / "responses.csv.gz", agents=DATA / "agents.csv")
    timed(responses, all_cores=False)  # warm-up: first-call costs are not the load's
    quiet = timed(responses, all_cores=False)
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        time.sleep(65)  # let the 1-minute load average see the competitor
        adaptive = timed(responses, all_cores=False)
        all_cores = timed(responses, all_cores=True)
    finally:
        busy.kill()
        busy.wait()
    print(f"analyze on MMLU-Pro, 1,000 resamples, {usable_cores()} cores")
    print(f"  quiet: {quiet:.1f} s")
    print(
        f"  next to a CPU-bound process: {adaptive:.1f} s with BLAS threads matched to idle "
        f"cores ({adaptive / quiet:.2f}x quiet), {all_cores:.1f} s with one per core "
        f"({all_cores / quiet:.2f}x quiet)"
    )


if __name__ == "__main__":
    main()
