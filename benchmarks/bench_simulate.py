"""The base estimation model: agent-steps per second against a memory-bandwidth bound,
against the same model written with Mesa, and the memory of 1,000,000 agents x 1,000 steps.

Targets: >= 1e8 agent-steps/s on 2 cores; >= 100x Mesa at 10,000 agents; < 4 GB.
Run: ``.venv/bin/python benchmarks/bench_simulate.py`` (Mesa: ``pip install mesa``).
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np

from _common import best_time, peak_memory_gb
from monoculture.simulate import EstimationConfig, run_estimation

# Bytes the base step must move per agent at the least: read and write the belief (8), read
# the agent's own error (4), write the output (4), write and read one normal draw (8).
BYTES_PER_AGENT_STEP = 24


def copy_bandwidth() -> float:
    """Bytes per second of a large array copy (read + write), the memory-bandwidth yardstick."""
    source = np.ones(50_000_000, dtype=np.float32)
    target = np.empty_like(source)
    seconds = best_time(lambda: np.copyto(target, source))
    return 2 * source.nbytes / seconds


def ours(n_agents: int, n_steps: int) -> float:
    config = EstimationConfig(n_agents=n_agents, n_steps=n_steps)
    run_estimation(config.model_copy(update={"n_steps": 2}))  # warm up
    seconds = best_time(lambda: run_estimation(config), repeats=2)
    return n_agents * n_steps / seconds


def mesa_rate(n_agents: int, n_steps: int) -> float | None:
    """The same base model (belief update from a noisy observation, shared + own error) in
    Mesa, one Python agent object per agent."""
    try:
        import mesa
    except ImportError:
        return None

    class Estimator(mesa.Agent):  # type: ignore[misc]
        def __init__(self, model: mesa.Model, own_error: float) -> None:
            super().__init__(model)
            self.belief = random.gauss(0.0, 1.0)
            self.own_error = own_error
            self.output = 0.0

        def step(self) -> None:
            seen = self.model.theta + random.gauss(0.0, 1.0)
            self.belief += 0.3 * (seen - self.belief)
            self.output = self.belief + self.model.shared + self.own_error

    class Swarm(mesa.Model):  # type: ignore[misc]
        def __init__(self, n: int) -> None:
            super().__init__(seed=0)
            self.theta, self.shared = 0.0, 0.0
            for _ in range(n):
                Estimator(self, random.gauss(0.0, 0.35))

        def step(self) -> None:
            self.theta += random.gauss(0.0, 0.05)
            self.shared = 0.99 * self.shared + random.gauss(0.0, 0.05)
            self.agents.do("step")
            self.collective = sum(a.output for a in self.agents) / len(self.agents)

    model = Swarm(n_agents)
    start = time.perf_counter()
    for _ in range(n_steps):
        model.step()
    return n_agents * n_steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    bandwidth = copy_bandwidth()
    bound = bandwidth / BYTES_PER_AGENT_STEP
    rate = ours(1_000_000, 100)
    print("base estimation model, 1,000,000 agents x 100 steps")
    print(f"  {rate:.3g} agent-steps/s (target >= 1e8)")
    print(
        f"  memory-bandwidth bound: {bandwidth / 1e9:.1f} GB/s copy / "
        f"{BYTES_PER_AGENT_STEP} B per agent-step = {bound:.3g} agent-steps/s; "
        f"ratio {rate / bound:.2f} of the bound"
    )
    small = ours(10_000, 1000)
    mesa = mesa_rate(10_000, 100)
    print("10,000 agents")
    print(f"  monoculture: {small:.3g} agent-steps/s")
    if mesa is None:
        print("  Mesa: not installed (pip install mesa)")
    else:
        print(f"  Mesa: {mesa:.3g} agent-steps/s; ratio {small / mesa:,.0f}x (target >= 100x)")
    if not args.skip_memory:
        start = time.perf_counter()
        run_estimation(EstimationConfig(n_agents=1_000_000, n_steps=1_000))
        print(
            f"1,000,000 agents x 1,000 steps: {time.perf_counter() - start:.1f} s, "
            f"peak memory {peak_memory_gb():.2f} GB (target < 4 GB)"
        )


if __name__ == "__main__":
    main()
