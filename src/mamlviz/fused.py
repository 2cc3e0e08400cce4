"""Second-order MAML with one inner step for the MSE multilayer perceptron, fused: the hot path of meta-training.

It computes exactly what `meta.maml_direction` computes for k = 1,

    direction = mean_i (I − α ∇²L^tr_i(θ)) ∇L^te_i(φ_i),    φ_i = θ − α ∇L^tr_i(θ),

but arranges the work so that every large product uses the shared weights W_l of θ over all tasks' points at once.
Each task's adapted weights differ from θ's by a low-rank term, W_l − α·A_{l−1,i} δ_{l,i}ᵀ (A: the support
activations entering layer l, δ: the support backward signal leaving it, both with N columns), so

    W_{l,i}′ᵀ·H = W_lᵀ·H − α·δ_{l,i}·(A_{l−1,i}ᵀ·H)        (H: the query activations of task i)

costs one shared product plus an N × N_q Gram matrix per task. The Hessian-vector product along the query gradient
reuses the same Gram matrices, because the query gradient's weight blocks are low-rank in the same way. No
per-task weight matrix is ever formed, and the direction's weight blocks are sums over all points.

Arrays are laid out features × points (points last, tasks' points side by side): there the products are long
contiguous loops. Without BLAS (Pyodide) NumPy's einsum runs those loops faster than matmul; natively, BLAS matmul
is faster. `_mm` and `_a_bt` pick per platform (see *The hot path* in docs/architecture.md).
"""

from __future__ import annotations

import sys

import numpy as np


def _mm_einsum(w, a):
    return np.einsum("km,mn->kn", w, a)          # W·A: long contiguous loops over the points


def _a_bt_einsum(a, b):
    return np.einsum("kn,mn->km", a, b)          # A·Bᵀ, summed over all points


def _mm_blas(w, a):
    return w @ a


def _a_bt_blas(a, b):
    return a @ b.T


# Pyodide's NumPy has no BLAS: there einsum's unrolled loops run these products 1.3–2× faster than matmul's.
_mm, _a_bt = (_mm_einsum, _a_bt_einsum) if sys.platform == "emscripten" else (_mm_blas, _a_bt_blas)


def applies(model, inner_steps, per_task, keep_path, kept_bytes):
    """True when `maml_direction` may take this path: an MSE `nn.MLP`, one inner step, only the mean direction
    asked for (no per-task directions, no path, no memory accounting, which describes the generic path)."""
    return (getattr(model, "loss_name", None) == "mse" and hasattr(model, "layers") and inner_steps == 1
            and not (per_task or keep_path or kept_bytes))


# Per-task products on arrays laid out (features, T·N): task i owns columns i·N … (i + 1)·N − 1.
def _points(a, t, n):
    """(T, N, d) data → (d, T·N)."""
    return np.ascontiguousarray(a.reshape(t * n, a.shape[-1]).T)


def _tasks_of(a, t):
    """(d, T·N) → (T, d, N), a view."""
    return a.reshape(a.shape[0], t, -1).transpose(1, 0, 2)


def _joined(b):
    """(T, d, N) → (d, T·N)."""
    return b.transpose(1, 0, 2).reshape(b.shape[1], -1)


def _gram(a, h, t):
    """A_iᵀ·H_i per task, (T, N_a, N_h)."""
    return _tasks_of(a, t).transpose(0, 2, 1) @ _tasks_of(h, t)


def _outer(a, d, t):
    """A_i·D_iᵀ per task, (T, d_a, d_d): a weight block of task i's gradient."""
    return _tasks_of(a, t) @ _tasks_of(d, t).transpose(0, 2, 1)


def _times(m, a, t):
    """M_i·A_i per task, for M (T, p, q) and A (q, T·N) → (p, T·N). With q = 1 (an input layer of size 1) an outer
    product per task, done as one broadcast multiply."""
    if m.shape[2] == 1:
        return (m[:, :, 0].T[:, :, None] * a.reshape(1, t, -1)).reshape(m.shape[1], -1)
    return _joined(m @ _tasks_of(a, t))


