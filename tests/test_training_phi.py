"""phi(R, r; alpha(t), gamma) and the alpha schedules against values computed by hand."""

import math

import pytest

from o1coder.training.phi import alpha_at, discounted_process_reward, phi


def test_phi_mixes_outcome_and_discounted_process_rewards():
    # process = (0.9 * 0.8 + 0.9**2 * 0.6) / 2 = (0.72 + 0.486) / 2 = 0.603; phi = 0.5 * 1 + 0.5 * 0.603
    assert phi(1.0, [0.8, 0.6], alpha=0.5, gamma=0.9) == pytest.approx(0.8015)
    # gamma 1: the plain mean of r; R = 0 leaves (1 - alpha) * mean(r) = 0.2 * 1
    assert phi(0.0, [1.0, 1.0, 1.0], alpha=0.8, gamma=1.0) == pytest.approx(0.2)
    # one step: 0.9 * 0.2 + 0.1 * (0.5 * 0.5) = 0.18 + 0.025
    assert phi(0.2, [0.5], alpha=0.9, gamma=0.5) == pytest.approx(0.205)
    # alpha 1: the outcome only; alpha 0: the process only, (0.5 * 1 + 0.25 * 0) / 2
    assert phi(0.7, [0.1, 0.2], alpha=1.0, gamma=0.5) == pytest.approx(0.7)
    assert phi(0.7, [1.0, 0.0], alpha=0.0, gamma=0.5) == pytest.approx(0.25)


def test_phi_without_process_rewards_is_the_outcome():
    assert phi(1.0, [], alpha=0.3, gamma=0.9) == 1.0
    assert phi(0.2, alpha=0.5) == 0.2
    assert discounted_process_reward([], 0.9) is None
    assert discounted_process_reward([1.0, 1.0], 0.5) == pytest.approx((0.5 + 0.25) / 2)


def test_alpha_schedules():
    # a 5-round loop: alpha(0) = start, alpha(4) = end (the last round), then end
    linear = [alpha_at(t, schedule="linear", start=0.9, end=0.5, rounds=5) for t in range(7)]
    assert linear == pytest.approx([0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.5])
    log = [alpha_at(t, schedule="log", start=0.9, end=0.5, rounds=5) for t in (0, 1, 3, 4, 9)]
    # 0.9 - 0.4 * ln(1 + t) / ln(5)
    assert log == pytest.approx([0.9, 0.9 - 0.4 * math.log(2) / math.log(5), 0.9 - 0.4 * math.log(4) / math.log(5),
                                 0.5, 0.5])
    assert log[1] == pytest.approx(0.727729, abs=1e-6)  # the log schedule moves faster in the first rounds
    assert log[1] < linear[1]
    assert alpha_at(3, schedule="constant", start=0.6, end=0.1, rounds=2) == 0.6
    assert alpha_at(1, schedule="linear", start=0.2, end=0.6, rounds=3) == pytest.approx(0.4)  # may rise, too
    assert alpha_at(1, schedule="linear", start=0.9, end=0.5, rounds=2) == 0.5  # two rounds: start, then end
    assert alpha_at(0, schedule="log", start=0.9, end=0.5, rounds=1) == 0.9  # nothing to move over


@pytest.mark.parametrize("kwargs, message", [
    ({"schedule": "cosine"}, "schedule"), ({"t": -1}, "round t"), ({"rounds": 0}, "rounds"),
    ({"start": 1.5}, "start"), ({"end": -0.1}, "end"),
])
def test_alpha_rejects_bad_values(kwargs, message):
    args = {"t": 0, "schedule": "linear", "start": 0.9, "end": 0.5, "rounds": 4, **kwargs}
    t = args.pop("t")
    with pytest.raises(ValueError, match=message):
        alpha_at(t, **args)


def test_phi_rejects_bad_values():
    with pytest.raises(ValueError, match="alpha"):
        phi(1.0, [0.5], alpha=1.2)
    with pytest.raises(ValueError, match="gamma"):
        phi(1.0, [0.5], alpha=0.5, gamma=2.0)
    with pytest.raises(ValueError, match="NaN"):
        phi(float("nan"), [], alpha=0.5)


def test_outcome_rules():
    from o1coder.execution import ExecResult
    from o1coder.execution.result import TestOutcome
    from o1coder.search import SearchConfig
    from o1coder.training import TrainingConfig
    from o1coder.training.rewards import Outcome, outcome_rule

    passed = ExecResult("passed", [TestOutcome("passed"), TestOutcome("passed")])
    failed = ExecResult("failed", [TestOutcome("passed"), TestOutcome("failed")])
    formula = outcome_rule(TrainingConfig(), SearchConfig(alpha=0.2))
    assert formula == Outcome(0.2) and formula.of(failed) == pytest.approx(0.2 + 0.8 * 0.5)
    tau = outcome_rule(TrainingConfig(outcome="tau", tau_pass=1.0, tau_fail=-0.5), SearchConfig())
    assert (tau.of(passed), tau.of(failed), tau.without_code) == (1.0, -0.5, -0.5)
    with pytest.raises(ValueError, match="training.outcome must be 'formula' or 'tau'"):
        TrainingConfig(outcome="paper")
