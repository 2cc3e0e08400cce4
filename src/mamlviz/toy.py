"""The 2-D toy problems of the explainer, with closed-form gradients and Hessians, on θ = (a, b) ∈ R².

They have the model interface of `mamlviz.nn` (`size`, `init`, `predict`, `loss`, `loss_grad`, `hvp`,
`linearize`), so the meta-learning code runs on them unchanged. Leading axes broadcast freely: θ (…, 2) against
data (…, N, d), so a whole grid of θ is one call, e.g. `model.loss(grid(101), x, y)` gives a (101, 101) landscape,
and `model.loss(grid(101)[:, :, None, :], xs, ys)` gives one landscape per task, shape (101, 101, T).

What a toy "task" and its "data" are (a batch has xs, ys, xq, yq of shape (T, N, d), like the sine family):

- `SoftplusLine`: real data. A task is (a*, b*); x ~ U[−3, 3], y = softplus(a*·x + b*); each task draws its own
  support and query points. Model softplus(a·x + b), loss ½·Σ(y − model)².
- `Bumps`: no data; the "data" are the parameters of the loss. x = the bump centres c_k (N = 4, d = 2), y = their
  weights w_k (4, 1); L(φ) = Σ_k w_k σ(−10‖φ − c_k‖²). The query set is the same landscape with every centre
  shifted by `query_shift` (default (0.02, −0.02)), so support and query differ slightly, as data would.
- `Quadratic`: f(φ) = ½(φ − ½)ᵀC(φ − ½) + gᵀφ. x = C (N = 2 rows, d = 2), y = g (2, 1). The query set is the same
  (C, g) unless `g_query` is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mamlviz.nn import Model

SOFTPLUS_TASK_SETS = {
    "two": [(0.3, 0.05), (0.83, 0.75)],
    "one": [(0.5, 0.05)],
    "four": [(0.0, 0.0), (1.0, 0.0), (0.2, 0.0), (0.5, 0.2)],
}
BUMP_WEIGHTS = (-1.0, -1.5, 2.0, -1.5)
BUMP_CENTRES = (
    ((0.5, 0.7), (0.4, 0.2), (0.6, 0.2), (0.9, 0.3)),
    ((0.6, 0.8), (0.2, 0.3), (0.7, 0.1), (0.8, 0.3)),
)
QUADRATIC_G = (0.1, -0.1)


def grid(n=101, lo=0.0, hi=1.0):
    """θ on an n×n grid over [lo, hi]², shape (n, n, 2): row i is b = lo + i·(hi − lo)/(n − 1), column j is a.

    This is the orientation of a scene's heat map `z` (rows along y), so `loss(grid(n), …)` is drawn as is.
    """
    t = np.linspace(lo, hi, n)
    a, b = np.meshgrid(t, t)
    return np.stack([a, b], axis=-1)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1/(1 + e^{−z}), without overflow


class _Toy(Model):
    size = 2
    d_x = 1
    d_y = 1

    def init(self, rng):
        """θ uniform in the unit square."""
        return rng.uniform(0.0, 1.0, 2)

    def _check(self, theta, x, y=None):
        theta = np.asarray(theta, dtype=float)
        x = np.asarray(x, dtype=float)
        if theta.ndim < 1 or theta.shape[-1] != 2:
            raise ValueError(f"theta has shape {theta.shape}, expected (..., 2)")
        if x.ndim < 2 or x.shape[-1] != self.d_x:
            raise ValueError(f"x has shape {x.shape}, expected (..., N, {self.d_x})")
        if y is not None:
            y = np.asarray(y, dtype=float)
            if y.shape != x.shape[:-1] + (self.d_y,):
                raise ValueError(f"y has shape {y.shape} but x has shape {x.shape}; expected y {x.shape[:-1] + (self.d_y,)}")
        lead_theta, lead_x = theta.shape[:-1], x.shape[:-2]
        if lead_theta and lead_x and lead_theta != lead_x:   # (np.broadcast_shapes is slow: not for equal shapes)
            try:
                np.broadcast_shapes(lead_theta, lead_x)
            except ValueError:
                raise ValueError(f"theta has shape {theta.shape} and x has shape {x.shape}: leading axes do not "
                                 "broadcast") from None
        return theta, x, y

    def linearize(self, theta, x, y):
        """(L, ∇L, hvp), with hvp(v) = H·v from the closed-form Hessian H, formed at the first product only (an
        inner loop that never multiplies by it, e.g. FOMAML's or a heat map's, does not pay for it)."""
        theta, x, y = self._check(theta, x, y)
        loss, grad, hessian = self._parts(theta, x, y)
        held = []

        def hvp(v, reduce=False):
            v = np.asarray(v, dtype=float)
            if v.shape[-1] != 2:
                raise ValueError(f"v has shape {v.shape} but the gradient has shape {grad.shape}")
            if not held:
                held.append(hessian())
            hv = np.einsum("...ij,...j->...i", held[0], v)
            return hv.reshape(-1, 2).sum(axis=0) if reduce else hv

        return loss, grad, hvp

    def loss_grad(self, theta, x, y):
        loss, grad, _ = self._parts(*self._check(theta, x, y))
        return loss, grad

    def loss_grad_hessian(self, theta, x, y):
        loss, grad, hessian = self._parts(*self._check(theta, x, y))
        return loss, grad, hessian()

    def hessian(self, theta, x, y):
        """The closed-form Hessian ∇²L, shape (…, 2, 2)."""
        return self.loss_grad_hessian(theta, x, y)[2]


class SoftplusLine(_Toy):
    """Model softplus(a·x + b) on θ = (a, b); loss ½·Σ_points (y − softplus(a·x + b))²."""

    def predict(self, theta, x):
        theta, x, _ = self._check(theta, x)
        return np.logaddexp(0.0, theta[..., None, 0:1] * x + theta[..., None, 1:2])

    def loss(self, theta, x, y):
        r = self.predict(theta, x) - np.asarray(y, dtype=float)
        return 0.5 * (r * r).sum(axis=(-2, -1))

    def _parts(self, theta, x, y):
        """(L, ∇L, a function giving ∇²L) from checked arrays: the Hessian's sums only when asked for."""
        z = theta[..., None, 0:1] * x + theta[..., None, 1:2]
        softplus = np.logaddexp(0.0, z)
        s = np.exp(z - softplus)                 # softplus'(z) = σ(z) = e^z / (1 + e^z): one exp, no overflow
        r = softplus - y                         # residual M − y
        loss = 0.5 * (r * r).sum(axis=(-2, -1))
        rs = r * s
        ga = (rs * x).sum(axis=(-2, -1))
        grad = np.empty(ga.shape + (2,))         # Σ r σ (x, 1) (filled in place: np.stack costs more than the sums)
        grad[..., 0], grad[..., 1] = ga, rs.sum(axis=(-2, -1))

        def hessian():
            c = s * s + r * s * (1.0 - s)            # ∂²½r²/∂z² = σ² + r σ(1 − σ)
            cx = c * x
            hess = np.empty(ga.shape + (2, 2))       # Σ c (x, 1)(x, 1)ᵀ
            hess[..., 0, 0], hess[..., 0, 1], hess[..., 1, 1] = (cx * x).sum(axis=(-2, -1)), cx.sum(axis=(-2, -1)), \
                c.sum(axis=(-2, -1))
            hess[..., 1, 0] = hess[..., 0, 1]
            return hess

        return loss, grad, hessian


