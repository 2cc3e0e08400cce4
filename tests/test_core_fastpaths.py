"""The speed paths of the core agree with the plain ones: the factored Hessian-vector product (the tangent given as
a gradient's outer-product factors) and the per-task form of Σ_t a_tᵀb_t."""

import numpy as np
import pytest

from mamlviz import fused, nn, sine
from mamlviz.meta import maml_direction, meta_gradient


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


# ---------------------------------------------------------------------------------------- the fused MAML step
def _mse_batch(rng, sizes, t, n, nq):
    return sine.SineTasks(rng.normal(size=(t, n, sizes[0])), rng.normal(size=(t, n, sizes[-1])),
                          rng.normal(size=(t, nq, sizes[0])), rng.normal(size=(t, nq, sizes[-1])),
                          np.ones(t), np.zeros(t))


FUSED_CASES = [((1, 40, 40, 1), 25, 10, 10),      # the sine MLP: wide middle layer factored, thin ends explicit
               ((2, 30, 25, 20, 3), 4, 3, 5),      # every layer wide enough for the Gram form, N ≠ N_q
               ((3, 4, 5, 6, 2), 3, 6, 2),         # every layer thin: explicit per-task weights throughout
               ((3, 2), 1, 4, 3)]                  # no hidden layer, one task


@pytest.mark.parametrize("sizes,t,n,nq", FUSED_CASES)
@pytest.mark.parametrize("kernels", ["native", "einsum"])
def test_fused_maml_step_equals_the_generic_path(sizes, t, n, nq, kernels, monkeypatch):
    """`fused.maml_step` = `maml_direction` with k = 1 (direction and losses), with either set of product kernels
    (the einsum ones are Pyodide's)."""
    if kernels == "einsum":
        monkeypatch.setattr(fused, "_mm", fused._mm_einsum)
        monkeypatch.setattr(fused, "_a_bt", fused._a_bt_einsum)
    model, rng = nn.MLP(sizes), np.random.default_rng(7)
    theta = model.init(rng) + 0.1 * rng.normal(size=model.size)
    batch = _mse_batch(rng, sizes, t, n, nq)
    d, info = fused.maml_step(model, theta, batch, 0.05)
    want, want_info = maml_direction(model, theta, batch, inner_lr=0.05, inner_steps=1, per_task=True)
    np.testing.assert_allclose(d, want, rtol=1e-11, atol=1e-13 * np.abs(want).max())
    for key in ("loss_after", "support_loss_before", "loss_before"):
        np.testing.assert_allclose(info[key], want_info[key], rtol=1e-12)


def test_fused_maml_step_finite_differences():
    """Against the meta-objective F(θ) = mean_i L^te_i(θ − α∇L^tr_i(θ)) written out here, by central differences."""
    model, rng = nn.MLP((1, 20, 20, 1)), np.random.default_rng(8)
    theta = model.init(rng) + 0.05 * rng.normal(size=model.size)
    batch = sine.sample(rng, 4, 5, 7)
    lr, eps = 0.02, 1e-6

    def objective(th):
        phi = th - lr * model.loss_grad(th, batch.xs, batch.ys)[1]
        return model.loss(phi, batch.xq, batch.yq).mean()

    d, _ = fused.maml_step(model, theta, batch, lr)
    for _ in range(4):
        u = rng.normal(size=model.size)
        fd = (objective(theta + eps * u) - objective(theta - eps * u)) / (2 * eps)
        assert d @ u == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_meta_gradient_takes_the_fused_path_only_where_it_applies(monkeypatch):
    calls = []
    real = fused.maml_step
    monkeypatch.setattr(fused, "maml_step", lambda *a, **k: calls.append(1) or real(*a, **k))
    model, rng = nn.MLP(), np.random.default_rng(2)
    theta, batch = model.init(rng), sine.sample(rng, 6, 10, 10)
    lean = dict(inner_lr=0.01, inner_steps=1, query_before=False, kept_bytes=False)
    d_fused, info = meta_gradient("maml", model, theta, batch, **lean)
    assert calls == [1] and set(info) == {"loss_after", "support_loss_before", "nonfinite"}
    d_plain, _ = meta_gradient("maml", model, theta, batch, inner_lr=0.01, inner_steps=1)
    np.testing.assert_allclose(d_fused, d_plain, rtol=1e-11, atol=1e-15)
    # not for more steps, per-task directions, a kept path, the memory count, another loss or another model
    meta_gradient("maml", model, theta, batch, **{**lean, "inner_steps": 2})
    meta_gradient("maml", model, theta, batch, per_task=True, **{k: v for k, v in lean.items()})
    meta_gradient("maml", model, theta, batch, keep_path=True, **lean)
    meta_gradient("maml", model, theta, batch, **{**lean, "kept_bytes": True})
    meta_gradient("fomaml", model, theta, batch, **lean)
    xent = nn.MLP((1, 8, 3), loss="xent")
    onehot = np.eye(3)[rng.integers(0, 3, (6, 10))]
    meta_gradient("maml", xent, xent.init(rng), sine.SineTasks(batch.xs, onehot, batch.xq, onehot, batch.amplitude,
                                                                batch.phase), **lean)
    assert calls == [1]


def test_fused_step_takes_relu_prime_of_zero_as_zero_like_the_generic_path():
    """A first layer of zeros puts every pre-activation exactly at 0, where the two paths must agree on relu′(0) = 0."""
    model, rng = nn.MLP((1, 40, 40, 1)), np.random.default_rng(9)
    theta = model.init(rng)
    theta[:80] = 0.0                                           # W₁ and b₁
    batch = sine.sample(rng, 5, 10, 10)
    d, _ = fused.maml_step(model, theta, batch, 0.01)
    want, _ = maml_direction(model, theta, batch, inner_lr=0.01, inner_steps=1, per_task=True)
    np.testing.assert_allclose(d, want, rtol=1e-11, atol=1e-14)
    assert np.abs(want[:80]).max() == 0.0 and np.abs(want[80:]).max() > 0   # nothing flows back through relu′(0)