def _task_sums(a, t):
    """Σ over each task's points: (d, T·N) → (d, T) (a product with ones: NumPy's sum over a short last axis is slow)."""
    n = a.shape[1] // t
    return (a.reshape(-1, n) @ np.ones(n)).reshape(a.shape[0], t)


def _plus_task_bias(z, b, t):
    """Z (d, T·N) + each task's bias b (d, T) on its own columns."""
    return (z.reshape(z.shape[0], t, -1) + b[:, :, None]).reshape(z.shape[0], -1)


def maml_step(model, theta, batch, inner_lr, query_before=True):
    """(direction, info) of second-order MAML with k = 1 for `model` (an MSE `nn.MLP`), as `meta.maml_direction`.

    info: loss_after, support_loss_before, and loss_before (query loss at θ) unless query_before=False.
    A layer whose weight matrix is thin (N·(d_in + d_out) ≥ d_in·d_out, e.g. the sine MLP's first and last) gets
    explicit per-task weights instead: there they are cheaper than Gram matrices.
    """
    alpha = inner_lr
    t, n = batch.xs.shape[:2]
    nq = batch.xq.shape[1]
    ws = [theta[w0:b0].reshape(a, b) for a, b, w0, b0, _ in model.layers]
    wts = [np.ascontiguousarray(w.T) for w in ws]
    bs = [theta[b0:b1, None] for _, _, _, b0, b1 in model.layers]
    low_rank = [max(n, nq) * (a + b) < a * b for a, b, *_ in model.layers]
    last = len(ws) - 1
    d_out = model.sizes[-1]
    c_s, c_q = 2.0 / (n * d_out), 2.0 / (nq * d_out)

    def relu(z):
        m = (z > 0).astype(float)         # a float mask: products with it are ~3× faster than with a bool one
        z *= m
        return z, m

    def task_loss(err, npts):
        return (err * err).reshape(d_out, t, npts).sum(axis=(0, 2)) / (npts * d_out)

    def output_at_theta(h):
        """Activations A_0 … A_{L−1}, their ReLU masks, and the output at θ, all tasks' points at once."""
        acts, masks = [h], []
        for i in range(last + 1):
            z = _mm(wts[i], h)
            z += bs[i]                                  # Z_l = W_lᵀ A_{l−1} + b_l
            if i < last:
                h, m = relu(z)                          # A_l = relu(Z_l)
                acts.append(h)
                masks.append(m)
        return acts, masks, z

    # Support pass at θ and its backward signals: δ_L = 2(M − y)/(N·d_out), δ_{l−1} = W_l δ_l ⊙ relu′(Z_{l−1}).
    acts, masks, out = output_at_theta(_points(batch.xs, t, n))
    err = out - _points(batch.ys, t, n)
    deltas = [None] * (last + 1)
    deltas[last] = err * c_s
    for i in range(last, 0, -1):
        deltas[i - 1] = _mm(ws[i], deltas[i])
        deltas[i - 1] *= masks[i - 1]

    # Query pass at φ_i: W_l′ = W_l − α A_{l−1,i} δ_{l,i}ᵀ, b_l′ = b_l − α δ_{l,i}·1 (the bias is a weight on a
    # constant 1). Wide layers: W_l′ᵀ H + b_l′ = W_lᵀ H + b_l − α δ_{l,i} G_l with G_l = A_{l−1,i}ᵀ H + 1 (N × N_q).
    h = _points(batch.xq, t, nq)
    acts_q, masks_q = [h], []
    grams, w_task = [None] * (last + 1), [None] * (last + 1)
    for i in range(last + 1):
        if low_rank[i]:
            grams[i] = _gram(acts[i], h, t) + 1.0
            z = _mm(wts[i], h)
            z -= _joined(_tasks_of(deltas[i], t) @ (alpha * grams[i]))
            z += bs[i]
        else:
            w_task[i] = ws[i] - alpha * _outer(acts[i], deltas[i], t)          # W_l′ per task, (T, d_in, d_out)
            z = _plus_task_bias(_times(w_task[i].transpose(0, 2, 1), h, t), bs[i] - alpha * _task_sums(deltas[i], t), t)
        if i < last:
            h, m = relu(z)
            acts_q.append(h)
            masks_q.append(m)
    err_q = z - _points(batch.yq, t, nq)

    # Query backward at φ_i: δ′_{l−1} = W_l′ δ′_l ⊙ relu′(Z′_{l−1}); wide layers: W_l δ′_l − α A_{l−1,i} K_l with
    # K_l = δ_{l,i}ᵀ δ′_{l,i}.
    deltas_q = [None] * (last + 1)
    deltas_q[last] = err_q * c_q
    kgrams = [None] * (last + 1)
    for i in range(last, 0, -1):
        if low_rank[i]:
            kgrams[i] = _gram(deltas[i], deltas_q[i], t)
            back = _mm(ws[i], deltas_q[i]) - alpha * _joined(_tasks_of(acts[i], t) @ kgrams[i])
        else:
            back = _times(w_task[i], deltas_q[i], t)
        back *= masks_q[i - 1]
        deltas_q[i - 1] = back

    # ∇²L^tr_i(θ)·v_i along the query gradient v_i, whose blocks are V_l = A′_{l−1,i} δ′_{l,i}ᵀ and v_b,l = δ′_{l,i}·1
    # (forward over reverse): Ż_l = W_lᵀ Ȧ_{l−1} + V_lᵀ A_{l−1} + v_b,l, Ȧ_l = Ż_l ⊙ relu′(Z_l); wide layers:
    # V_lᵀ A_{l−1,i} + v_b,l = δ′_{l,i} G_lᵀ.
    v_task = [None] * (last + 1)
    dacts = [None]
    for i in range(last + 1):
        if low_rank[i]:
            zdot = _joined(_tasks_of(deltas_q[i], t) @ grams[i].transpose(0, 2, 1))
        else:
            v_task[i] = _outer(acts_q[i], deltas_q[i], t)
            zdot = _plus_task_bias(_times(v_task[i].transpose(0, 2, 1), acts[i], t), _task_sums(deltas_q[i], t), t)
        if i:
            zdot += _mm(wts[i], dacts[i])
        if i < last:
            dacts.append(zdot * masks[i])
    # δ̇_L = 2 Ż_L/(N·d_out); δ̇_{l−1} = (W_l δ̇_l + V_l δ_l) ⊙ relu′(Z_{l−1}) (wide layers: V_l δ_{l,i} = A′_{l−1,i} K_lᵀ).
    ddeltas = [None] * (last + 1)
    ddeltas[last] = zdot * c_s
    for i in range(last, 0, -1):
        if low_rank[i]:
            vd = _joined(_tasks_of(acts_q[i], t) @ kgrams[i].transpose(0, 2, 1))
        else:
            vd = _times(v_task[i], deltas[i], t)
        vd += _mm(ws[i], ddeltas[i])
        vd *= masks[i - 1]
        ddeltas[i - 1] = vd

    # direction = (1/T) Σ_i [∇L^te_i(φ_i) − α ∇²L^tr_i(θ) ∇L^te_i(φ_i)], block by block, summed over all points:
    # weights A′δ′ᵀ − α (A δ̇ᵀ + Ȧ δᵀ), biases Σ δ′ − α Σ δ̇.
    parts = []
    for i in range(last + 1):
        gw = _a_bt(acts_q[i], deltas_q[i]) - alpha * _a_bt(acts[i], ddeltas[i])
        if i:
            gw -= alpha * _a_bt(dacts[i], deltas[i])
        parts += [gw.ravel(), deltas_q[i].sum(axis=1) - alpha * ddeltas[i].sum(axis=1)]
    direction = np.concatenate(parts) / t

    info = {"loss_after": task_loss(err_q, nq), "support_loss_before": task_loss(err, n)}
    if query_before:
        info["loss_before"] = task_loss(output_at_theta(_points(batch.xq, t, nq))[2] - _points(batch.yq, t, nq), nq)
    return direction, info