class Bumps(_Toy):
    """L(φ) = Σ_k w_k σ(−10‖φ − c_k‖²); data x = centres c_k (…, N, 2), y = weights w_k (…, N, 1)."""

    d_x = 2

    def predict(self, theta, x):
        """The bump activations σ(−10‖φ − c_k‖²), shape (…, N, 1), so that L = Σ_k w_k · predict_k."""
        theta, x, _ = self._check(theta, x)
        d = theta[..., None, :] - x
        return _sigmoid(-10.0 * (d * d).sum(axis=-1, keepdims=True))

    def loss(self, theta, x, y):
        return (self.predict(theta, x) * np.asarray(y, dtype=float)).sum(axis=(-2, -1))

    def _parts(self, theta, x, y):
        d = theta[..., None, :] - x                           # φ − c_k
        s = _sigmoid(-10.0 * (d * d).sum(axis=-1, keepdims=True))
        loss = (y * s).sum(axis=(-2, -1))
        u = s * (1.0 - s)                                     # σ' at −10‖d‖²
        grad = (y * -20.0 * u * d).sum(axis=-2)               # Σ w_k (−20 u d)

        def hessian():   # ∇² of σ(−10‖d‖²) = −20 u I + 400 u (1 − 2s) d dᵀ
            outer = (y * 400.0 * u * (1.0 - 2.0 * s))[..., None] * d[..., :, None] * d[..., None, :]
            return outer.sum(axis=-3) + (y * -20.0 * u).sum(axis=(-2, -1))[..., None, None] * np.eye(2)

        return loss, grad, hessian


