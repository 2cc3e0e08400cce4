"""Meta-updates per second of each method on the sine MLP (what `mamlviz bench` prints).

A meta-update here is everything one outer step of training does: sample a batch of tasks, compute the direction,
take an Adam step. Each method is timed `runs` times over `updates` updates; the median rate is reported, next to
a straightforward vectorised NumPy implementation of second-order MAML (`reference_maml`: every task carries its
own copy of θ, all per-task products batched) measured in the same run, so the ratio is robust to a busy machine.
"""

from __future__ import annotations

import time

import numpy as np

from mamlviz import optim, sine
from mamlviz.meta import meta_gradient
from mamlviz.nn import MLP
from mamlviz.train import METHOD_SETTINGS


def reference_maml(theta, batch, inner_lr, sizes=(1, 40, 40, 1)):
    """Second-order MAML with one inner step, written plainly: θ tiled over tasks, batched matmuls throughout.

    Used as the speed baseline and as an independent check of `mamlviz.meta.maml_direction`.
    """
    (_, h1, h2, _) = sizes
    t, k = batch.xs.shape[:2]

    def unpack(p):
        i = 0
        out = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            out += [p[:, i:i + a * b].reshape(-1, a, b), p[:, None, i + a * b:i + a * b + b]]
            i += a * b + b
        return out

    def grad_and_cache(p, x, y):
        w1, b1, w2, b2, w3, b3 = unpack(p)
        z1 = x @ w1 + b1; a1 = np.maximum(z1, 0)
        z2 = a1 @ w2 + b2; a2 = np.maximum(z2, 0)
        out = a2 @ w3 + b3
        n = x.shape[1]
        d3 = 2 * (out - y) / n
        d2 = (d3 @ w3.transpose(0, 2, 1)) * (z2 > 0)
        d1 = (d2 @ w2.transpose(0, 2, 1)) * (z1 > 0)
        tr = lambda a: a.transpose(0, 2, 1)
        g = np.concatenate([(tr(x) @ d1).reshape(t, -1), d1.sum(1), (tr(a1) @ d2).reshape(t, -1), d2.sum(1),
                            (tr(a2) @ d3).reshape(t, -1), d3.sum(1)], axis=1)
        return g, (x, z1, a1, z2, a2, d2, d3, w2, w3, n, tr)

    p0 = np.tile(theta, (t, 1))
    gs, (x, z1, a1, z2, a2, d2, d3, w2, w3, n, tr) = grad_and_cache(p0, batch.xs, batch.ys)
    phi = p0 - inner_lr * gs
    gq, _ = grad_and_cache(phi, batch.xq, batch.yq)
    v1, vb1, v2, vb2, v3, vb3 = unpack(gq)
    m1, m2 = z1 > 0, z2 > 0
    dz1 = x @ v1 + vb1; da1 = dz1 * m1
    dz2 = da1 @ w2 + a1 @ v2 + vb2; da2 = dz2 * m2
    dd3 = 2 * (da2 @ w3 + a2 @ v3 + vb3) / n
    dd2 = (dd3 @ tr(w3) + d3 @ tr(v3)) * m2
    dd1 = (dd2 @ tr(w2) + d2 @ tr(v2)) * m1
    hv = np.concatenate([(tr(x) @ dd1).reshape(t, -1), dd1.sum(1), (tr(a1) @ dd2 + tr(da1) @ d2).reshape(t, -1),
                         dd2.sum(1), (tr(a2) @ dd3 + tr(da2) @ d3).reshape(t, -1), dd3.sum(1)], axis=1)
    return (gq - inner_lr * hv).mean(axis=0)


