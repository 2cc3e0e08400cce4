"""Known answers of the helpers the figure modules share (figures/_common.py), each written out here by hand:
the seeded counter, log₁₀ heat maps and their contour levels, the grid argmin, the unit panel and θ's trail."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mamlviz.figures import _common


@pytest.mark.parametrize("value, expected", [(0, 0), (3, 3), (2.9, 2), ("7", 7), (-2, 0), (-1, 0), (None, 0),
                                             ("x", 0), ([1], 0), (float("inf"), 0), (float("nan"), 0), (True, 1)])
def test_counter_is_a_non_negative_int_or_zero(value, expected):
    got = _common.counter(value)
    assert got == expected and type(got) is int


def test_log10_is_floored_at_a_millionth_and_rounded_to_three_decimals():
    z = np.array([1e-9, 1e-6, 2e-6, 1.0, 10.0, 123.4567, 0.0])
    expected = [round(math.log10(max(v, 1e-6)), 3) for v in z]
    assert expected[:3] == [-6.0, -6.0, -5.699] and expected[5] == 2.092
    np.testing.assert_array_equal(_common.log10(z), expected)


def test_log_heatmap_layers_levels_and_range():
    z = 10.0 ** np.array([[0.0, 1.0], [2.0, 3.0]])
    heat, contour = _common.log_heatmap(z)
    assert heat["kind"] == "heatmap" and heat["cmap"] == "viridis"
    assert heat["extent"] == [0, 1, 0, 1] and contour["extent"] == [0, 1, 0, 1]
    assert (heat["zmin"], heat["zmax"]) == (0.0, 3.0)
    np.testing.assert_array_equal(heat["z"], [[0, 1], [2, 3]])
    np.testing.assert_allclose(contour["levels"], [3 * j / 9 for j in range(1, 9)])   # 8 levels strictly inside
    assert "class" not in contour

    (only,) = _common.log_heatmap(z, css="task", heatmap=False, n_levels=3)
    assert only["kind"] == "contour" and only["class"] == "task"
    np.testing.assert_allclose(only["levels"], [0.75, 1.5, 2.25])


def test_log_heatmap_range_ignores_non_finite_values_and_falls_back_to_0_1():
    heat, contour = _common.log_heatmap(np.array([[np.nan, 1e-2], [np.inf, 1e2]]))
    assert (heat["zmin"], heat["zmax"]) == (-2.0, 2.0)
    heat, contour = _common.log_heatmap(np.full((2, 2), np.nan))
    assert (heat["zmin"], heat["zmax"]) == (0.0, 1.0)
    np.testing.assert_allclose(contour["levels"], [j / 9 for j in range(1, 9)])


def test_argmin_returns_the_grid_point_as_x_y_and_the_value():
    n = 5
    z = np.full((n, n), 7.0)
    z[1, 3] = -2.0                      # row i ↔ y = i/(n−1), column j ↔ x = j/(n−1)
    z[0, 0] = np.nan                    # NaN is skipped
    assert _common.argmin(z) == (0.75, 0.25, -2.0)
    z[4, 0] = -3.0
    assert _common.argmin(z) == (0.0, 1.0, -3.0)


def test_unit_panel():
    panel = _common.unit_panel("t", [1])
    assert panel == {"title": "t", "xlim": [0, 1], "ylim": [0, 1], "aspect": "equal", "xlabel": "a",
                     "ylabel": "b", "layers": [1]}


def test_trail_points_keeps_the_last_200_finite_pairs():
    assert _common.trail_points(None) == [] and _common.trail_points("x") == [] and _common.trail_points({}) == []
    mixed = [[0.1, 0.2], [1, 2], [True, 0.3], [0.3, False], [0.1], [0.1, 0.2, 0.3], "ab", [None, 1],
             [float("nan"), 1.0], [1.0, float("inf")], [0.5, -0.5]]
    got = _common.trail_points(mixed)
    assert got == [[0.1, 0.2], [1.0, 2.0], [0.5, -0.5]] and all(type(v) is float for p in got for v in p)
    long = [[float(i), 0.0] for i in range(250)]
    assert _common.trail_points(long) == long[-200:] and _common.MAX_TRAIL == 200
    assert _common.trail_points(long[:200]) == long[:200]


def test_accumulated_loss_continues_its_remembered_steps_with_the_same_numbers(monkeypatch):
    """m + 1 after m is one more inner step from the remembered U^(m)(θ), m − 1 none; the maps are those of a fresh
    call with all m steps at once (bit for bit), and another α or other data start again."""
    from mamlviz import meta, toy

    tasks = toy.softplus_tasks(np.random.default_rng(5), toy.SOFTPLUS_TASK_SETS["two"], n_support=10, n_query=10)
    fresh = {}
    for m in (0, 3, 4, 7):
        _common._GRID_PATHS.clear()
        fresh[m] = _common.accumulated_loss(tasks, m, 0.03, 11)
    _common._GRID_PATHS.clear()
    steps = []
    inner_sgd = meta.inner_sgd
    monkeypatch.setattr(meta, "inner_sgd", lambda *a, **k: steps.append(k["steps"]) or inner_sgd(*a, **k))
    for m, made in ((3, 3), (4, 1), (3, 0), (0, 0), (7, 3)):
        steps.clear()
        got = _common.accumulated_loss(tasks, m, 0.03, 11)
        assert sum(steps) == made, m
        for a, b in zip(got, fresh[m]):
            np.testing.assert_array_equal(a, b)
    steps.clear()
    _common.accumulated_loss(tasks, 2, 0.031, 11)      # another α: its own steps
    other = toy.softplus_tasks(np.random.default_rng(6), toy.SOFTPLUS_TASK_SETS["two"], n_support=10, n_query=10)
    _common.accumulated_loss(other, 2, 0.03, 11)       # other data: their own
    assert sum(steps) == 4
