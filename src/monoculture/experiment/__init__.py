"""Swarm experiments with LLM agents: configuration, cache, ledger and runner."""

from monoculture.experiment.config import ExperimentConfig, load_experiment
from monoculture.experiment.runner import ExperimentResult, run_experiment
from monoculture.experiment.store import Store

__all__ = ["ExperimentConfig", "ExperimentResult", "Store", "load_experiment", "run_experiment"]
