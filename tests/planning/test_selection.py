import numpy as np

from dexterous.planning.selection import elite_tiling, exponential_weights


def test_elites_best_first_tiled_to_the_population():
    scores = np.array([3.0, 9.0, 1.0, 7.0, 5.0])
    np.testing.assert_array_equal(elite_tiling(scores, 2), [1, 3, 1, 3, 1])
    np.testing.assert_array_equal(elite_tiling(scores, 3), [1, 3, 4, 1, 3])
    np.testing.assert_array_equal(elite_tiling(scores, 1), [1] * 5)


def test_keeping_everyone_sorts_by_score():
    scores = np.array([3.0, 9.0, 1.0, 7.0, 5.0])
    np.testing.assert_array_equal(elite_tiling(scores, 5), [1, 3, 4, 0, 2])


def test_diverged_samples_are_never_elites_while_finite_ones_remain():
    scores = np.array([-np.inf, 2.0, -np.inf, 1.0, 0.5, -np.inf])
    tiled = elite_tiling(scores, 3)
    assert set(tiled) == {1, 3, 4}


def test_weights_sum_to_one_and_follow_the_normalised_scores():
    scores = np.array([0.0, 5.0, 10.0])
    weights = exponential_weights(scores, 20.0)
    assert np.isclose(weights.sum(), 1.0)
    # R̃ = (R − 10) / 10: the worst sample weighs e^−20 of the best, the middle e^−10.
    np.testing.assert_allclose(weights / weights[2], [np.exp(-20), np.exp(-10), 1.0])


def test_weights_ignore_the_reward_scale():
    scores = np.array([0.3, -1.2, 4.0, 2.2])
    np.testing.assert_allclose(
        exponential_weights(scores, 5.0), exponential_weights(1000.0 * scores - 7.0, 5.0)
    )


def test_huge_kappa_puts_all_weight_on_the_best():
    scores = np.array([0.3, -1.2, 4.0, 3.999])
    np.testing.assert_array_equal(exponential_weights(scores, 1e9), [0.0, 0.0, 1.0, 0.0])


def test_diverged_samples_get_no_weight():
    weights = exponential_weights(np.array([-np.inf, 1.0, 2.0]), 1.0)
    assert weights[0] == 0.0 and weights[1] > 0.0


def test_degenerate_scores_weigh_uniformly():
    np.testing.assert_array_equal(exponential_weights(np.full(4, 2.0), 20.0), [0.25] * 4)
    np.testing.assert_array_equal(exponential_weights(np.full(4, -np.inf), 20.0), [0.25] * 4)
    np.testing.assert_array_equal(
        exponential_weights(np.array([-np.inf, 3.0, 3.0]), 20.0), [0.0, 0.5, 0.5]
    )
