"""Extreme eigenvalues of a symmetric matrix known only through v ↦ A·v (a Hessian through Hessian-vector products),
by the Lanczos iteration, vectorised over a leading batch axis (one matrix per task), as `mamlviz.cg` is."""

from __future__ import annotations

import numpy as np


def lanczos(matvec, v0, steps):
    """Ritz values of A after `steps` Lanczos iterations from the start vector v0, largest first.

    v0: (P,) or (T, P), one independent symmetric matrix per row; matvec maps arrays of that shape to the same shape.
    Every new basis vector is re-orthogonalised against all earlier ones (steps ≪ P, so this is cheap and keeps
    the Ritz values free of spurious copies). Returns an array of shape v0.shape[:-1] + (m,), m ≤ steps (fewer when
    the Krylov space is exhausted for every row); the first values converge to the largest eigenvalues, the last
    to the smallest.
    """
    v = np.asarray(v0, dtype=float)
    q = v / np.linalg.norm(v, axis=-1, keepdims=True)
    basis, alphas, betas = [q], [], []
    for j in range(int(steps)):
        w = matvec(basis[-1])
        alphas.append((w * basis[-1]).sum(axis=-1))                       # α_j = q_jᵀ A q_j
        qs = np.stack(basis, axis=-2)                                      # (…, j + 1, P)
        w = w - np.einsum("...jp,...j->...p", qs, np.einsum("...jp,...p->...j", qs, w))  # full re-orthogonalisation
        beta = np.linalg.norm(w, axis=-1)
        if j == steps - 1 or not (beta > 1e-10 * np.abs(alphas[0]).max()).any():
            break
        betas.append(beta)
        basis.append(w / np.where(beta > 0, beta, 1.0)[..., None])
    m = len(alphas)
    tri = np.zeros(alphas[0].shape + (m, m))
    idx = np.arange(m)
    tri[..., idx, idx] = np.stack(alphas, axis=-1)
    if m > 1:
        off = np.stack(betas[: m - 1], axis=-1)
        tri[..., idx[:-1], idx[1:]] = off
        tri[..., idx[1:], idx[:-1]] = off
    return np.linalg.eigvalsh(tri)[..., ::-1]
