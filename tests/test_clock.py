"""Timing with a coarse clock: every time the page prints (Part 4's cost, Part 9's times per update, the race's
seconds axis) is measured against a stub clock that steps by 1 ms, as WebKit's `performance.now()` does, while the
timed work takes known sub-millisecond to tens-of-millisecond durations; every printed time stays within 1 %."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

from mamlviz import clock
from mamlviz.figures import part4, part8, part9

STEP = 1e-3


class CoarseClock:
    """Virtual time that the stand-in work advances; read, it steps by 1 ms (from a phase that is not 0)."""

    def __init__(self):
        self.t = 0.000437

    def advance(self, seconds):
        self.t += seconds

    def __call__(self):
        return math.floor(self.t / STEP) * STEP


@pytest.fixture
def coarse(monkeypatch):
    c = CoarseClock()
    monkeypatch.setattr(clock, "now", c)
    return c


# sub-millisecond to slow: one update of each racer (seconds)
DURATION = {"pretrained": 0.00037, "maml": 0.00091, "fomaml": 0.00063, "reptile": 0.0019, "imaml": 0.0237}


def within_1_percent(measured, true):
    assert abs(measured - true) <= 0.01 * true, (measured, true)


def test_the_clock_really_is_coarse_and_a_lone_update_would_read_wrong(coarse):
    start = clock.now()
    coarse.advance(DURATION["pretrained"])
    assert clock.now() - start in (0.0, STEP)   # 0 or 1 ms for 0.37 ms: what the rounds are for


@pytest.mark.parametrize("seconds", [0.00007, 0.00037, 0.0042, 0.0237, 0.3])
def test_per_call_times_a_round_long_enough(coarse, seconds):
    per, calls = clock.per_call(lambda: coarse.advance(seconds))
    within_1_percent(per, seconds)
    assert per * calls >= clock.ROUND_SECONDS >= 100 * STEP        # the round the clock read: 1 ms is under 1 % of it


class FakeTrainer:
    """A racer whose update takes DURATION[method] of the stub clock's time and changes θ a little."""

    def __init__(self, method, model, config, seed=0, coarse=None):
        self.method, self.coarse = method, coarse
        self.iteration, self.diverged, self.theta = 0, False, np.zeros(3)

    def step(self):
        self.coarse.advance(DURATION[self.method])
        self.iteration += 1
        self.theta = self.theta + 1.0
        return 0.5


def test_part9_prints_times_per_update_within_1_percent(coarse, monkeypatch):
    monkeypatch.setattr(part9, "MetaTrainer", lambda *a, **k: FakeTrainer(*a, **k, coarse=coarse))
    monkeypatch.setattr(part9, "measured", lambda: {})
    *_, last = part9._measure(3)
    values = {r["label"]: r["value"] for r in last["readouts"]}
    for m, name in part9.RACERS.items():
        within_1_percent(values[f"{name}: ms per update"], 1e3 * DURATION[m])
        printed = re.search(rf"\b{name} ([0-9.]+) ms", last["description"]).group(1)
        within_1_percent(float(printed), 1e3 * DURATION[m])


def test_part4_times_each_meta_gradient_and_the_product_within_1_percent(coarse, monkeypatch):
    def meta_gradient(method, model, theta, batch, *, inner_steps, **kwargs):
        coarse.advance(DURATION[method] * inner_steps)
        return None, {"kept_bytes": 100 * inner_steps}

    monkeypatch.setattr(part4.meta, "meta_gradient", meta_gradient)
    theta, batch = part4.cost_batch()
    for method in part4.COST_METHODS:
        for k in (1, 10):
            seconds, kept = part4.measure_method(method, k, theta, batch)
            within_1_percent(seconds, DURATION[method] * k)
            assert kept == 100 * k / batch.xs.shape[0]


def test_the_race_prints_seconds_within_1_percent_at_every_point(coarse, monkeypatch):
    monkeypatch.setattr(part8, "MetaTrainer", lambda *a, **k: FakeTrainer(*a, **k, coarse=coarse))
    monkeypatch.setattr(part8, "held_out", lambda t, theta=None: (float(theta[0] if theta is not None else t.theta[0]), 0.0))
    monkeypatch.setattr(part8, "publish_race", lambda race: None)
    race = part8.new_race(0)
    frames = list(part8._race_stream({"budget": 700, "curve": "own"}, race, None))
    assert len(frames) > 2 + len(part8.RACERS)            # a frame after every block, not one for the whole race
    for m in part8.RACERS:
        t = race["trainers"][m]
        assert t.iteration == 700
        within_1_percent(race["seconds"][m], 700 * DURATION[m])
        points = race["curves"][m][1:]
        assert [p[0] for p in points] == list(range(part8.RACE_EVAL_EVERY, 701, part8.RACE_EVAL_EVERY))
        for it, seconds, own, _ in points:
            assert own == it                              # evaluated with θ as it was at that update
            within_1_percent(seconds, it * DURATION[m])
    readouts = {r["label"]: r["value"] for r in frames[-1]["readouts"]}
    for m, name in part8.RACERS.items():
        within_1_percent(readouts[f"{name}: seconds"], 700 * DURATION[m])
