"""Dawid–Skene and one-coin Dawid–Skene against crowd-kit and against hand-worked steps."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from monoculture import Responses
from monoculture.aggregate import DawidSkene, OneCoinDawidSkene, Plurality, split_items
from monoculture.errors import ConvergenceWarning
from tests.aggregate.planted import bloc_swarm

crowdkit = pytest.importorskip("crowdkit.aggregation", reason="crowd-kit is the test oracle")


def _random_crowd(seed: int) -> tuple[Responses, pd.DataFrame, np.ndarray]:
    """200 items x 7 agents x 3 labels, 20 % of cells missing, half the gold known."""
    rng = np.random.default_rng(seed)
    n_items, n_agents, k = 200, 7, 3
    truth = rng.integers(0, k, n_items)
    accuracy = rng.uniform(0.4, 0.9, n_agents)
    noise = rng.integers(0, k, (n_items, n_agents))
    answers = np.where(rng.random((n_items, n_agents)) < accuracy, truth[:, None], noise)
    answers[rng.random((n_items, n_agents)) < 0.2] = -1
    answers[answers.max(axis=1) < 0, 0] = 0  # every item has a vote, as in crowd-kit's data
    gold = np.where(rng.random(n_items) < 0.5, truth, -1)
    responses = Responses.from_arrays(answers=answers, gold=gold, labels=["a", "b", "c"])
    items, agents = np.nonzero(answers >= 0)
    table = pd.DataFrame({"task": items, "worker": agents, "label": answers[items, agents]})
    return responses, table, gold


def _theirs(probas: pd.DataFrame) -> np.ndarray:
    return probas.sort_index().reindex(columns=[0, 1, 2]).to_numpy()


@pytest.mark.parametrize(("n_iter", "tol"), [(1, -np.inf), (7, -np.inf), (100, 1e-5)])
@pytest.mark.parametrize("use_gold", [False, True])
def test_dawid_skene_equals_crowd_kit(n_iter: int, tol: float, use_gold: bool) -> None:
    # Catches any slip in the EM steps (priors, the floor at 1e-10, normalising the wrong
    # axis of the confusion matrices, the gold correction, the stopping rule): posteriors,
    # confusion matrices and the number of iterations must equal crowd-kit's.
    responses, table, gold = _random_crowd(seed=n_iter)
    known = gold >= 0
    true_labels = pd.Series(gold[known], index=np.flatnonzero(known)) if use_gold else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # crowd-kit's pandas deprecation warnings
        theirs = crowdkit.DawidSkene(n_iter=n_iter, tol=tol).fit(table, true_labels=true_labels)
    ours = DawidSkene(n_iter=n_iter, tol=tol, use_gold=use_gold, smoothing=0.0).fit(responses)
    np.testing.assert_allclose(ours.posterior_, _theirs(theirs.probas_), atol=1e-6)
    errors = theirs.errors_.sort_index()
    for agent in range(responses.n_agents):
        matrix = errors.loc[agent].reindex(index=[0, 1, 2], columns=[0, 1, 2]).to_numpy()
        np.testing.assert_allclose(ours.errors_[agent], matrix, atol=1e-6)
    assert len(ours.loss_history_) == len(theirs.loss_history_)
    np.testing.assert_allclose(ours.loss_history_, theirs.loss_history_, atol=1e-9)


@pytest.mark.parametrize(("n_iter", "tol"), [(1, -np.inf), (7, -np.inf), (100, 1e-5)])
def test_one_coin_equals_crowd_kit(n_iter: int, tol: float) -> None:
    # Catches a wrong skill (mean posterior of the agent's own answer) or spreading the
    # error mass over K instead of K - 1 labels.
    responses, table, _ = _random_crowd(seed=10 + n_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # crowd-kit's pandas deprecation warnings
        theirs = crowdkit.OneCoinDawidSkene(n_iter=n_iter, tol=tol).fit(table)
    ours = OneCoinDawidSkene(n_iter=n_iter, tol=tol, use_gold=False).fit(responses)
    np.testing.assert_allclose(ours.posterior_, _theirs(theirs.probas_), atol=1e-6)
    np.testing.assert_allclose(ours.skills_, theirs.skills_.sort_index().to_numpy(), atol=1e-6)
    assert len(ours.loss_history_) == len(theirs.loss_history_)


# Five tasks, five workers, "no"/"yes" (the layout of crowd-kit's step-by-step test; the
# numbers below are worked out here). Worker w3 did not answer t1.
_TOY = {
    "t1": ["no", "yes", None, "yes", "no"],
    "t2": ["yes", "yes", "yes", "no", "no"],
    "t3": ["yes", "no", "no", "yes", "no"],
    "t4": ["yes", "yes", "yes", "yes", "yes"],
    "t5": ["yes", "no", "no", "no", "no"],
}


def _toy() -> Responses:
    codes = np.array(
        [[-1 if a is None else ["no", "yes"].index(a) for a in row] for row in _TOY.values()]
    )
    return Responses.from_arrays(
        answers=codes,
        gold=[-1] * 5,
        labels=["no", "yes"],
        items=list(_TOY),
        agents=[f"w{i}" for i in range(1, 6)],
    )


def test_iteration_zero_by_hand() -> None:
    # Catches a wrong initialisation. Majority-vote shares: P(no) = 2/4, 2/5, 3/5, 0, 4/5
    # for t1..t5, so the prior of "no" is (0.5 + 0.4 + 0.6 + 0 + 0.8) / 5 = 0.46. Worker w1
    # answered no on t1 and yes elsewhere: for true "no", expected counts no = 0.5 and
    # yes = 0.4 + 0.6 + 0 + 0.8 = 1.8, so P(say no | no) = 0.5 / 2.3 = 5/23; for true
    # "yes", no = 0.5 and yes = 0.6 + 0.4 + 1 + 0.2 = 2.2, so P(say no | yes) = 0.5 / 2.7.
    fitted = DawidSkene(n_iter=0, use_gold=False, smoothing=0.0).fit(_toy())
    np.testing.assert_allclose(fitted.posterior_[:, 0], [0.5, 0.4, 0.6, 0.0, 0.8])
    np.testing.assert_allclose(fitted.priors_, [0.46, 0.54])
    np.testing.assert_allclose(fitted.errors_[0, 0], [5 / 23, 5 / 27])
    np.testing.assert_allclose(fitted.errors_[0, 1], [18 / 23, 22 / 27])


def test_iteration_one_against_a_naive_e_step() -> None:
    # Catches an E-step that multiplies the wrong confusion entries: one EM step computed
    # here with plain loops from the iteration-0 parameters, and crowd-kit's published
    # two-decimal posteriors for it (t1 0.35, t2 0.26, t3 0.87, t4 0.00, t5 0.95 for "no").
    start = DawidSkene(n_iter=0, use_gold=False, smoothing=0.0).fit(_toy())
    codes = _toy().answers
    expected = np.zeros((5, 2))
    for i in range(5):
        for true in range(2):
            p = start.priors_[true]
            for worker in range(5):
                if codes[i, worker] >= 0:
                    p *= start.errors_[worker, codes[i, worker], true]
            expected[i, true] = p
    expected /= expected.sum(axis=1, keepdims=True)
    one = DawidSkene(n_iter=1, tol=-np.inf, use_gold=False, smoothing=0.0).fit(_toy())
    np.testing.assert_allclose(one.posterior_, expected, atol=1e-12)
    np.testing.assert_allclose(one.posterior_[:, 0], [0.35, 0.26, 0.87, 0.0, 0.95], atol=0.006)


def test_not_converging_warns() -> None:
    # Catches a silent stop at n_iter: the user must learn the fit did not converge.
    responses, _, _ = _random_crowd(seed=3)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        DawidSkene(n_iter=1, tol=1e-12, use_gold=False).fit(responses)


def test_dawid_skene_matches_or_beats_plurality_on_independent_agents() -> None:
    # Catches a model that fails where its assumptions hold: 9 independent agents of
    # accuracies 0.35-0.75, 4,000 items. The paired difference must not be worse than
    # plurality by more than 3 standard errors of that difference.
    responses = bloc_swarm(4000, n_bloc=1, n_independent=8, independent_accuracy=0.5, seed=4)
    train, test = split_items(responses, seed=4)
    ds = DawidSkene().fit(train).predict(test).correct
    plurality = Plurality().fit(train).predict(test).correct
    difference = ds - plurality
    se = difference.std(ddof=1) / np.sqrt(len(difference))
    assert difference.mean() > -3 * se
