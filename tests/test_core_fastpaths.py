"""The speed paths of the core agree with the plain ones: the factored Hessian-vector product (the tangent given as
a gradient's outer-product factors) and the per-task form of Σ_t a_tᵀb_t."""

import numpy as np
import pytest

from mamlviz import nn, sine
from mamlviz.meta import meta_gradient


@pytest.mark.parametrize("sizes,loss,n", [((1, 40, 40, 1), "mse", 10), ((4, 9, 8, 3), "xent", 2)])
@pytest.mark.parametrize("shared", [True, False])
def test_factored_hvp_equals_the_plain_one(sizes, loss, n, shared):
    model, rng = nn.MLP(sizes, loss=loss), np.random.default_rng(3)
    t = 5
    theta = model.init(rng)
    x = rng.normal(size=(t, n, sizes[0]))
    xq = rng.normal(size=(t, n, sizes[0]))
    if loss == "xent":
        y, yq = (np.eye(sizes[-1])[rng.integers(0, sizes[-1], (t, n))] for _ in range(2))
    else:
        y, yq = rng.normal(size=(t, n, 1)), rng.normal(size=(t, n, 1))
    at = theta if shared else theta + 0.1 * rng.normal(size=(t, model.size))
    phi = theta + 0.1 * rng.normal(size=(t, model.size))
    _, g, factors = model.loss_grad_factors(phi, xq, yq)
    np.testing.assert_allclose(g, model.loss_grad(phi, xq, yq)[1], rtol=0, atol=0)
    # the factors rebuild the gradient's weight blocks: Σ_n p_nᵀ q_n
    ws, _ = model._unpack(g)
    for w, (p, q) in zip(ws, factors):
        np.testing.assert_allclose(np.swapaxes(p, -1, -2) @ q, w, rtol=1e-12, atol=1e-14)
    hvp = model.linearize(at, x, y)[2]
    for reduce in (False, True):
        np.testing.assert_allclose(hvp(g, reduce=reduce, factors=factors), hvp(g, reduce=reduce),
                                   rtol=1e-10, atol=1e-13)


def test_sum_of_per_task_products_both_forms():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(25, 10, 40)), rng.normal(size=(25, 10, 40))
    want = sum(a[i].T @ b[i] for i in range(25))
    np.testing.assert_allclose(nn._mul_t_flat(a, b), want, rtol=1e-12)                   # per-task form
    big_a, big_b = rng.normal(size=(30, 4, 50)), rng.normal(size=(30, 4, 50))            # 30·50·50 > 2¹⁶: flat
    np.testing.assert_allclose(nn._mul_t_flat(big_a, big_b), sum(big_a[i].T @ big_b[i] for i in range(30)),
                               rtol=1e-12)


def test_lean_mode_gives_the_same_direction():
    """kept_bytes=False (the trainer's mode) changes nothing but the memory entry."""
    model, rng = nn.MLP(), np.random.default_rng(2)
    theta, batch = model.init(rng), sine.sample(rng, 6, 10, 10)
    for method in ("maml", "fomaml", "reptile", "imaml"):
        kw = dict(inner_lr=0.01, inner_steps=2, reg=100.0, cg_steps=3)
        d, info = meta_gradient(method, model, theta, batch, **kw)
        d_lean, lean = meta_gradient(method, model, theta, batch, kept_bytes=False, **kw)
        np.testing.assert_array_equal(d, d_lean)
        assert "kept_bytes" in info and "kept_bytes" not in lean
