"""Vectorised long-horizon swarm simulation, speaking the language of the rest of
monoculture (the classification scenario exports `Responses`).

Scenarios: `run_estimation` (a drifting quantity; the base model), `run_commons` (a shared
resource with feedback), `run_cascade` (sequential decisions), `run_classification` (a
stream of items). Sweeps over any knobs: `run_sweep`, or ``monoculture simulate
config.toml``.
"""

from monoculture.simulate.cascade import CascadeConfig, run_cascade
from monoculture.simulate.classification import (
    ClassificationConfig,
    beta_binomial_majority,
    latent_error_consistency,
    run_classification,
)
from monoculture.simulate.commons import CommonsConfig, run_commons
from monoculture.simulate.estimation import EstimationConfig, run_estimation
from monoculture.simulate.sweep import (
    ScenarioConfig,
    SweepConfig,
    SweepResult,
    load_sweep,
    run_scenario,
    run_sweep,
)

__all__ = [
    "CascadeConfig",
    "ClassificationConfig",
    "CommonsConfig",
    "EstimationConfig",
    "ScenarioConfig",
    "SweepConfig",
    "SweepResult",
    "beta_binomial_majority",
    "latent_error_consistency",
    "load_sweep",
    "run_cascade",
    "run_classification",
    "run_commons",
    "run_estimation",
    "run_scenario",
    "run_sweep",
]
