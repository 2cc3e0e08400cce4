"""Meta-training: the acceptance numbers, chunks = one run, reset, divergence, optimisers, the shipped models,
the command line."""

import json

import numpy as np
import pytest

from mamlviz import models, optim, sine
from mamlviz.bench import reference_maml
from mamlviz.cli import main
from mamlviz.meta import meta_gradient
from mamlviz.nn import MLP
from mamlviz.train import MetaTrainer, TrainConfig, evaluate


def test_acceptance_maml_beats_pretrained_after_4000_updates():
    """Adam 0.01, 25 tasks, K = 10 + 10, one inner step at 0.01: held-out median MSE after one step."""
    config = TrainConfig()
    maml = MetaTrainer("maml", MLP(), config, seed=0)
    pretrained = MetaTrainer("pretrained", MLP(), config, seed=0)
    rm, rp = maml.run(4000), pretrained.run(4000)
    assert not rm["diverged"] and not rp["diverged"] and rm["iteration"] == 4000
    assert rm["eval"]["steps"] == list(range(11))
    assert rm["eval"]["median"][1] <= 0.5
    assert rp["eval"]["median"][1] >= 2 * rm["eval"]["median"][1]


def test_chunks_equal_one_run_and_reset_restarts():
    config = TrainConfig(n_tasks=5, eval_tasks=10)
    a = MetaTrainer("maml", MLP(), config, seed=3)
    theta0 = a.theta.copy()
    r1 = a.run(7)
    r2 = a.run(8, evaluate=False)
    assert r1["iteration"] == 7 and r2["iteration"] == 15 and len(r2["train_loss"]) == 8 and r2["eval"] is None
    b = MetaTrainer("maml", MLP(), config, seed=3)
    b.run(15)
    np.testing.assert_array_equal(a.theta, b.theta)
    a.reset()
    assert a.iteration == 0 and a.train_curve == []
    np.testing.assert_array_equal(a.theta, theta0)
    a.run(15)
    np.testing.assert_array_equal(a.theta, b.theta)


@pytest.mark.parametrize("method", ["maml", "fomaml", "reptile", "imaml"])
def test_every_method_trains_a_little(method):
    tr = MetaTrainer(method, MLP(), TrainConfig(n_tasks=5, eval_tasks=20), seed=0)
    first = tr.evaluate()["median"][1]
    report = tr.run(60)
    assert not report["diverged"] and report["eval"]["median"][1] < first


def test_divergence_is_reported_and_theta_stays_finite():
    tr = MetaTrainer("maml", MLP(), TrainConfig(n_tasks=5, inner_lr=5.0, inner_steps=3, outer_lr=1.0,
                                                optimizer="sgd", eval_tasks=10), seed=0)
    report = tr.run(50)
    assert report["diverged"] and "Diverged" in report["message"]
    assert report["iteration"] < 50 and np.isfinite(tr.theta).all()
    again = tr.run(10)
    assert again["iteration"] == report["iteration"] and again["train_loss"] == []


def test_adam_and_sgd_formulas():
    theta, d = np.array([1.0, -2.0]), np.array([0.5, -4.0])
    np.testing.assert_allclose(optim.SGD(0.1).step(theta, d), theta - 0.1 * d)
    adam = optim.Adam(0.01)
    t1 = adam.step(theta, d)
    np.testing.assert_allclose(t1, theta - 0.01 * np.sign(d), rtol=1e-6)   # first Adam step: β·sign(d)
    m = 0.9 * 0.1 * d + 0.1 * d
    v = 0.999 * 0.001 * d * d + 0.001 * d * d
    mhat, vhat = m / (1 - 0.9 ** 2), v / (1 - 0.999 ** 2)
    np.testing.assert_allclose(adam.step(t1, d), t1 - 0.01 * mhat / (np.sqrt(vhat) + 1e-8), rtol=1e-6)


def test_evaluate_step_zero_is_loss_at_theta():
    model = MLP()
    rng = np.random.default_rng(0)
    theta = model.init(rng)
    batch = sine.sample(rng, 4, 5, 20)
    ev = evaluate(model, theta, batch, steps=2, lr=0.01)
    assert ev["mse"].shape == (3, 4)
    np.testing.assert_allclose(ev["mse"][0], model.loss(theta, batch.xq, batch.yq))


def test_reference_implementation_agrees_with_maml():
    model = MLP()
    rng = np.random.default_rng(1)
    theta = model.init(rng)
    batch = sine.sample(rng, 25, 10, 10)
    d, _ = meta_gradient("maml", model, theta, batch, inner_lr=0.01, inner_steps=1)
    np.testing.assert_allclose(d, reference_maml(theta, batch, 0.01), rtol=1e-9, atol=1e-12)


def test_shipped_sine_models():
    """Part 3's models: 300 held-out tasks, K = 5, one step at α = 0.01, query over the whole x range."""
    thetas = models.load_sine_models()
    assert set(thetas) == {"pretrained", "maml"}
    assert all(t.shape == (1761,) and t.dtype == np.float64 for t in thetas.values())
    meta = models.load_sine_metadata()
    assert meta["maml"]["method"] == "maml" and "mamlviz train" in meta["maml"]["command"]
    assert meta["pretrained"]["config"]["inner_steps"] == 0
    batch = sine.sample(np.random.default_rng(2024), 300, 5, 100)
    med = {k: evaluate(MLP(), t, batch, steps=1, lr=0.01)["median"][1] for k, t in thetas.items()}
    assert med["maml"] <= 0.4
    assert med["pretrained"] >= 3 * med["maml"]


