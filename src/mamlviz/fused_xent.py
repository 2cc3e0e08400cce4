"""MAML, first-order MAML and Reptile with k inner steps for the cross-entropy MLP, fused: the classification race's
training updates (Part 8, `mamlviz.glyphrace`). It computes what `meta.meta_gradient` computes for an `nn.MLP` with
loss="xent" (the reference, kept for tests), but batches the tasks of a round so that no per-task copy of the first
layer (196 × 64 for the glyph MLP, most of the parameters) is ever formed, and works on each layer's blocks instead of
flat (T, P) vectors.

The first layer meets only the N support points in the inner loop, so its gradients add up to
W₀^(j) = W₀ − α X_sᵀ D^(j), b₀^(j) = b₀ − α 1ᵀ D^(j) with D^(j) = Σ_{i<j} δ₀^(i) (N × h₁ per task), and any input x
meets them as

    x W₀^(j) + b₀^(j) = x W₀ + b₀ − α (x X_sᵀ + 1) D^(j)

(one shared product and an N-column Gram matrix, as `glyphrace.adapted_logits`). The later, smaller layers are
stepped per task. MAML's second-order term is the product of the text,

    ∇_θ L^te(U^(k)(θ)) = (I − α H^(0)) (I − α H^(1)) ⋯ (I − α H^(k−1)) ∇L^te(φ^(k)),   H^(j) = ∇²L^tr(φ^(j)),

applied to the query gradient by Hessian-vector products at the kept inner steps, for all tasks at once. Every
vector it meets has a first-layer block in the span of the task's own points, V₀ = X_tᵀ C with X_t = [X_s; X_q]
(the query gradient's is X_qᵀ δ₀^q, a Hessian-vector product adds X_sᵀ δ̇₀): it is carried as the coefficients C
((N + Q) × h₁ per task), and the tasks' blocks are summed at the end in one product over all T·(N + Q) points.

Notation (see `nn.MLP`): z_l = a_l W_l + b_l with a₀ = x, a_{l+1} = relu(z_l); δ_l = ∂L/∂z_l,
δ_{L−1} = (softmax(z_{L−1}) − y)/N, δ_{l−1} = δ_l W_lᵀ ⊙ relu′(z_{l−1}); ∂L/∂W_l = a_lᵀ δ_l, ∂L/∂b_l = Σ δ_l.
Tangents (forward over reverse, relu″ = 0) carry dots: ż, ȧ, δ̇.
"""

from __future__ import annotations

import numpy as np

from .fused import _mm
from .nn import log_softmax


def shared_product(x, w):
    """x (…, d) · w (d, m) for a weight shared by all the points of x, as one flat product: `mamlviz.fused`'s choice
    of einsum's loops without BLAS (Pyodide, about twice as fast as matmul there) and BLAS matmul natively."""
    flat = x.reshape(-1, x.shape[-1])
    return _mm(flat, w).reshape(x.shape[:-1] + (w.shape[1],))


def applies(model):
    """True for the models this module knows: a cross-entropy `nn.MLP`."""
    return getattr(model, "loss_name", None) == "xent" and hasattr(model, "layers")


def _t(a):
    return np.swapaxes(a, -1, -2)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class _Inner:
    """The k inner steps of every task from the shared θ, with what MAML's backward pass needs of each step.

    steps[j] = (W (per-task later layers at φ^(j), l ≥ 1), acts a_l (l ≥ 1), masks of z_l, p = softmax of the output,
    deltas δ_l) of the support pass at φ^(j). After the loop: D = D^(k), w, b = the later layers at φ^(k)."""

    def __init__(self, model, theta, xs, ys, lr, steps, keep):
        ws = [theta[w0:b0].reshape(a, b) for a, b, w0, b0, _ in model.layers]
        bs = [theta[b0:b1] for _, _, _, b0, b1 in model.layers]
        self.ws, self.bs, self.lr = ws, bs, lr
        t, n = xs.shape[:2]
        self.t, self.n = t, n
        self.xs = xs
        self.z0_s = shared_product(xs, ws[0]) + bs[0]                               # X_s W₀ + b₀
        self.g_s = xs @ _t(xs) + 1.0                                               # X_s X_sᵀ + 1 (+1: the bias)
        self.D = np.zeros((t, n, ws[0].shape[1]))
        self.w = list(ws[1:])                     # W_l, b_l (l ≥ 1) at φ^(j): shared at j = 0, then per task
        self.b = list(bs[1:])
        self.steps = []
        for _ in range(int(steps)):
            out = self.forward(self.z0_s - lr * (self.g_s @ self.D))
            acts, masks, z = out
            p = _softmax(z)
            delta = (p - ys) / n
            deltas = [None] * (len(self.w) + 1)
            gw, gb = [None] * len(self.w), [None] * len(self.w)
            for l in range(len(self.w), 0, -1):
                deltas[l] = delta
                gw[l - 1] = _t(acts[l - 1]) @ delta                                # a_lᵀ δ_l
                gb[l - 1] = delta.sum(axis=1, keepdims=True)
                delta = (delta @ _t(self.w[l - 1])) * masks[l - 1]                 # δ_{l−1}
            deltas[0] = delta
            if keep:
                self.steps.append((self.w, acts, masks, p, deltas))
            self.w = [w - lr * g for w, g in zip(self.w, gw)]
            self.b = [b - lr * g for b, g in zip(self.b, gb)]
            self.D = self.D + deltas[0]

    def forward(self, z):
        """From the first layer's pre-activation z₀ through the later layers at the current φ: (a_l, masks, output)."""
        acts, masks = [], []
        for w, b in zip(self.w, self.b):
            m = z > 0
            acts.append(z * m)
            masks.append(m)
            z = acts[-1] @ w + b
        return acts, masks, z

    def first_layer(self, x):
        """x W₀^(k) + b₀^(k) for x (T, Q, d) of the same tasks."""
        z = shared_product(x, self.ws[0]) + self.bs[0]
        return z - self.lr * ((x @ _t(self.xs) + 1.0) @ self.D)


