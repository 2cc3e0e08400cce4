"""Models with exact derivatives: the multilayer perceptron of the sine family, on one flat parameter vector θ.

Every model in mamlviz (this MLP and the 2-D toy problems of `mamlviz.toy`) has the same interface:

    model.size                              number of parameters P
    model.init(rng)                         a fresh θ, shape (P,)
    model.predict(theta, x)                 outputs
    model.loss(theta, x, y)                 loss L(θ; x, y)
    model.loss_grad(theta, x, y)            (L, ∇L)
    model.hvp(theta, x, y, v)               ∇²L · v, exact (not finite differences)
    model.linearize(theta, x, y)            (L, ∇L, hvp) with hvp(v) = ∇²L·v at the same point, reusing the
                                            forward pass (what meta-learning uses on its hot path);
                                            hvp(v, reduce=True) returns Σ_t ∇²L_t·v_t over the task axis
    model.loss_grad_factors(theta, x, y)    (L, ∇L, factors): factors describe ∇L's weight blocks as sums of
                                            outer products, so that hvp(∇L, factors=factors) can multiply by
                                            them in factored form (cheaper when there are few points); None
                                            when the model has no such form

Each accepts a single θ of shape (P,) with data x (N, d_in), y (N, d_out), or a task batch: θ (T, P) with
x, y (T, N, ·), one call for all tasks. A shared θ (P,) with batched data (T, N, ·) is the "all tasks start from
θ" case: outputs are per task, and the forward pass is one large matrix product over all T·N points.
Losses come back with shape () or (T,), gradients and Hessian-vector products with the shape of θ broadcast
against the task axis: (P,) or (T, P).

Lines marked `# pragma: no mutate: route` choose between two exact routes to the same value (a flat product over
all tasks' points or per-task ones, factored or plain); `: infers` marks reshapes whose −1 any negative size would
do. Their mutants cannot change a result, so mutation testing (tests/mutants.py) skips them.
"""

from __future__ import annotations

import numpy as np


