"""Aggregation that keeps disagreement: voting rules that do not amplify shared errors,
the choice of which agents to combine, and the dissent a vote hides.

Every aggregator is fitted on training items and applied to other items of the same
agents: ``aggregator.fit(train).predict(test)`` returns `Decisions` (per item the chosen
answer, a score per option, the support behind it). `compare_aggregators` does the split
and the scoring; `select_agents` and `compare_selection` choose agents; `minority_report`
shows the strongest dissent with its effective number of independent supporters.

Example:
    >>> from monoculture import Responses
    >>> r = Responses.from_arrays(answers=[[0, 0, 1], [1, 1, 0]], gold=[0, 1])
    >>> Plurality().fit(r).predict(r).answer.tolist()
    [0, 1]
"""

from monoculture.aggregate._base import Aggregator
from monoculture.aggregate._compare import (
    AGGREGATORS,
    DEFAULT_METHODS,
    MIN_TRAINING_ITEMS,
    AggregationComparison,
    MethodResult,
    SelectionComparison,
    aggregator_from_dict,
    compare_aggregators,
    compare_selection,
    make_aggregator,
    split_items,
    wilson_interval,
)
from monoculture.aggregate._correlated import ClusterVote, CovarianceWeighted, ledoit_wolf
from monoculture.aggregate._dawid_skene import DawidSkene, OneCoinDawidSkene
from monoculture.aggregate._decisions import Decisions
from monoculture.aggregate._dissent import (
    Dissent,
    consistency_matrix,
    effective_supporters,
    minority_report,
)
from monoculture.aggregate._selection import Selection, select_agents, top_k_agents
from monoculture.aggregate._surprisingly_popular import (
    PREDICTION_COLUMN,
    SurprisinglyPopular,
    predicted_shares,
)
from monoculture.aggregate._votes import Plurality, WeightedVote, log_odds_weights

__all__ = [
    "AGGREGATORS",
    "DEFAULT_METHODS",
    "MIN_TRAINING_ITEMS",
    "PREDICTION_COLUMN",
    "AggregationComparison",
    "Aggregator",
    "ClusterVote",
    "CovarianceWeighted",
    "DawidSkene",
    "Decisions",
    "Dissent",
    "MethodResult",
    "OneCoinDawidSkene",
    "Plurality",
    "Selection",
    "SelectionComparison",
    "SurprisinglyPopular",
    "WeightedVote",
    "aggregator_from_dict",
    "compare_aggregators",
    "compare_selection",
    "consistency_matrix",
    "effective_supporters",
    "ledoit_wolf",
    "log_odds_weights",
    "make_aggregator",
    "minority_report",
    "predicted_shares",
    "select_agents",
    "split_items",
    "top_k_agents",
    "wilson_interval",
]