def test_train_command_saves_theta_and_curve(tmp_path, capsys):
    out = tmp_path / "run.npz"
    assert main(["train", "--method", "fomaml", "--iterations", "20", "--eval-every", "10", "--tasks", "4",
                 "--out", str(out)]) == 0
    with np.load(out) as f:
        assert f["theta"].shape == (1761,) and len(f["train_loss"]) == 20 and list(f["eval_iteration"]) == [10, 20]
        assert json.loads(str(f["meta"]))["method"] == "fomaml"
    assert "held-out median MSE" in capsys.readouterr().err


def test_bench_command_prints_a_table(capsys):
    assert main(["bench", "--runs", "1", "--updates", "4", "--methods", "maml,reference"]) == 0
    out = capsys.readouterr().out
    assert "maml" in out and "reference" in out and "updates/s" in out


# ------------------------------------------------------------------------------- per-method settings (issue 8)
from dataclasses import replace as _replace  # noqa: E402

from mamlviz.train import METHOD_SETTINGS, evaluate_own, proximal_residual  # noqa: E402


@pytest.mark.parametrize("method", ["pretrained", "maml", "fomaml", "reptile", "imaml"])
def test_trainer_takes_each_methods_settings_unless_given(method):
    s = METHOD_SETTINGS[method]
    tr = MetaTrainer(method, MLP(), TrainConfig(n_tasks=2, eval_tasks=2), seed=0)
    c = tr.config
    assert (c.inner_lr, c.inner_steps, c.reg, c.cg_steps) == (s.inner_lr, s.inner_steps, s.reg, s.cg_steps)
    own = MetaTrainer(method, MLP(), TrainConfig(n_tasks=2, eval_tasks=2, inner_lr=0.002), seed=0).config
    assert own.inner_lr == 0.002 and own.inner_steps == s.inner_steps
    assert (METHOD_SETTINGS[method].reg is not None) == (method == "imaml")


def test_trainer_steps_with_the_methods_settings():
    """One iMAML update of the trainer is a first Adam step along d, d from meta_gradient at the
    METHOD_SETTINGS values; a different λ would give a different θ."""
    s = METHOD_SETTINGS["imaml"]
    tr = MetaTrainer("imaml", MLP(), TrainConfig(n_tasks=3, eval_tasks=2), seed=5)
    theta0 = tr.theta.copy()
    rng = np.random.default_rng(5)
    MLP().init(rng)                                   # the trainer's stream: θ first, then the batch
    batch = sine.sample(rng, 3, 10, 10)
    d, _ = meta_gradient("imaml", MLP(), theta0, batch, inner_lr=s.inner_lr, inner_steps=s.inner_steps, reg=s.reg,
                         cg_steps=s.cg_steps)
    tr.step()
    np.testing.assert_allclose(tr.theta, optim.Adam(0.01).step(theta0, d), atol=1e-12)
    d2, _ = meta_gradient("imaml", MLP(), theta0, batch, inner_lr=s.inner_lr, inner_steps=s.inner_steps,
                          reg=10 * s.reg, cg_steps=s.cg_steps)
    assert not np.allclose(np.sign(d2), np.sign(d))


def test_evaluate_own_follows_each_methods_inner_procedure():
    model, rng = MLP(), np.random.default_rng(3)
    theta, batch = model.init(rng), sine.sample(rng, 6, 10, 30)
    maml = evaluate_own(model, theta, batch, METHOD_SETTINGS["maml"])
    np.testing.assert_allclose(maml["mse"], evaluate(model, theta, batch, steps=1, lr=0.01)["mse"][1])
    assert maml["residual"] is None
    reptile = evaluate_own(model, theta, batch, METHOD_SETTINGS["reptile"])
    s = METHOD_SETTINGS["reptile"]
    np.testing.assert_allclose(reptile["mse"], evaluate(model, theta, batch, steps=s.inner_steps,
                                                        lr=s.inner_lr)["mse"][-1])
    # iMAML with 0 steps: φ = θ, so the relative residual is exactly 1; with its steps it is far below
    zero = evaluate_own(model, theta, batch, _replace(METHOD_SETTINGS["imaml"], inner_steps=0))
    assert zero["residual"] == pytest.approx(1.0)
    solved = evaluate_own(model, theta, batch, METHOD_SETTINGS["imaml"])
    assert solved["residual"] < 0.1


def test_proximal_residual_by_definition():
    model, rng = MLP(), np.random.default_rng(4)
    theta, batch = model.init(rng), sine.sample(rng, 3, 10, 10)
    phi = theta + 0.01 * rng.standard_normal((3, model.size))
    lam = 7.0
    want = [np.linalg.norm(model.loss_grad(phi[i], batch.xs[i], batch.ys[i])[1] + lam * (phi[i] - theta))
            / np.linalg.norm(model.loss_grad(theta, batch.xs[i], batch.ys[i])[1]) for i in range(3)]
    np.testing.assert_allclose(proximal_residual(model, theta, phi, batch.xs, batch.ys, lam), want, rtol=1e-10)


def test_train_command_uses_and_records_the_methods_settings(tmp_path, capsys):
    out = tmp_path / "imaml.npz"
    assert main(["train", "--method", "imaml", "--iterations", "2", "--eval-every", "2", "--tasks", "2",
                 "--out", str(out)]) == 0
    with np.load(out) as f:
        config = json.loads(str(f["meta"]))["config"]
    s = METHOD_SETTINGS["imaml"]
    assert (config["inner_lr"], config["inner_steps"], config["reg"], config["cg_steps"]) == \
        (s.inner_lr, s.inner_steps, s.reg, s.cg_steps)
    assert "relative inner residual" in capsys.readouterr().err
    assert main(["train", "--method", "imaml", "--iterations", "1", "--eval-every", "1", "--tasks", "2", "--reg", "50",
                 "--out", str(out)]) == 0
    with np.load(out) as f:
        assert json.loads(str(f["meta"]))["config"]["reg"] == 50.0