def _query(inner, xq, yq):
    """The query pass at φ^(k): the loss per task, the activations a_l (l ≥ 1) and the backward signals δ^q_l."""
    acts, masks, z = inner.forward(inner.first_layer(xq))
    q = xq.shape[1]
    logp = log_softmax(z)
    loss = -(yq * logp).sum(axis=(1, 2)) / q
    delta = (np.exp(logp) - yq) / q
    deltas = [None] * (len(inner.w) + 1)
    for l in range(len(inner.w), 0, -1):
        deltas[l] = delta
        delta = (delta @ _t(inner.w[l - 1])) * masks[l - 1]
    deltas[0] = delta
    return loss, acts, deltas


def _flat(blocks):
    return np.concatenate([np.ravel(b) for b in blocks])


def _first_block(x, c):
    """Σ_t X_tᵀ C_t: the first layer's weight block summed over the tasks, one product over all their points."""
    return x.reshape(-1, x.shape[-1]).T @ c.reshape(-1, c.shape[-1])


def direction(method, model, theta, batch, *, inner_lr, inner_steps):
    """(direction (P,), loss after adaptation per task (T,)) of "maml", "fomaml" or "reptile" for a cross-entropy
    `nn.MLP`: what `meta.meta_gradient(method, …)` returns as its direction and info["loss_after"]."""
    theta = np.asarray(theta, dtype=float)
    alpha, k = inner_lr, int(inner_steps)
    xs, ys, xq, yq = (np.asarray(a, dtype=float) for a in (batch.xs, batch.ys, batch.xq, batch.yq))
    t = xs.shape[0]
    inner = _Inner(model, theta, xs, ys, alpha, k, keep=method == "maml")
    loss, acts_q, deltas_q = _query(inner, xq, yq)
    if method == "reptile":                                   # θ − mean_t φ_t^(k), block by block
        parts = [alpha * _first_block(xs, inner.D) / t, alpha * inner.D.sum(axis=(0, 1)) / t]
        for w0, b0, w, b in zip(inner.ws[1:], inner.bs[1:], inner.w, inner.b):
            parts += [w0 - np.broadcast_to(w, (t,) + w0.shape).sum(axis=0) / t,
                      b0 - np.broadcast_to(b, (t, 1) + b0.shape).sum(axis=(0, 1)) / t]
        return _flat(parts), loss
    # the query gradient ∇L^te(φ^(k)) per task, in blocks: the first layer's as coefficients on [X_s; X_q]
    c = np.concatenate([np.zeros_like(inner.D), deltas_q[0]], axis=1)
    vb0 = deltas_q[0].sum(axis=1, keepdims=True)
    vw = [_t(a) @ d for a, d in zip(acts_q, deltas_q[1:])]
    vb = [d.sum(axis=1, keepdims=True) for d in deltas_q[1:]]
    if method == "maml":
        x_all = np.concatenate([xs, xq], axis=1)
        k_s = xs @ _t(x_all)                                  # X_s X_tᵀ: the support pass meets V₀ = X_tᵀ C
        n = xs.shape[1]
        for w, acts, masks, p, deltas in reversed(inner.steps):
            # H^(j) v, forward over reverse: ż₀ = X_s V₀ + v_b₀, ȧ_l = ż_{l−1} ⊙ relu′, ż_l = ȧ_l W_l + a_l V_l + v_b,l
            z = k_s @ c + vb0
            dacts = []
            for l in range(len(w)):
                dacts.append(z * masks[l])
                z = dacts[l] @ w[l] + acts[l] @ vw[l] + vb[l]
            pz = p * z
            ddelta = (pz - p * pz.sum(axis=-1, keepdims=True)) / n      # δ̇: the softmax Jacobian applied to ż
            hw, hb = [None] * len(w), [None] * len(w)
            for l in range(len(w), 0, -1):
                hw[l - 1] = _t(acts[l - 1]) @ ddelta + _t(dacts[l - 1]) @ deltas[l]   # a_lᵀ δ̇_l + ȧ_lᵀ δ_l
                hb[l - 1] = ddelta.sum(axis=1, keepdims=True)
                ddelta = (ddelta @ _t(w[l - 1]) + deltas[l] @ _t(vw[l - 1])) * masks[l - 1]
            # v ← (I − α H^(j)) v; the first layer's (H v) block is X_sᵀ δ̇₀ (ȧ₀ = 0): coefficients on the support rows
            c[:, :n] -= alpha * ddelta
            vb0 = vb0 - alpha * ddelta.sum(axis=1, keepdims=True)
            vw = [v - alpha * h for v, h in zip(vw, hw)]
            vb = [v - alpha * h for v, h in zip(vb, hb)]
        first = _first_block(x_all, c)
    else:                                                     # fomaml: ∇L^te(φ^(k)) itself
        first = _first_block(xq, deltas_q[0])
    parts = [first / t, vb0.sum(axis=(0, 1)) / t]
    for v, u in zip(vw, vb):
        parts += [v.sum(axis=0) / t, u.sum(axis=(0, 1)) / t]
    return _flat(parts), loss