def tune_allocator(top_pad=64 << 20):
    """Natively on glibc, keep freed heap memory for reuse instead of handing it back to the OS after every update.

    A meta-update allocates and frees a few MB of temporaries. With glibc's defaults the top of the heap is trimmed
    (returned to the OS) after the frees and re-faulted page by page on the next update, which costs about as much
    as the arithmetic. M_TOP_PAD / M_TRIM_THRESHOLD stop that. WebAssembly memory (Pyodide) never shrinks, so
    the browser behaves like the tuned case anyway. Process-wide; called by `mamlviz bench` and `mamlviz train`,
    never by the library. Returns True if applied.
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_top_pad = -1, -2
        return bool(libc.mallopt(m_top_pad, top_pad)) and bool(libc.mallopt(m_trim_threshold, 2 * top_pad))
    except (OSError, AttributeError):
        return False


def _rate(method, n_tasks, k, inner_steps, updates, seed):
    """Meta-updates per second of `method` with its METHOD_SETTINGS (k replaced by inner_steps unless None)."""
    s = METHOD_SETTINGS["maml" if method == "reference" else method]
    inner_steps = s.inner_steps if inner_steps is None else inner_steps
    model = MLP()
    rng = np.random.default_rng(seed)
    theta = model.init(rng)
    opt = optim.Adam(0.001)
    start = time.perf_counter()
    for _ in range(updates):
        batch = sine.sample(rng, n_tasks, k, k)
        if method == "reference":
            d = reference_maml(theta, batch, s.inner_lr)
        else:
            d, _ = meta_gradient(method, model, theta, batch, inner_lr=s.inner_lr, inner_steps=inner_steps,
                                 reg=s.reg, cg_steps=s.cg_steps, query_before=False,
                                 kept_bytes=False)  # what MetaTrainer.step does
        theta = opt.step(theta, d)
    return updates / (time.perf_counter() - start)


def measure(methods=("maml", "fomaml", "reptile", "imaml", "reference"), n_tasks=25, k=10, inner_steps=None,
            runs=7, updates=200, seed=0):
    """{method: {"median": updates/s, "runs": [...]}}; runs interleave the methods so that load hits all alike.

    A meta-update is exactly what `MetaTrainer.step` does: sample the batch, the direction, the Adam step, with
    each method's inner settings from METHOD_SETTINGS (inner_steps, if given, replaces every method's k)."""
    rates = {m: [] for m in methods}
    for r in range(runs):
        for m in methods:
            rates[m].append(_rate(m, n_tasks, k, inner_steps, updates if m != "imaml" else max(updates // 4, 1),
                                  seed + r))
    return {"config": {"n_tasks": n_tasks, "k": k, "inner_steps": inner_steps, "runs": runs, "updates": updates},
            "rates": {m: {"median": float(np.median(v)), "runs": v} for m, v in rates.items()}}


def _settings_text(method, inner_steps):
    s = METHOD_SETTINGS["maml" if method == "reference" else method]
    k = s.inner_steps if inner_steps is None or method == "reference" else inner_steps
    text = f"α={s.inner_lr:g} k={k}"
    return text + (f" λ={s.reg:g} CG={s.cg_steps}" if s.reg is not None else "")


def table(result):
    """The result of `measure` as a plain-text table, with each method's ratio to the reference."""
    c = result["config"]
    rates = result["rates"]
    ref = rates.get("reference", {}).get("median")
    steps = "each method's own inner steps" if c["inner_steps"] is None else f"{c['inner_steps']} inner step(s)"
    lines = [f"sine MLP 1-40-40-1, {c['n_tasks']} tasks, K = {c['k']} support + {c['k']} query, "
             f"{steps}, Adam; median of {c['runs']} runs; allocator {result.get('allocator', 'default')}",
             f"{'method':<12}{'settings':<28}{'updates/s':>11}{'ms/update':>11}{'vs reference':>14}"]
    for m, r in rates.items():
        ratio = f"{r['median'] / ref:>13.2f}x" if ref else ""
        lines.append(f"{m:<12}{_settings_text(m, c['inner_steps']):<28}{r['median']:>11.0f}"
                     f"{1000 / r['median']:>11.3f}{ratio}")
    lines.append("reference = straightforward vectorised NumPy second-order MAML (θ tiled over tasks), "
                 "always 1 inner step")
    return "\n".join(lines)
