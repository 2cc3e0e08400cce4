"""The sine task family of the MAML paper: y = A·sin(x − ψ), A ~ U[0.1, 5], ψ ~ U[0, π], x ~ U[−5, 5].

ψ is the phase (called `phase` in the code); the adapted parameters of the series are φ, a different letter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AMPLITUDE = (0.1, 5.0)
PHASE = (0.0, np.pi)
X_RANGE = (-5.0, 5.0)


@dataclass
class SineTasks:
    """A batch of T sine tasks: support (xs, ys) and query (xq, yq) of shape (T, N, 1), and each task's
    amplitude A and phase ψ, shape (T,)."""

    xs: np.ndarray
    ys: np.ndarray
    xq: np.ndarray
    yq: np.ndarray
    amplitude: np.ndarray
    phase: np.ndarray

    @property
    def n_tasks(self):
        return self.xs.shape[0]


def curve(x, amplitude, phase):
    """y = A·sin(x − ψ) with ψ = phase (broadcasting)."""
    return amplitude * np.sin(x - phase)


def sample(rng, n_tasks, n_support, n_query, *, amplitude=AMPLITUDE, phase=PHASE, x_range=X_RANGE,
           query_range=None, noise=0.0):
    """Draw `n_tasks` sine tasks with `n_support` support and `n_query` query points each.

    rng: a `np.random.Generator`. amplitude, phase, x_range: (low, high) ranges (change them for
    out-of-distribution tasks). query_range: x range of the query points (default x_range). noise: standard
    deviation of Gaussian label noise added to the support labels only (the query labels stay clean).
    """
    if n_tasks < 1 or n_support < 0 or n_query < 0:
        raise ValueError(f"need n_tasks ≥ 1 and n_support, n_query ≥ 0, got {n_tasks}, {n_support}, {n_query}")
    amp = rng.uniform(amplitude[0], amplitude[1], n_tasks)
    ph = rng.uniform(phase[0], phase[1], n_tasks)
    xs = rng.uniform(x_range[0], x_range[1], (n_tasks, n_support, 1))
    qr = x_range if query_range is None else query_range
    xq = rng.uniform(qr[0], qr[1], (n_tasks, n_query, 1))
    a, p = amp[:, None, None], ph[:, None, None]
    ys = curve(xs, a, p)
    if noise:
        ys = ys + noise * rng.standard_normal(ys.shape)
    return SineTasks(xs, ys, xq, curve(xq, a, p), amp, ph)


def tasks(amplitude, phase, xs, xq=None):
    """Sine tasks from given amplitudes, phases and points (a figure's hand-picked task): xs, xq (T, N, 1) or
    (N,) for one task. Labels are computed exactly."""
    amp = np.atleast_1d(np.asarray(amplitude, dtype=float))
    ph = np.atleast_1d(np.asarray(phase, dtype=float))
    xs = np.asarray(xs, dtype=float)
    xs = xs.reshape(len(amp), -1, 1)                       # (N,) or (T, N) → (T, N, 1); (T, N, 1) stays
    xq = np.linspace(*X_RANGE, 100)[None, :, None].repeat(len(amp), 0) if xq is None else np.asarray(xq, float)
    xq = xq.reshape(len(amp), -1, 1)
    a, p = amp[:, None, None], ph[:, None, None]
    return SineTasks(xs, curve(xs, a, p), xq, curve(xq, a, p), amp, ph)
