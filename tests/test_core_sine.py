"""The sine task family: what `sine.sample` draws (ranges, shapes, where the noise goes) and what `sine.tasks` builds,
each checked against y = A·sin(x − ψ) computed here with math.sin, point by point."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mamlviz import sine


def sin_label(x, a, psi):
    return a * math.sin(x - psi)


def test_sample_shapes_and_labels_point_by_point():
    b = sine.sample(np.random.default_rng(0), 7, 5, 11)
    assert b.xs.shape == b.ys.shape == (7, 5, 1) and b.xq.shape == b.yq.shape == (7, 11, 1)
    assert b.amplitude.shape == b.phase.shape == (7,) and b.n_tasks == 7
    for t in range(7):
        for x, y in zip(b.xs[t, :, 0], b.ys[t, :, 0]):
            assert y == pytest.approx(sin_label(x, b.amplitude[t], b.phase[t]), abs=1e-12)
        for x, y in zip(b.xq[t, :, 0], b.yq[t, :, 0]):
            assert y == pytest.approx(sin_label(x, b.amplitude[t], b.phase[t]), abs=1e-12)


def test_sample_ranges_are_the_papers_and_are_filled():
    """A ~ U[0.1, 5], ψ ~ U[0, π], x ~ U[−5, 5]: every draw inside, and the draws reach near both ends."""
    b = sine.sample(np.random.default_rng(1), 4000, 10, 10)
    for values, (lo, hi) in [(b.amplitude, (0.1, 5.0)), (b.phase, (0.0, math.pi)), (b.xs, (-5.0, 5.0)),
                             (b.xq, (-5.0, 5.0))]:
        assert values.min() >= lo and values.max() <= hi
        span = hi - lo
        assert values.min() < lo + 0.01 * span and values.max() > hi - 0.01 * span
        assert abs(values.mean() - (lo + hi) / 2) < 0.03 * span        # uniform: the mean is the middle
    assert sine.AMPLITUDE == (0.1, 5.0) and sine.PHASE == (0.0, math.pi) and sine.X_RANGE == (-5.0, 5.0)


def test_sample_custom_ranges_and_query_range():
    b = sine.sample(np.random.default_rng(2), 500, 6, 6, amplitude=(2.0, 2.5), phase=(1.0, 1.2),
                    x_range=(0.0, 1.0), query_range=(3.0, 4.0))
    assert 2.0 <= b.amplitude.min() and b.amplitude.max() <= 2.5
    assert 1.0 <= b.phase.min() and b.phase.max() <= 1.2
    assert 0.0 <= b.xs.min() and b.xs.max() <= 1.0 and b.xs.max() > 0.9
    assert 3.0 <= b.xq.min() and b.xq.max() <= 4.0 and b.xq.min() < 3.1
    # without query_range the query points share the support range
    c = sine.sample(np.random.default_rng(2), 500, 6, 6, x_range=(0.0, 1.0))
    assert 0.0 <= c.xq.min() and c.xq.max() <= 1.0


def test_noise_goes_to_the_support_labels_only_with_its_standard_deviation():
    clean = sine.sample(np.random.default_rng(3), 400, 50, 20)
    noisy = sine.sample(np.random.default_rng(3), 400, 50, 20, noise=0.3)
    # same tasks and points (the noise is drawn after everything else)
    for name in ("xs", "xq", "amplitude", "phase", "yq"):
        np.testing.assert_array_equal(getattr(noisy, name), getattr(clean, name))
    residual = noisy.ys - sine.curve(noisy.xs, noisy.amplitude[:, None, None], noisy.phase[:, None, None])
    assert residual.std() == pytest.approx(0.3, rel=0.02) and abs(residual.mean()) < 0.01
    np.testing.assert_allclose(noisy.yq, sine.curve(noisy.xq, noisy.amplitude[:, None, None],
                                                    noisy.phase[:, None, None]), atol=1e-12)


def test_the_noise_is_the_next_draws_of_the_generator_times_the_standard_deviation():
    noisy = sine.sample(np.random.default_rng(5), 3, 4, 2, noise=0.3)
    rng = np.random.default_rng(5)
    clean = sine.sample(rng, 3, 4, 2)              # the same draws, then the noise would come next
    np.testing.assert_allclose(noisy.ys - clean.ys, 0.3 * rng.standard_normal((3, 4, 1)), atol=1e-12)


def test_sample_is_reproducible_and_rejects_bad_sizes():
    a, b = sine.sample(np.random.default_rng(9), 3, 2, 2), sine.sample(np.random.default_rng(9), 3, 2, 2)
    np.testing.assert_array_equal(a.xs, b.xs)
    assert sine.sample(np.random.default_rng(9), 1, 0, 0).xs.shape == (1, 0, 1)
    for bad in [(0, 1, 1), (1, -1, 1), (1, 1, -1)]:
        with pytest.raises(ValueError, match="n_tasks"):
            sine.sample(np.random.default_rng(0), *bad)


def test_curve_is_a_sin_of_x_minus_psi():
    assert sine.curve(1.0, 2.0, 0.0) == pytest.approx(2 * math.sin(1.0))
    assert sine.curve(0.5, 3.0, 0.5) == pytest.approx(0.0)
    assert sine.curve(math.pi / 2 + 0.3, 1.5, 0.3) == pytest.approx(1.5)     # the peak sits at x = ψ + π/2


def test_tasks_one_task_from_points():
    t = sine.tasks(2.0, 0.5, [-1.0, 0.0, 3.0])
    assert t.xs.shape == (1, 3, 1) and t.n_tasks == 1
    assert [float(v) for v in t.ys[0, :, 0]] == pytest.approx([sin_label(x, 2.0, 0.5) for x in (-1.0, 0.0, 3.0)])
    # default query points: 100 evenly spaced over [−5, 5], exact labels
    assert t.xq.shape == (1, 100, 1) and t.xq[0, 0, 0] == -5.0 and t.xq[0, -1, 0] == 5.0
    assert np.allclose(np.diff(t.xq[0, :, 0]), 10 / 99)
    assert t.yq[0, 37, 0] == pytest.approx(sin_label(t.xq[0, 37, 0], 2.0, 0.5))


def test_tasks_several_tasks_with_their_own_points_and_query():
    xs = np.array([[0.0, 1.0], [2.0, 3.0]])
    xq = np.array([[4.0], [-4.0]])
    t = sine.tasks([1.0, 3.0], [0.0, 1.0], xs, xq)
    assert t.xs.shape == (2, 2, 1) and t.xq.shape == (2, 1, 1)
    np.testing.assert_array_equal(t.amplitude, [1.0, 3.0])
    np.testing.assert_array_equal(t.phase, [0.0, 1.0])
    assert t.ys[1, 0, 0] == pytest.approx(sin_label(2.0, 3.0, 1.0))
    assert t.ys[0, 1, 0] == pytest.approx(sin_label(1.0, 1.0, 0.0))
    assert t.yq[1, 0, 0] == pytest.approx(sin_label(-4.0, 3.0, 1.0))
    # already (T, N, 1): kept as given
    t3 = sine.tasks([1.0], [0.2], np.array([[[0.5], [1.5]]]), np.array([[[2.5]]]))
    assert t3.xs.shape == (1, 2, 1) and t3.yq[0, 0, 0] == pytest.approx(sin_label(2.5, 1.0, 0.2))
