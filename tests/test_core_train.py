"""Meta-training: the acceptance numbers, chunks = one run, reset, divergence, optimisers, the shipped models,
the command line."""

import json
import re

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


# ------------------------------------------------------------------ each setting has its effect (known answers)
def adam_by_hand(theta, d, lr, t=1, m=None, v=None, b1=0.9, b2=0.999, eps=1e-8):
    """Adam as Kingma & Ba write it at the end of their Section 2 (bias corrections folded into the step size,
    ε added to √v): α_t = α·√(1 − β₂ᵗ)/(1 − β₁ᵗ), θ ← θ − α_t·m/(√v + ε). Returns (θ', m, v)."""
    m = (1 - b1) * d if m is None else b1 * m + (1 - b1) * d
    v = (1 - b2) * d * d if v is None else b2 * v + (1 - b2) * d * d
    step = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return theta - step * m / (np.sqrt(v) + eps), m, v


def sgd_steps_by_loop(model, theta, x, y, lr, steps):
    """Plain SGD on one task's points, one step at a time."""
    phi = theta.copy()
    for _ in range(steps):
        phi = phi - lr * model.loss_grad(phi, x, y)[1]
    return phi


@pytest.mark.parametrize("method, k_shot, alpha, steps, optimizer", [
    ("maml", 3, 0.02, 2, "sgd"), ("fomaml", 7, 0.005, 1, "sgd"), ("pretrained", 4, 0.3, 5, "sgd"),
    ("maml", 5, 0.01, 1, "adam")])
def test_first_update_uses_k_alpha_steps_and_the_optimizer(method, k_shot, alpha, steps, optimizer):
    """The trainer's first update, redone here: same seed → θ₀ and the batch (K support, 6 query points),
    the direction of `meta_gradient` with α and k (k = 0 for pretrained), then the outer step by hand."""
    model = MLP((1, 8, 8, 1))
    config = TrainConfig(n_tasks=4, n_support=k_shot, n_query=6, inner_lr=alpha, inner_steps=steps, outer_lr=0.05,
                         optimizer=optimizer, eval_tasks=3)
    tr = MetaTrainer(method, model, config, seed=11)
    rng = np.random.default_rng(11)
    theta0 = model.init(rng)
    np.testing.assert_array_equal(tr.theta, theta0)
    batch = sine.sample(rng, 4, k_shot, 6)
    tr.run(1, evaluate=False)
    if method == "pretrained":                  # joint training: the plain gradient of the query loss at θ
        d = np.mean([model.loss_grad(theta0, batch.xq[t], batch.yq[t])[1] for t in range(4)], axis=0)
    elif method == "fomaml":                    # the query gradient at φ after k SGD steps on the support set
        d = np.mean([model.loss_grad(sgd_steps_by_loop(model, theta0, batch.xs[t], batch.ys[t], alpha, steps),
                                     batch.xq[t], batch.yq[t])[1] for t in range(4)], axis=0)
    else:
        d, _ = meta_gradient(method, model, theta0, batch, inner_lr=alpha, inner_steps=steps)
    if optimizer == "sgd":
        np.testing.assert_allclose(tr.theta, theta0 - 0.05 * d, rtol=1e-9, atol=1e-12)
    else:   # Adam's first step is ±β whatever |d| is, so the second update is checked too
        theta1, m, v = adam_by_hand(theta0, d, 0.05)
        np.testing.assert_allclose(tr.theta, theta1, rtol=1e-9, atol=1e-12)
        batch2 = sine.sample(rng, 4, k_shot, 6)
        d2, _ = meta_gradient(method, model, theta1, batch2, inner_lr=alpha, inner_steps=steps)
        tr.run(1, evaluate=False)
        np.testing.assert_allclose(tr.theta, adam_by_hand(theta1, d2, 0.05, 2, m, v)[0], rtol=1e-9, atol=1e-12)
        return
    if method == "pretrained":
        assert tr.config.inner_steps == 0
    # the training loss reported is the mean query loss after adaptation, recomputed here
    phis = [sgd_steps_by_loop(model, theta0, batch.xs[t], batch.ys[t], alpha, tr.config.inner_steps)
            for t in range(4)]
    loss = np.mean([model.loss(phis[t], batch.xq[t], batch.yq[t]) for t in range(4)])
    assert tr.train_curve == [pytest.approx(loss, rel=1e-9)]


def test_evaluation_after_m_steps_is_sgd_on_each_tasks_support_set():
    """evaluate(): MSE on the query points after m = 0 … steps SGD steps at lr, task by task in a loop."""
    model = MLP((1, 6, 1))
    rng = np.random.default_rng(5)
    theta = model.init(rng)
    batch = sine.sample(rng, 5, 4, 9)
    ev = evaluate(model, theta, batch, steps=3, lr=0.05)
    want = np.array([[model.loss(sgd_steps_by_loop(model, theta, batch.xs[t], batch.ys[t], 0.05, m),
                                 batch.xq[t], batch.yq[t]) for t in range(5)] for m in range(4)])
    np.testing.assert_allclose(ev["mse"], want, rtol=1e-10)
    np.testing.assert_allclose(ev["median"], np.median(want, axis=1), rtol=1e-10)
    np.testing.assert_allclose(ev["mean"], want.mean(axis=1), rtol=1e-10)
    assert ev["steps"] == [0, 1, 2, 3]


