"""Topologies: how agents see each other. Prompts for each, and conformity metrics."""

from monoculture.topologies.conformity import conformity_metrics, oversight_metrics
from monoculture.topologies.prompts import cascade_prompt, debate_prompt, judge_prompt

__all__ = [
    "cascade_prompt",
    "conformity_metrics",
    "debate_prompt",
    "judge_prompt",
    "oversight_metrics",
]