class Model:
    """Shared plumbing of every model: `loss`, `loss_grad` and `hvp` derived from `linearize`."""

    size: int

    def linearize(self, theta, x, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def loss(self, theta, x, y):
        return self.linearize(theta, x, y)[0]

    def loss_grad(self, theta, x, y):
        loss, grad, _ = self.linearize(theta, x, y)
        return loss, grad

    def hvp(self, theta, x, y, v):
        return self.linearize(theta, x, y)[2](v)

    def loss_grad_factors(self, theta, x, y):
        return (*self.loss_grad(theta, x, y), None)


def _check_shapes(theta, x, y, size, d_in, d_out):
    """Return (theta, x, y) as float arrays; raise ValueError naming both shapes when they do not fit."""
    theta = np.asarray(theta, dtype=float)
    x = np.asarray(x, dtype=float)
    if theta.ndim not in (1, 2) or theta.shape[-1] != size:
        raise ValueError(f"theta has shape {theta.shape}, expected ({size},) or (T, {size})")
    if x.ndim not in (2, 3) or x.shape[-1] != d_in:
        raise ValueError(f"x has shape {x.shape}, expected (N, {d_in}) or (T, N, {d_in})")
    if theta.ndim == 2 and x.ndim == 3 and theta.shape[0] != x.shape[0]:
        raise ValueError(f"theta has shape {theta.shape} but x has shape {x.shape}: task axes differ")
    if y is not None:
        y = np.asarray(y, dtype=float)
        if y.shape != x.shape[:-1] + (d_out,):
            raise ValueError(f"y has shape {y.shape} but x has shape {x.shape}; expected y {x.shape[:-1] + (d_out,)}")
    return theta, x, y


class MLP(Model):
    """A ReLU network, default 1-40-40-1 (1,761 parameters), with MSE loss (mean over points and outputs) or,
    with loss="xent", softmax cross-entropy (mean over points; y holds one-hot labels, predict gives logits).

    θ layout, in order: W1 (d_in × h1, row-major), b1, W2, b2, …, W_L, b_L.
    Prediction for 1-40-40-1: relu(relu(x·W1 + b1)·W2 + b2)·W3 + b3.
    """

    def __init__(self, sizes=(1, 40, 40, 1), loss="mse"):
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes {sizes}: need at least an input and an output size, all positive")
        if loss not in HEADS:
            raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(HEADS)}")
        self.loss_name, self.head = loss, HEADS[loss]
        self.sizes = sizes
        self.layers = []  # per layer: (d_in, d_out, start of W, start of b, end of b)
        start = 0
        for a, b in zip(sizes[:-1], sizes[1:]):
            self.layers.append((a, b, start, start + a * b, start + a * b + b))
            start += a * b + b
        self.size = start

    def __repr__(self):
        return f"MLP({list(self.sizes)})" if self.loss_name == "mse" else f"MLP({list(self.sizes)}, loss={self.loss_name!r})"

    def init(self, rng):
        """θ with He-normal weights (std √(2/d_in)) and zero biases, as a fresh (P,) float64 array."""
        theta = np.zeros(self.size)
        for a, b, w0, b0, _ in self.layers:
            theta[w0:b0] = rng.normal(0.0, np.sqrt(2.0 / a), a * b)
        return theta

    def _unpack(self, theta):
        """Views of θ: weights (…, d_in, d_out) and biases (…, 1, d_out) (broadcast over points)."""
        lead = theta.shape[:-1]
        ws = [theta[..., w0:b0].reshape(lead + (a, b)) for a, b, w0, b0, _ in self.layers]
        bs = [theta[..., None, b0:b1] for _, _, _, b0, b1 in self.layers]
        return ws, bs

    def _forward(self, theta, x):
        """Pre-activations z_l and activations a_l. With a shared θ the whole batch is one (T·N)×d product."""
        ws, bs = self._unpack(theta)
        flat = theta.ndim == 1 and x.ndim == 3  # pragma: no mutate: route
        h = x.reshape(-1, x.shape[-1]) if flat else x  # pragma: no mutate: route
        acts, masks = [h], []
        last = len(ws) - 1
        for i, (w, b) in enumerate(zip(ws, bs)):
            z = _mm(h, w)
            z += b                             # z_l = a_{l-1}·W_l + b_l
            if i < last:
                m = z > 0                      # relu'(z_l)
                h = z * m                      # a_l = relu(z_l)
                acts.append(h)
                masks.append(m)
        if flat:
            t, n = x.shape[:2]
            acts = [a.reshape(t, n, -1) for a in acts]  # pragma: no mutate: infers
            masks = [m.reshape(t, n, -1) for m in masks]  # pragma: no mutate: infers
            z = z.reshape(t, n, -1)  # pragma: no mutate: infers
        return ws, acts, masks, z

    def predict(self, theta, x):
        """Outputs M(x; θ), shape x.shape[:-1] + (d_out,) (with a leading task axis when θ has one)."""
        theta, x, _ = _check_shapes(theta, x, None, self.size, self.sizes[0], self.sizes[-1])
        return self._forward(theta, x)[3]

    def loss(self, theta, x, y):
        """L (mean over points of (M(x; θ) − y)², or the cross-entropy), forward pass only; shape () or (T,)."""
        theta, x, y = _check_shapes(theta, x, y, self.size, self.sizes[0], self.sizes[-1])
        return self.head.loss(self._forward(theta, x)[3], y)

    def linearize(self, theta, x, y):
        """(L, ∇L, hvp): loss, exact gradient, and an exact Hessian-vector product reusing this forward pass.

        L = mean over points of (M(x; θ) − y)². Backward pass: δ_L = 2(M − y)/N, ∂L/∂W_l = a_{l-1}ᵀδ_l,
        ∂L/∂b_l = Σ δ_l, δ_{l-1} = δ_l W_lᵀ ⊙ relu'(z_{l-1}). Cross-entropy changes only δ_L and δ̇_L (see XentHead).
        hvp(v) is forward-over-reverse: the directional derivative of that backward pass along v (relu'' = 0).
        """
        return self._linearize(theta, x, y)[:3]

    def loss_grad_factors(self, theta, x, y):
        """(L, ∇L, factors): factors[l] = (a_{l-1}, δ_l), the two arrays whose product a_{l-1}ᵀδ_l (summed over the
        points) is ∇L's W_l block, for `hvp(∇L, factors=factors)` of another linearisation."""
        loss, grad, _, factors = self._linearize(theta, x, y)
        return loss, grad, factors

    def _linearize(self, theta, x, y):
        """(L, ∇L, hvp, factors): the forward pass, the backward pass for ∇L, and hvp(v) = ∇²L·v, the directional
        derivative of that backward pass along v (forward-over-reverse; relu'' = 0): the lines with dotted symbols."""
        theta, x, y = _check_shapes(theta, x, y, self.size, self.sizes[0], self.sizes[-1])
        ws, acts, masks, out = self._forward(theta, x)
        batched = out.ndim == 3  # pragma: no mutate: route
        loss, delta, out_tangent = self.head.linearize(out, y)   # L and δ_L = ∂L/∂M; δ̇_L = out_tangent(Ṁ)
        deltas = [None] * len(ws)
        grads = [None] * (2 * len(ws))
        flat = theta.ndim == 1 and batched  # pragma: no mutate: route
        for i in range(len(ws) - 1, -1, -1):
            deltas[i] = delta
            grads[2 * i] = np.swapaxes(acts[i], -1, -2) @ delta  # ∂L/∂W_l = a_{l-1}ᵀ δ_l
            grads[2 * i + 1] = delta.sum(axis=-2)                # ∂L/∂b_l = Σ_points δ_l
            if i:
                delta = _matmul_shared(delta, np.swapaxes(ws[i], -1, -2), flat)
                delta *= masks[i - 1]                            # δ_{l-1} = δ_l W_lᵀ ⊙ relu'(z_{l-1})
        lead = out.shape[:-2]
        grad = np.concatenate([g.reshape(lead + (-1,)) for g in grads], axis=-1)  # pragma: no mutate: infers
        grad_shape = grad.shape                                  # hvp keeps the shape, not the gradient itself

        def hvp(v, reduce=False, factors=None):
            """∇²L·v (forward-over-reverse). reduce=True: summed over the task axis, Σ_t ∇²L_t·v_t, shape (P,).

            factors: when v is a gradient from `loss_grad_factors` (one per task), its weight blocks
            V_l = Σ_n p_nᵀ q_n are applied as a·V_l = (a pᵀ) q and δ·V_lᵀ = (δ qᵀ) p where that takes fewer
            products (few points, wide layers: for the sine MLP's 40×40 layer with 10 points, half)."""
            v = np.asarray(v, dtype=float)
            if v.shape[-1] != self.size or v.ndim > 2 or (v.ndim == 2 and lead and v.shape[0] != lead[0]):
                raise ValueError(f"v has shape {v.shape} but the gradient has shape {grad_shape}")
            vws, vbs = self._unpack(v)
            low_rank = [None] * len(ws)
            if factors is not None and v.ndim == 2:  # pragma: no mutate: route
                low_rank = [(p, q) if _factored_is_cheaper(p, q) else None for p, q in factors]  # pragma: no mutate: route

            def times_v(a, i):                                   # a·V_l
                if low_rank[i] is None:
                    return _mm(a, vws[i])
                p, q = low_rank[i]
                return (a @ np.swapaxes(p, -1, -2)) @ q

            def times_vt(d, i):                                  # d·V_lᵀ
                if low_rank[i] is None:
                    return _mm(d, np.swapaxes(vws[i], -1, -2))
                p, q = low_rank[i]
                return (d @ np.swapaxes(q, -1, -2)) @ p

            # Tangent forward pass: ż_l = ȧ_{l-1}·W_l + a_{l-1}·V_l + v_b,l, ȧ_l = ż_l ⊙ relu'(z_l).
            dacts = [None]
            h = times_v(acts[0], 0) + vbs[0]
            for i in range(1, len(ws)):
                da = h * masks[i - 1]
                dacts.append(da)
                h = _matmul_shared(da, ws[i], flat) + times_v(acts[i], i)
                h += vbs[i]
            ddelta = out_tangent(h)                              # δ̇_L, e.g. 2 Ṁ / N for MSE
            total = reduce and ddelta.ndim == 3                  # Σ over tasks: one product over all T·N points
            mul_t = _mul_t_flat if total else _mul_t
            out_parts = [None] * (2 * len(ws))
            for i in range(len(ws) - 1, -1, -1):
                d = deltas[i]
                hw = mul_t(acts[i], ddelta)                      # (∇²L v)_W = a_{l-1}ᵀ δ̇_l + ȧ_{l-1}ᵀ δ_l
                if i:
                    hw = hw + mul_t(dacts[i], d)
                out_parts[2 * i] = hw
                out_parts[2 * i + 1] = ddelta.sum(axis=(0, 1) if total else -2)   # (∇²L v)_b = Σ δ̇_l
                if i:
                    # δ̇_{l-1} = (δ̇_l W_lᵀ + δ_l V_lᵀ) ⊙ relu'(z_{l-1})
                    ddelta = _matmul_shared(ddelta, np.swapaxes(ws[i], -1, -2), flat) + times_vt(d, i)
                    ddelta *= masks[i - 1]
            vlead = () if total else np.broadcast_shapes(lead, v.shape[:-1])
            return np.concatenate([p.reshape(vlead + (-1,)) for p in out_parts], axis=-1)  # pragma: no mutate: infers

        return loss, grad, hvp, list(zip(acts, deltas))


