"""Control declarations against what the text says the reader can do with them, and against the rule every range
slider needs: its end points and default on its step grid (otherwise the browser's range input cannot reach the end
or snaps the default). The declaration builders shared by two figures (Part 6's, Part 7's λ, Part 8's per-method
groups) are called here: the figures call them at import time, where no test sees a change."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mamlviz import figures
from mamlviz.figures import Handle, Slider, part6, part7, part8

figures.load_all()
CONTENT = Path(__file__).resolve().parents[1] / "content"


def on_grid(s: Slider, v) -> bool:
    n = (v - s.min) / s.step
    return s.min <= v <= s.max and abs(n - round(n)) < 1e-6


def check_grid(s: Slider):
    assert s.min < s.max and 0 < s.step <= (s.max - s.min) / 4, s     # at least 5 positions
    # The sine's phase ψ ∈ [0, π] is the one exception: its slider stops at 3.14 (π is off any decimal grid).
    assert on_grid(s, s.max) or (s.name == "phase" and s.max == math.pi), s
    assert on_grid(s, s.default), s


def by_name(controls):
    return {c.name: c for c in controls}


@pytest.mark.parametrize("figure_id", sorted(figures.FIGURES))
def test_every_slider_has_its_ends_and_default_on_its_step_grid(figure_id):
    for c in figures.FIGURES[figure_id].controls:
        if isinstance(c, Slider):
            check_grid(c)


def test_part6_controls_let_the_reader_try_what_the_text_says():
    text = (CONTENT / "06-reptile.md").read_text()
    assert "With $\\varepsilon = 1$" in text and "with $\\varepsilon = 0$" in text and "with $k = 1$" in text
    for k, eps in ((5, 0.5), (5, 0.3), (1, 1.0)):
        c = by_name(part6._controls(k, eps, (0.15, 0.85)))
        for s in (c["alpha"], c["k"], c["eps"]):
            check_grid(s)
        assert (c["eps"].min, c["eps"].max, c["eps"].default) == (0.0, 1.0, eps)     # ε = 0 stays, ε = 1 jumps
        assert c["k"].min == 1 and c["k"].default == k and c["k"].integer
        assert 0 < c["alpha"].min and on_grid(c["alpha"], c["alpha"].default)
        theta = c["theta"]
        assert isinstance(theta, Handle) and theta.default == (0.15, 0.85) and theta.panel == 0
        assert theta.bounds == ((0, 1), (0, 1)) and (1 - 0) / theta.step == pytest.approx(100)   # the unit panel


def test_part7_lambda_slider_spans_the_texts_log_scale():
    assert "scale from 0.01 to 100" in (CONTENT / "07-imaml.md").read_text()
    for default in (0.0, -1.0, 1.5):
        s = part7._lam_slider(default)
        check_grid(s)
        assert 10 ** s.min == pytest.approx(0.01) and 10 ** s.max == pytest.approx(100) and s.default == default
        assert not s.integer
        assert part7.lam_of({"log_lam": s.min}) == pytest.approx(0.01)


def test_part8_method_groups_let_the_reader_try_what_the_text_says():
    text = (CONTENT / "08-comparison.md").read_text()
    assert "Set MAML's and FOMAML's inner rates to $0$" in text and "Give Reptile one inner step" in text
    for m, outer, label, alpha, k in (("maml", 0.5, "β", 0.06, 5), ("reptile", 0.8, "ε", 0.06, 5),
                                      ("imaml", 0.5, "β", 0.06, 10)):
        toggle, out, a, steps = part8._method_controls(m, outer, label, alpha, k)
        assert toggle.name == f"{m}_on" and toggle.default is True and toggle.group == m
        for s in (out, a, steps):
            check_grid(s)
            assert s.group == m
        assert (out.min, out.max, out.default) == (0.0, 1.0, outer)           # ε = 1: Reptile jumps to φ̄
        assert a.min == 0.0 and a.default == alpha                            # inner rate 0: no adaptation
        assert steps.min == 1 and steps.default == k and steps.integer          # one inner step
        assert not a.integer and not out.integer


def test_part8_trajectories_can_be_set_as_the_text_suggests():
    """"Try k = 1, α = 0.01 and β = 0.05" (Part 8), and Part 6's "k = 1, a large ε" on the four tasks."""
    assert "Try $k = 1$, $\\alpha = 0.01$ and $\\beta = 0.05$" in (CONTENT / "08-comparison.md").read_text()
    c = by_name(figures.FIGURES["trajectories"].controls)
    assert on_grid(c["k"], 1) and on_grid(c["alpha"], 0.01) and on_grid(c["beta"], 0.05)
    c = by_name(figures.FIGURES["reptile-tasks"].controls)
    assert on_grid(c["k"], 1) and c["eps"].max == 1.0 and not math.isclose(c["eps"].default, 1.0)


@pytest.mark.parametrize("figure_id", sorted(f for f, fig in figures.FIGURES.items()
                                             if any(isinstance(c, Handle) for c in fig.controls)))
def test_every_handle_sits_on_a_panel_whose_limits_are_its_bounds(figure_id):
    """A handle is drawn on panel `panel` of the figure's scene, and it can go exactly where that panel shows."""
    scene = figures.first_frame(figure_id)
    for c in figures.FIGURES[figure_id].controls:
        if isinstance(c, Handle):
            assert 0 <= c.panel < len(scene["panels"]), c
            panel = scene["panels"][c.panel]
            assert [list(b) for b in c.bounds] == [panel["xlim"], panel["ylim"]], (c, panel["xlim"], panel["ylim"])
            x0, x1 = c.bounds[0]
            assert (x1 - x0) / c.step == pytest.approx(round((x1 - x0) / c.step))