def test_trainer_evaluation_uses_the_eval_settings():
    """eval_tasks, eval_support, eval_query, eval_steps, eval_lr and eval_seed all reach the held-out evaluation."""
    model = MLP((1, 6, 1))
    config = TrainConfig(eval_tasks=6, eval_support=3, eval_query=7, eval_steps=2, eval_lr=0.2, eval_seed=42)
    tr = MetaTrainer("maml", model, config, seed=0)
    batch = sine.sample(np.random.default_rng(42), 6, 3, 7)
    np.testing.assert_array_equal(tr.eval_batch.xs, batch.xs)
    assert tr.eval_batch.xq.shape == (6, 7, 1)
    ev = tr.run(0)["eval"]
    want = evaluate(model, tr.theta, batch, steps=2, lr=0.2)
    assert ev["steps"] == [0, 1, 2]
    np.testing.assert_allclose(ev["median"], want["median"], rtol=1e-12)
    assert tr.eval_curve == [(0, ev["median"])]
    # another lr gives other numbers: the setting is not ignored
    assert evaluate(model, tr.theta, batch, steps=2, lr=0.01)["median"][2] != pytest.approx(ev["median"][2])


def test_train_command_passes_every_setting_and_saves_a_model(tmp_path, monkeypatch, capsys):
    store = tmp_path / "models.npz"
    monkeypatch.setattr(models, "SINE_MODELS", store)
    out = tmp_path / "run.npz"
    args = ["train", "--method", "maml", "--iterations", "3", "--eval-every", "3", "--tasks", "2", "--support", "4",
            "--query", "5", "--inner-lr", "0.03", "--inner-steps", "2", "--outer-lr", "0.002", "--optimizer", "adam",
            "--seed", "7", "--eval-seed", "8", "--out", str(out), "--save-model", "mine"]
    assert main(args) == 0
    config = TrainConfig(n_tasks=2, n_support=4, n_query=5, inner_lr=0.03, inner_steps=2, outer_lr=0.002,
                         optimizer="adam", eval_seed=8)
    tr = MetaTrainer("maml", MLP(), config, seed=7)
    tr.run(3)
    with np.load(out) as f:
        np.testing.assert_array_equal(f["theta"], tr.theta)
        np.testing.assert_allclose(f["train_loss"], tr.train_curve)
        np.testing.assert_allclose(f["eval_median"][0], tr.eval_curve[0][1])
        meta = json.loads(str(f["meta"]))
    assert meta["config"] == config.to_dict() and meta["iterations"] == 3 and meta["seed"] == 7
    saved = models.load_sine_models(store)
    np.testing.assert_array_equal(saved["mine"], tr.theta)
    assert models.load_sine_metadata(store)["mine"]["config"]["n_support"] == 4
    # a second model is added beside the first, not over it
    assert main(["train", "--method", "pretrained", "--iterations", "1", "--eval-every", "1", "--tasks", "2",
                 "--save-model", "other"]) == 0
    assert set(models.load_sine_models(store)) == {"mine", "other"}
    capsys.readouterr()


def test_train_command_exits_with_1_on_divergence(tmp_path, capsys):
    out = tmp_path / "run.npz"
    code = main(["train", "--method", "maml", "--iterations", "50", "--eval-every", "25", "--tasks", "5",
                 "--inner-lr", "5", "--inner-steps", "3", "--outer-lr", "1", "--optimizer", "sgd", "--out", str(out)])
    assert code == 1
    assert "Diverged" in capsys.readouterr().err
    with np.load(out) as f:
        assert np.isfinite(f["theta"]).all() and len(f["train_loss"]) < 50


def _bench_rows(lines):
    """The table's rows: the method, its settings (several words), then updates/s, ms/update and the ratio."""
    row = re.compile(r"^(\w+)\s.*?\s([\d.]+)\s+([\d.]+)\s+([\d.]+)x$")
    return {m[1]: [float(m[2]), float(m[3]), float(m[4])] for m in map(row.match, lines) if m}


def test_bench_numbers_are_consistent(capsys):
    """The table's numbers: updates/s > 0, ms/update = 1000 / (updates/s), ratio = rate / reference rate."""
    assert main(["bench", "--runs", "2", "--updates", "3", "--methods", "maml,fomaml,reference"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = _bench_rows(lines)
    assert set(rows) == {"maml", "fomaml", "reference"}
    ref = rows["reference"][0]
    for name, (rate, ms, ratio) in rows.items():
        assert rate > 0 and ms == pytest.approx(1000 / rate, rel=0.01, abs=0.002)
        assert ratio == pytest.approx(rate / ref, rel=0.02, abs=0.01)
    assert rows["reference"][2] == 1.0
    assert "median of 2 runs" in lines[0] and "25 tasks, K = 10" in lines[0]


def test_bench_measure_and_table_on_known_rates():
    from mamlviz import bench

    result = bench.measure(methods=("fomaml", "reference"), n_tasks=3, k=2, runs=3, updates=2)
    assert result["config"] == {"n_tasks": 3, "k": 2, "inner_steps": None, "runs": 3, "updates": 2}
    for r in result["rates"].values():
        assert len(r["runs"]) == 3 and r["median"] == pytest.approx(np.median(r["runs"]))
        assert all(v > 0 and np.isfinite(v) for v in r["runs"])
    known = {"config": result["config"], "rates": {"maml": {"median": 250.0}, "reference": {"median": 100.0}}}
    assert _bench_rows(bench.table(known).splitlines()) == {"maml": [250, 4.0, 2.5], "reference": [100, 10.0, 1.0]}
