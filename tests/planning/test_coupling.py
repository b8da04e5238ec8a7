import numpy as np

from dexterous.planning.coupling import couple


def test_coupling_arithmetic():
    means = np.array([[0.2, -0.6], [0.4, 0.0], [-0.8, 0.1]])
    prev = np.array([0.5, -0.5])
    beta = 0.7
    expected = np.empty_like(means)
    a = prev
    for s in range(3):
        a = beta * means[s] + (1 - beta) * a
        expected[s] = a
    np.testing.assert_allclose(couple(means, prev, beta, -1.0, 1.0), expected, rtol=0, atol=1e-15)
    # Spelled out for the first step: 0.7·0.2 + 0.3·0.5 = 0.29.
    assert np.isclose(expected[0, 0], 0.29)


def test_clipping_happens_after_coupling_and_feeds_the_next_step():
    means = np.array([[1.6], [0.0]])
    prev = np.array([0.8])
    actions = couple(means, prev, 0.5, -1.0, 1.0)
    # Step 0: 0.5·1.6 + 0.5·0.8 = 1.2 → clipped to 1.0; step 1 couples from the clipped
    # 1.0 (giving 0.5), not from 1.2 (which would give 0.6).
    np.testing.assert_array_equal(actions, [[1.0], [0.5]])


def test_per_dimension_bounds_equal_scalar_bounds_when_uniform():
    rng = np.random.default_rng(0)
    means = rng.uniform(-2, 2, size=(6, 4, 3))
    prev = rng.uniform(-1, 1, size=3)
    by_scalar = couple(means, prev, 0.7, -1.0, 1.0)
    by_array = couple(means, prev, 0.7, -np.ones(3), np.ones(3))
    np.testing.assert_array_equal(by_scalar, by_array)
    asymmetric = couple(means, prev, 0.7, np.array([-0.1, -1, -1]), np.array([0.2, 1, 1]))
    assert asymmetric[..., 0].min() >= -0.1 and asymmetric[..., 0].max() <= 0.2


def test_one_sequence_alone_matches_it_inside_a_batch_bit_for_bit():
    rng = np.random.default_rng(1)
    means = rng.uniform(-1, 1, size=(50, 20, 7))
    prev = rng.uniform(-1, 1, size=7)
    batch = couple(means, prev, 0.7, -1.0, 1.0)
    for n in (0, 17, 49):
        np.testing.assert_array_equal(couple(means[n], prev, 0.7, -1.0, 1.0), batch[n])


def test_writes_into_the_given_buffer():
    means = np.zeros((2, 3, 2))
    out = np.full_like(means, 9.0)
    result = couple(means, np.ones(2), 0.5, -1.0, 1.0, out=out)
    assert result is out
    np.testing.assert_array_equal(out[:, :, 0], [[0.5, 0.25, 0.125]] * 2)