class MSEHead:
    """L = mean over points and outputs of (M − y)²:  δ_L = 2(M − y)/n,  δ̇_L = 2Ṁ/n  (n = points × outputs)."""

    @staticmethod
    def loss(out, y):
        err = out - y
        return (err * err).sum(axis=(-2, -1)) / (err.shape[-2] * err.shape[-1])

    @staticmethod
    def linearize(out, y):
        n = out.shape[-2] * out.shape[-1]
        err = out - y
        loss = (err * err).sum(axis=(-2, -1)) / n       # L = mean (M − y)²
        return loss, err * (2.0 / n), lambda dout: dout * (2.0 / n)


class XentHead:
    """Softmax cross-entropy, mean over the N points: L = −(1/N) Σ_n Σ_c y_nc log p_nc with p = softmax(M),
    y one-hot (rows summing to 1). δ_L = (p − y)/N; its tangent along Ṁ is δ̇_L = (p ⊙ Ṁ − p (pᵀṀ))/N, i.e.
    the softmax Jacobian diag(p) − ppᵀ applied to Ṁ, point by point."""

    @staticmethod
    def loss(out, y):
        return -(y * log_softmax(out)).sum(axis=(-2, -1)) / out.shape[-2]

    @staticmethod
    def linearize(out, y):
        n = out.shape[-2]
        logp = log_softmax(out)
        p = np.exp(logp)
        loss = -(y * logp).sum(axis=(-2, -1)) / n

        def out_tangent(dout):
            pd = p * dout
            return (pd - p * pd.sum(axis=-1, keepdims=True)) / n

        return loss, (p - y) / n, out_tangent


