"""Long-horizon environments played by vectorised agents and by LLM swarms alike.

One interface (`Environment`): a state vectorised over runs, each agent's observation as
numbers and as a text prompt, an action space that parses and validates answers, and the
transition. `play` runs a vectorised `Policy`; `EnvironmentTopology` plays the same
environment with an experiment's LLM workers through the runner's planning protocol.

Environments: `Commons` (GovSim's fishing scenario, ported rule for rule) and
`DriftingEstimation` (a drifting hidden quantity, private noisy observations, peers'
estimates through a network). Parametric agents: `CommonsPolicy`, `EstimationPolicy`,
fitted to LLM agents' one-step behaviour by `fit_commons_policy`, `fit_estimation_policy`.
Swarm designs compared, each next to its fitted simulator: `compare_designs`.
See ``docs/environments.md``.
"""

from monoculture.environments._commons import (
    Commons,
    CommonsMetrics,
    CommonsState,
    assign_stochastic,
    commons_metrics,
    gini,
)
from monoculture.environments._designs import (
    DesignComparison,
    compare_designs,
    decision_agreement,
    decision_correlation,
    design_figures,
    run_agreement,
    trajectories,
)
from monoculture.environments._estimation import (
    DriftingEstimation,
    EstimationMetrics,
    EstimationState,
    diversity_terms,
    estimation_metrics,
)
from monoculture.environments._llm import ENVIRONMENTS, EnvironmentTopology, make_environment
from monoculture.environments._policies import (
    CommonsPolicy,
    EstimationPolicy,
    fit_commons_policy,
    fit_estimation_policy,
)
from monoculture.environments._protocol import (
    ActionSpace,
    Environment,
    EnvironmentResult,
    Policy,
    long_table,
    play,
    seed_streams,
)

__all__ = [
    "ENVIRONMENTS",
    "ActionSpace",
    "Commons",
    "CommonsMetrics",
    "CommonsPolicy",
    "CommonsState",
    "DesignComparison",
    "DriftingEstimation",
    "Environment",
    "EnvironmentResult",
    "EnvironmentTopology",
    "EstimationMetrics",
    "EstimationPolicy",
    "EstimationState",
    "Policy",
    "assign_stochastic",
    "commons_metrics",
    "compare_designs",
    "decision_agreement",
    "decision_correlation",
    "design_figures",
    "diversity_terms",
    "estimation_metrics",
    "fit_commons_policy",
    "fit_estimation_policy",
    "gini",
    "long_table",
    "make_environment",
    "play",
    "run_agreement",
    "seed_streams",
    "trajectories",
]
