import numpy as np

from dexterous.planning.scoring import score_rollouts, step_weights


def test_weighted_rewards_plus_one_per_successful_step():
    rewards = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]])
    successes = np.array([[False, True, True], [False, False, False]])
    scores = score_rollouts(rewards, successes, step_weights(3, 2.0))
    # 1·1 + 2·2 + 4·3 + 2 successes = 19; 0.5·(1 + 2 + 4) = 3.5.
    np.testing.assert_array_equal(scores, [19.0, 3.5])


def test_step_weights_are_powers():
    np.testing.assert_allclose(step_weights(3, 1.02), [1.0, 1.02, 1.0404])
    np.testing.assert_array_equal(step_weights(4, 1.0), np.ones(4))


def test_non_finite_scores_become_minus_infinity():
    rewards = np.array(
        [[0.0, np.nan], [0.0, -np.inf], [np.inf, 0.0], [np.inf, -np.inf], [1.0, 2.0]]
    )
    successes = np.zeros(rewards.shape, dtype=bool)
    scores = score_rollouts(rewards, successes, step_weights(2, 1.0))
    np.testing.assert_array_equal(scores, [-np.inf] * 4 + [3.0])