HEADS = {"mse": MSEHead, "xent": XentHead}


def log_softmax(z):
    """log softmax over the last axis, shifted by the row maximum so that large logits do not overflow."""
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def softmax(z):
    """Class probabilities from logits (last axis)."""
    return np.exp(log_softmax(np.asarray(z, dtype=float)))


def _factored_is_cheaper(p, q):
    """N·(k + m) < k·m: a·V with V = pᵀq (N points, k × m) costs fewer multiply-adds as (a pᵀ)q than as a·V."""
    return p.shape[-2] * (p.shape[-1] + q.shape[-1]) < p.shape[-1] * q.shape[-1]  # pragma: no mutate: route


def _mul_t(a, b):
    """aᵀ·b per task: (…, N, k), (…, N, m) → (…, k, m)."""
    return np.swapaxes(a, -1, -2) @ b


def _mul_t_flat(a, b):
    """Σ_t a_tᵀ·b_t. Without BLAS (Pyodide) a product that sums over all T·N points walks both operands with a
    large stride and is ~30 % slower than the T per-task products plus a sum of their (k × m) results, so the
    per-task form is used while that stack of results stays small."""
    if a.ndim == 3 and a.shape[0] * a.shape[-1] * b.shape[-1] <= 1 << 16:  # pragma: no mutate: route
        return (np.swapaxes(a, -1, -2) @ b).sum(axis=0)
    return a.reshape(-1, a.shape[-1]).T @ b.reshape(-1, b.shape[-1])  # pragma: no mutate: infers


def _mm(a, w):
    """a · w; an outer product (inner size 1, as for the sine MLP's input and output) as a plain multiply."""
    return a * w if a.shape[-1] == 1 else a @ w  # pragma: no mutate: route


def _matmul_shared(a, w, flat):
    """a (T, N, k) · w (k, m): one (T·N)×k product when w is shared by all tasks."""
    if a.shape[-1] == 1:
        return a * w
    if flat and w.ndim == 2:  # pragma: no mutate: route
        return (a.reshape(-1, a.shape[-1]) @ w).reshape(a.shape[:-1] + (w.shape[-1],))  # pragma: no mutate: route
    return a @ w