class Quadratic(_Toy):
    """f(φ) = ½(φ − ½)ᵀC(φ − ½) + gᵀφ; data x = C (…, 2, 2), y = g (…, 2, 1)."""

    d_x = 2

    def predict(self, theta, x):
        """The curvature force C(φ − ½), shape (…, 2, 1), so that ∇f = predict + g."""
        theta, x, _ = self._check(theta, x)
        return np.einsum("...ij,...j->...i", x, theta - 0.5)[..., None]

    def loss(self, theta, x, y):
        return self.loss_grad(theta, x, y)[0]

    def _parts(self, theta, x, y):
        c = 0.5 * (x + np.swapaxes(x, -1, -2))                # symmetric part of C
        d = theta - 0.5
        cd = np.einsum("...ij,...j->...i", c, d)
        g = y[..., 0]
        loss = 0.5 * (d * cd).sum(axis=-1) + (g * theta).sum(axis=-1)
        grad = cd + g                                         # ∇f = C(φ − ½) + g
        return loss, grad, lambda: np.broadcast_to(c, np.broadcast_shapes(c.shape, theta.shape[:-1] + (2, 2)))


@dataclass
class ToyTasks:
    """A batch of toy tasks: support (xs, ys) and query (xq, yq) data of shape (T, N, d), and `params`, what
    defines each task (softplus: (a*, b*); bumps: the centres; quadratic: (a, b, c))."""

    xs: np.ndarray
    ys: np.ndarray
    xq: np.ndarray
    yq: np.ndarray
    params: np.ndarray

    @property
    def n_tasks(self):
        return self.xs.shape[0]


def softplus_tasks(rng, targets=SOFTPLUS_TASK_SETS["two"], n_support=10, n_query=10, noise=0.0):
    """Tasks (a*, b*): x ~ U[−3, 3], y = softplus(a*·x + b*) (+ optional Gaussian label noise), own support
    and query samples per task."""
    targets = np.asarray(targets, dtype=float).reshape(-1, 2)
    t = len(targets)
    model = SoftplusLine()

    def draw(n):
        x = rng.uniform(-3.0, 3.0, (t, n, 1))
        y = model.predict(targets, x)
        return x, y + noise * rng.standard_normal(y.shape) if noise else y

    xs, ys = draw(n_support)
    xq, yq = draw(n_query)
    return ToyTasks(xs, ys, xq, yq, targets)


def bump_tasks(centres=BUMP_CENTRES, weights=BUMP_WEIGHTS, query_shift=(0.02, -0.02)):
    """Bump landscapes, by default the two tasks of the spec. Query centres = support centres + query_shift."""
    c = np.asarray(centres, dtype=float).reshape(-1, len(weights), 2)
    w = np.broadcast_to(np.asarray(weights, dtype=float)[None, :, None], c.shape[:2] + (1,)).copy()
    return ToyTasks(c, w, c + np.asarray(query_shift, dtype=float), w.copy(), c)


def quadratic_task(a, b, c, g=QUADRATIC_G, g_query=None):
    """One curvature-quadratic task with C = [[a, b], [b, c]]; query g defaults to the support g."""
    cm = np.array([[[a, b], [b, c]]], dtype=float)
    gs = np.asarray(g, dtype=float).reshape(1, 2, 1)
    gq = gs.copy() if g_query is None else np.asarray(g_query, dtype=float).reshape(1, 2, 1)
    return ToyTasks(cm, gs, cm.copy(), gq, np.array([[a, b, c]], dtype=float))
