"""Part 3's figures against known answers computed here, independently of the figure code and of the library's
models: the softplus line is written out again below and the sine MLP is the hand-written one of
test_part3_known_answers.py (forward pass, gradient, plain loops over tasks and steps), so a figure that scores the support set where the query set belongs, steps with the wrong
method, draws a landscape transposed or fine-tunes with the wrong α fails here.

The figures' task data (`part3.softplus_pair(seed)`, the shipped models) are inputs: their labels are checked
against the formulas, then used.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mamlviz import figures
from mamlviz.figures import part3
from mamlviz.models import load_sine_models

figures.load_all()
GRID = np.linspace(0.0, 1.0, part3.N_GRID)       # the figures' grid: column j is a = GRID[j], row i is b = GRID[i]
TASK_OPTIMA = [(0.3, 0.05), (0.83, 0.75)]         # (a*, b*) of the two tasks, as the text states them


# ----------------------------------------------------------------------------- the softplus line, written out
def softplus(z):
    return np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0.0)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sp_loss(a, b, x, y):
    """½ Σ_n (softplus(a·x_n + b) − y_n)², for one θ = (a, b) and one task's points."""
    return 0.5 * float(np.sum((softplus(a * x + b) - y) ** 2))


def sp_grad(a, b, x, y):
    """∂/∂(a, b) of the loss above: Σ_n r_n σ(z_n) (x_n, 1), r = softplus(z) − y, z = a·x + b."""
    z = a * x + b
    rs = (softplus(z) - y) * sigmoid(z)
    return np.array([np.sum(rs * x), np.sum(rs)])


def tasks_data(seed):
    """(support x, support y, query x, query y) per task, flattened, from the figure's own draw."""
    t = part3.softplus_pair(seed)
    out = []
    for i in range(2):
        xs, ys, xq, yq = (v[i, :, 0] for v in (t.xs, t.ys, t.xq, t.yq))
        a_star, b_star = TASK_OPTIMA[i]
        np.testing.assert_allclose(ys, softplus(a_star * xs + b_star), rtol=1e-12)  # labels are the task's line
        np.testing.assert_allclose(yq, softplus(a_star * xq + b_star), rtol=1e-12)
        assert xs.min() >= -3 and xs.max() <= 3 and not np.allclose(xs, xq)          # support ≠ query draws
        out.append((xs, ys, xq, yq))
    return out


def adapt(theta, xs, ys, alpha, m):
    """m plain gradient steps on one task's SUPPORT loss from θ."""
    phi = np.array(theta, dtype=float)
    for _ in range(m):
        phi = phi - alpha * sp_grad(phi[0], phi[1], xs, ys)
    return phi


def accumulated(theta, data, alpha, m):
    """J_m(θ) = Σ_i L_i(U_i^(m)(θ); D^te_i): adapt on each task's support set, score on its query set."""
    return sum(sp_loss(*adapt(theta, xs, ys, alpha, m), xq, yq) for xs, ys, xq, yq in data)


def accumulated_grid(data, alpha, m):
    """J_m over the whole grid at once (the same formulas, vectorised over θ), shape (n, n), rows along b."""
    a, b = np.meshgrid(GRID, GRID)
    total = np.zeros_like(a)
    for xs, ys, xq, yq in data:
        pa, pb = a.copy(), b.copy()
        for _ in range(m):
            z = pa[..., None] * xs + pb[..., None]
            rs = (softplus(z) - ys) * sigmoid(z)
            pa, pb = pa - alpha * (rs * xs).sum(-1), pb - alpha * rs.sum(-1)
        total += 0.5 * ((softplus(pa[..., None] * xq + pb[..., None]) - yq) ** 2).sum(-1)
    return total


def log_cell(v):
    return round(math.log10(max(v, 1e-6)), 3)


def layer(panel, kind, cls=None):
    found = [ly for ly in panel["layers"] if ly["kind"] == kind and (cls is None or ly.get("class") == cls)]
    assert len(found) == 1, (kind, cls, [ly.get("class") for ly in panel["layers"]])
    return found[0]


def readouts(scene):
    return {r["label"]: r["value"] for r in scene["readouts"]}


# ----------------------------------------------------------------------------------------- accumulated loss
CELLS = [(0, 0), (3, 40), (25, 25), (50, 7), (44, 50)]   # (row i → b, column j → a)


@pytest.mark.parametrize("m, alpha", [(0, 0.01), (1, 0.01), (4, 0.03), (20, 0.05)])
def test_accumulated_loss_equals_a_loop_over_tasks_and_steps(m, alpha):
    data = tasks_data(0)
    scene = figures.run("accumulated-loss", {"m": m, "alpha": alpha})
    heat = layer(scene["panels"][2], "heatmap")["z"]
    for i, j in CELLS:
        want = accumulated((GRID[j], GRID[i]), data, alpha, m)
        assert heat[i][j] == pytest.approx(log_cell(want), abs=1.1e-3), (i, j)
    # the minimum: value and place, from the whole grid computed here
    J = accumulated_grid(data, alpha, m)
    i, j = np.unravel_index(np.argmin(J), J.shape)
    r = readouts(scene)
    assert r[f"min J_{m}"] == pytest.approx(J[i, j], rel=1e-9)
    assert (r["at a"], r["at b"]) == pytest.approx((GRID[j], GRID[i]))
    marker = layer(scene["panels"][2], "points", "theta")
    assert (marker["x"], marker["y"]) == ([pytest.approx(GRID[j])], [pytest.approx(GRID[i])])
    assert J[i, j] == pytest.approx(accumulated((GRID[j], GRID[i]), data, alpha, m), rel=1e-9)


def test_accumulated_loss_at_m_0_sums_the_query_losses_and_the_task_panels_are_query_losses():
    data = tasks_data(0)
    scene = figures.run("accumulated-loss", {"m": 0})
    for t in range(2):
        panel = scene["panels"][t]
        heat = layer(panel, "heatmap")["z"]
        xs, ys, xq, yq = data[t]
        for i, j in CELLS:
            assert heat[i][j] == pytest.approx(log_cell(sp_loss(GRID[j], GRID[i], xq, yq)), abs=1.1e-3)
        # the query loss vanishes at the task's optimum: the darkest cell of the panel is the cell nearest it
        z = np.array(heat)
        i, j = np.unravel_index(np.argmin(z), z.shape)
        assert abs(GRID[j] - TASK_OPTIMA[t][0]) <= 0.02 and abs(GRID[i] - TASK_OPTIMA[t][1]) <= 0.02
        marker = layer(panel, "points", f"task{t + 1}")
        assert (marker["x"][0], marker["y"][0]) == TASK_OPTIMA[t]
    optima = layer(scene["panels"][2], "points", "muted")
    assert list(zip(optima["x"], optima["y"])) == TASK_OPTIMA


def test_accumulated_loss_resample_draws_new_tasks():
    scene = figures.run("accumulated-loss", {"m": 2, "alpha": 0.02}, "resample")
    assert scene["state"]["_seed"] == 1
    data = tasks_data(1)
    J = accumulated_grid(data, 0.02, 2)
    assert readouts(scene)["min J_2"] == pytest.approx(J.min(), rel=1e-9)
    assert J.min() != pytest.approx(accumulated_grid(tasks_data(0), 0.02, 2).min(), rel=1e-6)


# ---------------------------------------------------------------------------------------------- two tasks
def objective(theta, data, alpha):
    """MAML's objective with one inner step: Σ_i L_i(θ − α∇L_i(θ; support); query)."""
    return accumulated(theta, data, alpha, 1)


def meta_gradient_fd(theta, data, alpha, h=1e-6):
    """∇_θ (1/B) Σ_i L_i(φ_i; query), the text's update direction (the mean over the B = 2 tasks, while the
    readout shows the sum), by central differences: no derivative of the inner step is written anywhere."""
    e = np.eye(2) * h
    return np.array([(objective(theta + e[k], data, alpha) - objective(theta - e[k], data, alpha)) / (2 * h)
                     for k in range(2)]) / len(data)


@pytest.mark.parametrize("theta, alpha", [((0.15, 0.85), 0.03), ((0.6, 0.2), 0.05), ((0.9, 0.9), 0.001)])
def test_two_tasks_readouts_and_arrows(theta, alpha):
    part3._two_tasks_landscapes.cache_clear()                   # the landscape computed here, not remembered
    data = tasks_data(0)
    scene = figures.run("two-tasks", {"theta": list(theta), "alpha": alpha})
    r = readouts(scene)
    phis = [adapt(theta, xs, ys, alpha, 1) for xs, ys, _, _ in data]
    for t, (phi, (_, _, xq, yq)) in enumerate(zip(phis, data)):
        assert r[f"L{'₁₂'[t]}(φ{'₁₂'[t]}; query)"] == pytest.approx(sp_loss(*phi, xq, yq), rel=1e-9)
        arrow = layer(scene["panels"][0], "arrow", f"task{t + 1}")
        assert arrow["from"] == pytest.approx(list(theta)) and arrow["to"] == pytest.approx(list(phi), abs=1e-12)
    assert r["MAML objective"] == pytest.approx(objective(theta, data, alpha), rel=1e-9)
    # the meta-step arrow: from θ along −β∇J, drawn ten times as long
    g = meta_gradient_fd(np.array(theta), data, alpha)
    arrow = layer(scene["panels"][0], "arrow", "gradient")
    assert arrow["to"] == pytest.approx(list(np.array(theta) - 10 * 0.01 * g), abs=1e-7)
    # the landscape in colour is the objective, with a on the horizontal axis and b on the vertical one
    heat = layer(scene["panels"][0], "heatmap")["z"]
    for i, j in CELLS:
        assert heat[i][j] == pytest.approx(log_cell(objective((GRID[j], GRID[i]), data, alpha)), abs=1.1e-3)
    for t in range(2):   # the task contours are the query losses at θ itself
        z = layer(scene["panels"][0], "contour", f"task{t + 1}")["z"]
        xs, ys, xq, yq = data[t]
        i, j = 10, 33
        assert z[i][j] == pytest.approx(log_cell(sp_loss(GRID[j], GRID[i], xq, yq)), abs=1.1e-3)
    optima = next(ly for ly in scene["panels"][0]["layers"] if ly.get("label") == "task optima")
    assert list(zip(optima["x"], optima["y"])) == TASK_OPTIMA
    side = scene["panels"][1]
    assert side["xlim"] == [0, 1] and side["ylim"] == pytest.approx([0, 1.1 * objective(theta, data, alpha)], rel=1e-9)
    assert scene["description"] == (
        f"θ = ({theta[0]:.2f}, {theta[1]:.2f}). One inner step at α = {alpha:g} on each task's support points takes "
        f"it to φ₁ = ({phis[0][0]:.2f}, {phis[0][1]:.2f}) and φ₂ = ({phis[1][0]:.2f}, {phis[1][1]:.2f}). The MAML "
        f"objective L₁(φ₁) + L₂(φ₂) on the query points is {objective(theta, data, alpha):.4f}. 0 meta-gradient "
        "steps taken so far.")


def test_two_tasks_meta_step_is_maml_second_order():
    """One press of "Meta-gradient step": θ ← θ − β∇J(θ), ∇J by finite differences of the objective."""
    data = tasks_data(0)
    theta = np.array([0.15, 0.85])
    scene = figures.run("two-tasks", {"theta": theta.tolist(), "alpha": 0.05, "beta": 0.02}, "step")
    want = np.clip(theta - 0.02 * meta_gradient_fd(theta, data, 0.05), 0, 1)
    assert np.linalg.norm(want - theta) > 1e-3                     # a visible step
    assert scene["state"]["theta"] == pytest.approx(list(want), abs=1e-8)
    # first-order MAML (the query gradient at φ, no Hessian term) would land elsewhere: the test can tell
    fo = theta - 0.02 * sum(sp_grad(*adapt(theta, xs, ys, 0.05, 1), xq, yq) for xs, ys, xq, yq in data) / 2
    assert np.abs(fo - want).max() > 1e-5
    assert scene["state"]["_trail"] == [pytest.approx(list(theta)), pytest.approx(list(want), abs=1e-8)]
    assert readouts(scene)["meta-steps taken"] == 1
    assert readouts(scene)["MAML objective"] == pytest.approx(objective(want, data, 0.05), rel=1e-6)
    assert readouts(scene)["MAML objective"] < objective(theta, data, 0.05)


def test_two_tasks_walk_repeats_the_step_and_plots_the_objective_along_it():
    data = tasks_data(0)
    theta = np.array([0.15, 0.85])
    scenes = list(figures.run("two-tasks", {"theta": theta.tolist()}, "walk"))
    assert len(scenes) == 25
    walk = [theta]
    for _ in range(25):
        walk.append(np.clip(walk[-1] - 0.01 * meta_gradient_fd(walk[-1], data, 0.03), 0, 1))
    last = scenes[-1]
    assert last["state"]["theta"] == pytest.approx(list(walk[-1]), abs=1e-6)
    trail = layer(last["panels"][0], "line", "trail")
    assert np.allclose(np.c_[trail["x"], trail["y"]], walk, atol=1e-6)
    curve = layer(last["panels"][1], "line", "theta")
    assert curve["x"] == list(range(26))
    assert curve["y"] == pytest.approx([objective(w, data, 0.03) for w in walk], rel=1e-6)
    assert curve["y"][-1] < curve["y"][0]
    assert last["panels"][1]["xlim"] == [0, 25]
    assert last["panels"][1]["ylim"] == pytest.approx([0, 1.1 * max(objective(w, data, 0.03) for w in walk)], rel=1e-6)
    assert last["description"].endswith(" 25 meta-gradient steps taken so far.")


# ------------------------------------------------------------------------------------------------ the sine MLP
# The 1-40-40-1 network written out by hand (forward pass, backpropagation, SGD, MSE on the figure's 201 points)
# lives in test_part3_known_answers.py, with its own check against finite differences; it is reused here.
from test_part3_known_answers import forward, loss_and_grad, mse_on_grid, sgd  # noqa: E402


def mlp(theta, x):
    return forward(theta, x)[-1][:, 0]


sgd_loop = sgd
X_DENSE = np.linspace(-5, 5, 201)
mse_vs_sine = mse_on_grid


@pytest.mark.parametrize("state", [
    {},
    {"amplitude": 1.2, "phase": 2.5, "steps": 5, "alpha": 0.02},
    {"amplitude": 4.5, "phase": 0.3, "steps": 10, "alpha": 0.001, "k": 3,
     "points": [[-3.0, 0.0], [0.2, 0.0], [4.9, 0.0]]},
])
def test_sine_fit_is_plain_sgd_on_the_support_points(state):
    """MSE before and after `steps` SGD steps at α on the K points, measured against the true sine on 201 points."""
    scene = figures.run("sine-fit", state)
    full = figures.FIGURES["sine-fit"].validate(state)
    a, psi, alpha, steps = full["amplitude"], full["phase"], full["alpha"], full["steps"]
    xs = np.array([p[0] for p in full["points"]])
    ys = a * np.sin(xs - psi)                        # the points snap onto the task's curve (noise off)
    assert [p[1] for p in scene["state"]["points"]] == pytest.approx(list(ys), abs=1e-12)
    r = readouts(scene)
    lines = {ly["class"]: ly for ly in scene["panels"][0]["layers"]}
    for key, name in (("pretrained", "pretrained"), ("maml", "MAML")):
        theta = load_sine_models()[key]
        after = sgd_loop(theta, xs, ys, alpha, steps)
        assert r[f"{name}: MSE before"] == pytest.approx(mse_vs_sine(theta, a, psi), rel=1e-9)
        assert r[f"{name}: MSE after"] == pytest.approx(mse_vs_sine(after, a, psi), rel=1e-8)
        assert lines[f"{key} before"]["y"] == pytest.approx(list(mlp(theta, X_DENSE)), abs=6e-5)
        assert lines[f"{key} after"]["y"] == pytest.approx(list(mlp(after, X_DENSE)), abs=6e-5)
    assert lines["true"]["x"] == pytest.approx(list(X_DENSE))
    assert lines["true"]["y"] == pytest.approx(list(a * np.sin(X_DENSE - psi)), abs=1e-12)


def test_sine_fit_noise_goes_on_the_points_not_on_the_truth():
    clean = figures.run("sine-fit", {})
    noisy = figures.run("sine-fit", {"noise": True})
    dy = np.array([p[1] for p in noisy["state"]["points"]]) - np.array([p[1] for p in clean["state"]["points"]])
    assert np.all(np.abs(dy) > 1e-6) and np.abs(dy).max() < 5 * part3.NOISE_SD
    assert readouts(noisy)["MAML: MSE before"] == readouts(clean)["MAML: MSE before"]
    # the noisy labels are what the models are tuned on
    xs = np.array([p[0] for p in noisy["state"]["points"]])
    ys = np.array([p[1] for p in noisy["state"]["points"]])
    after = sgd_loop(load_sine_models()["maml"], xs, ys, 0.01, 1)
    assert readouts(noisy)["MAML: MSE after"] == pytest.approx(mse_vs_sine(after, 3.0, 1.0), rel=1e-8)


def test_sine_fit_keeps_the_first_k_points_and_dice_draws_k_points_in_range():
    pts = [[x, 0.0] for x in (-4.0, -2.0, 0.0, 2.0, 4.0)]
    scene = figures.run("sine-fit", {"points": pts, "k": 3})
    assert [p[0] for p in scene["state"]["points"]] == [-4.0, -2.0, 0.0]
    assert "At most K = 3" in scene["message"]
    rolled = figures.run("sine-fit", {"k": 7}, "dice")
    xs = [p[0] for p in rolled["state"]["points"]]
    assert len(xs) == 7 and all(-5 <= x <= 5 for x in xs) and rolled["state"]["_dice"] == 1
    cleared = figures.run("sine-fit", {}, "clear")
    assert cleared["state"]["points"] == [] and readouts(cleared)["MAML: MSE after"] is None
    assert "No support points" in cleared["message"]


# ---------------------------------------------------------------------------------------------------- the lab
def adam(theta, d, lr, t, m, v, b1=0.9, b2=0.999, eps=1e-8):
    """Kingma & Ba's Adam with the bias corrections folded into the step size (end of their Section 2)."""
    m = b1 * m + (1 - b1) * d
    v = b2 * v + (1 - b2) * d * d
    return theta - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps), m, v


def test_lab_first_chunk_is_meta_gradient_then_adam_by_hand():
    """The lab's first LAB_CHUNK updates, redone: same seed → θ₀ and batches; MAML's direction with one inner step
    (the pretrained model: k = 0, the plain query gradient); Adam by hand."""
    from mamlviz import sine
    from mamlviz.meta import meta_gradient
    from mamlviz.nn import MLP

    state = {"batch": 5, "k": 4, "alpha": 0.02, "beta": 0.005, "budget": 500, "seed": 3}
    figures.run("meta-lab", {}, "reset")
    stream = figures.run("meta-lab", state, "start")
    next(stream), next(stream)                      # the "training" frame before and after the first chunk
    stream.close()
    trainers = figures.sessions["meta-lab"]["trainers"]
    model = MLP()
    for name, steps in (("maml", 1), ("pretrained", 0)):
        rng = np.random.default_rng(3)
        theta = model.init(rng)
        m = v = np.zeros_like(theta)
        for t in range(1, part3.LAB_CHUNK + 1):
            batch = sine.sample(rng, 5, 4, 10)
            if steps:
                d, _ = meta_gradient("maml", model, theta, batch, inner_lr=0.02, inner_steps=1)
            else:
                d = np.mean([loss_and_grad(theta, batch.xq[i, :, 0], batch.yq[i, :, 0])[1] for i in range(5)], axis=0)
            theta, m, v = adam(theta, d, 0.005, t, m, v)
        assert trainers[name].iteration == part3.LAB_CHUNK
        np.testing.assert_allclose(trainers[name].theta, theta, rtol=1e-7, atol=1e-10)
    figures.run("meta-lab", {}, "reset")


def test_lab_readouts_are_held_out_mse_after_one_step():
    """At the default α the held-out readout is the median over 50 fixed tasks (K support, 25 query points) of
    the query MSE after one SGD step at α = 0.01 from the trained θ."""
    from mamlviz import sine

    figures.run("meta-lab", {}, "reset")
    scenes = list(figures.run("meta-lab", {"budget": 500, "batch": 5, "k": 5}, "start"))
    last = scenes[-1]
    assert last["description"].startswith("Finished after 500")
    trainers = figures.sessions["meta-lab"]["trainers"]
    held = sine.sample(np.random.default_rng(20170703), 50, 5, 25)
    r = readouts(last)
    for key, name in (("pretrained", "pretrained"), ("maml", "MAML")):
        theta = trainers[key].theta
        mse = [np.mean((mlp(sgd_loop(theta, held.xs[i, :, 0], held.ys[i, :, 0], 0.01, 1), held.xq[i, :, 0])
                        - held.yq[i, :, 0]) ** 2) for i in range(50)]
        assert r[f"{name}: held-out MSE after 1 step"] == pytest.approx(float(np.median(mse)), rel=1e-8)
    assert r["meta-updates"] == 500
    assert r["MAML: held-out MSE after 1 step"] < r["pretrained: held-out MSE after 1 step"]
    figures.run("meta-lab", {}, "reset")


def test_lab_before_training_and_after_reset():
    figures.run("meta-lab", {}, "reset")
    scene = figures.run("meta-lab", {})
    assert readouts(scene)["meta-updates"] == 0 and "Press Start" in scene["message"]
    assert "meta-lab" not in figures.sessions


# ----------------------------------------------------------------------------- the sine fit's helpers, by hand
def test_labels_are_the_sine_plus_the_seeds_first_draws_times_sigma():
    xs = [-2.0, 0.5, 3.0]
    clean = part3._labels(xs, 2.0, 0.7, False, 5)
    np.testing.assert_allclose(clean, [2.0 * math.sin(x - 0.7) for x in xs], rtol=1e-14)
    noisy = part3._labels(xs, 2.0, 0.7, True, 5)
    draws = np.random.default_rng(5).standard_normal(20)[:3]           # the first of the seed's 20 draws
    np.testing.assert_allclose(noisy - clean, 0.3 * draws, rtol=1e-12)


def test_models_take_the_labs_only_once_it_has_trained(monkeypatch):
    shipped = part3.shipped_models()
    lab = {"iteration": 0, "pretrained": [1.0, 2.0], "maml": [3.0, 4.0]}
    monkeypatch.setitem(figures.trained, "meta-lab", lab)
    thetas, message = part3._models("lab")
    assert message.startswith("No models trained in the lab yet")
    np.testing.assert_array_equal(thetas, np.stack([shipped["pretrained"], shipped["maml"]]))
    lab["iteration"] = 1
    thetas, message = part3._models("lab")
    assert message is None and thetas.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert part3._models("shipped")[1] is None


def test_sine_description_by_hand():
    head = ("The true task is y = 2.0·sin(x − 0.50) (amplitude A = 2.0, phase ψ = 0.50), with 3 support points; the "
            "flat line y = 0 would score an MSE of 2.000. ")
    text = part3._sine_description(2.0, 0.5, [1, 2, 3], 2, 0.01, [1.5, 0.8], [2.5, 0.1], ["worse than 0", "ok"], 2.0)
    assert text == head + ("The pretrained model's MSE against the true sine is 1.500 before adaptation and 2.500 "
                           "after 2 step(s) at α = 0.01, worse than the flat line. The MAML model's MSE against the "
                           "true sine is 0.800 before adaptation and 0.100 after 2 step(s) at α = 0.01. ")
    text = part3._sine_description(2.0, 0.5, [1, 2, 3], 2, 0.3, [1.5, 0.8], [None, 0.1], ["diverged", "ok"], 2.0)
    assert text == head + ("The pretrained model's MSE against the true sine is 1.500 before adaptation and "
                           "fine-tuning diverged at α = 0.3. The MAML model's MSE against the true sine is 0.800 "
                           "before adaptation and 0.100 after 2 step(s) at α = 0.3. ")
    text = part3._sine_description(2.0, 0.5, [], 2, 0.3, [1.5, 0.8], [None, None], [None, None], 2.0)
    assert text.endswith("with 0 support points; the flat line y = 0 would score an MSE of 2.000. The pretrained "
                         "model's MSE against the true sine is 1.500 before adaptation. The MAML model's MSE against "
                         "the true sine is 0.800 before adaptation. ")


def test_toggle_values_and_garbage():
    from mamlviz.figures import Toggle

    t = Toggle("t", "t")
    assert [t.validate(v) for v in (True, False, "1", "on", "YES", "true", "0", "off", "No", "false", 0, 1)] == \
        [True, False, True, True, True, True, False, False, False, False, False, True]
    for bad in ("maybe", "2", "", None, [1]):
        with pytest.raises(ValueError):
            t.validate(bad)


# ----------------------------------------------------------------------------- the lab's scene, by hand
def fake_lab(seconds=4.0):
    from types import SimpleNamespace as T

    from mamlviz.train import TrainConfig

    curve_p = [(0, [5.0, 2000.0, 3.0]), (100, [2.0, 1.5, 1.2]), (600, [1.9, 1.4, 1.1])]
    curve_m = [(0, [5.0, 6.0, 5.5]), (100, [3.0, 0.5, 0.4]), (600, [2.5, float("nan"), 0.3])]
    trainers = {"pretrained": T(iteration=600, diverged=False, message="", eval_curve=curve_p),
                "maml": T(iteration=600, diverged=True, message="MAML diverged.", eval_curve=curve_m)}
    return {"config": TrainConfig(eval_lr=0.02, eval_support=7), "seed": 0, "trainers": trainers, "seconds": seconds}


def test_lab_scene_by_hand():
    scene = part3._lab_scene({}, fake_lab(), "hello", "paused")
    curves, steps = scene["panels"]
    recorded = sum(1 for ly in curves["layers"] if "recorded" in ly["class"])   # drawn first, under the reader's run
    assert recorded == 8 and all("recorded" in ly["class"] for ly in curves["layers"][:recorded])
    mine = curves["layers"][recorded:]
    assert [(ly["class"], ly["x"]) for ly in mine] == [("pretrained", [0, 100, 600]), ("maml", [0, 100, 600])]
    assert mine[0]["y"] == [1000.0, 1.5, 1.4] and mine[1]["y"][:2] == [6.0, 0.5]
    assert curves["xlim"] == [0, 2000] and curves["ylim"] == pytest.approx([0, 10.5])      # the recorded run's 2000
    lines = [ly for ly in steps["layers"] if ly["kind"] == "line"]
    assert [(ly["class"], ly["x"], ly["y"]) for ly in lines][0] == ("pretrained", [0, 1, 2], [1.9, 1.4, 1.1])
    assert [ly["class"] for ly in steps["layers"]] == ["pretrained", "pretrained", "maml", "maml"]
    assert steps["xlim"] == [0, 10] and steps["ylim"] == pytest.approx([0, 4.2])           # small values: 4 · 1.05
    values = {r["label"]: r["value"] for r in scene["readouts"]}
    assert values["meta-updates"] == 600 and values["updates per second (both models)"] == pytest.approx(300.0)
    assert values["pretrained: held-out MSE after 1 step"] == 1.4 and values["MAML: held-out MSE after 1 step"] is None
    assert scene["message"] == "hello MAML diverged."
    assert scene["description"].startswith("Paused after 600 meta-updates. Median held-out MSE after one adaptation "
                                           "step at α = 0.02 (the inner learning rate MAML trains with; the "
                                           "pretrained model is fine-tuned at the same α) on K = 7 points: "
                                           "pretrained 1.400, MAML nan.")
    slow = part3._lab_scene({}, fake_lab(0.5), None, "paused")
    assert {r["label"]: r["value"] for r in slow["readouts"]}["updates per second (both models)"] == 2400.0
    none = part3._lab_scene({}, fake_lab(0.0), None, "paused")
    assert {r["label"]: r["value"] for r in none["readouts"]}["updates per second (both models)"] is None
    lab = fake_lab()
    lab["trainers"]["maml"].diverged = False
    assert part3._lab_scene({}, lab)["message"] is None
    empty = part3._lab_scene({}, None)
    assert empty["panels"][0]["xlim"] == [0, 2000] and empty["panels"][0]["ylim"] == pytest.approx([0, 10.5])
    assert empty["panels"][1]["ylim"] == pytest.approx([0, 4.2]) and empty["message"].startswith("Press Start")


def test_lab_training_clock_and_evaluation_points(monkeypatch):
    """_train with stand-in trainers and a clock that advances 2 s per chunk: the seconds add up, each chunk is
    LAB_CHUNK updates, and the held-out evaluation comes every LAB_EVAL_EVERY updates and at the budget."""
    import types
    from types import SimpleNamespace as T

    runs = []

    def run(t, n, evaluate):
        runs.append((t.name, t.iteration, n, evaluate))
        t.iteration += n

    trainers = {name: T(name=name, iteration=0, diverged=False, message="", eval_curve=[(0, [1.0, 1.0])])
                for name in ("pretrained", "maml")}
    for t in trainers.values():
        t.run = (lambda n, evaluate=False, t=t: run(t, n, evaluate))
    lab = {"config": fake_lab()["config"], "trainers": trainers, "seconds": 0.0, "seed": 0}
    ticks = iter(float(v) for v in range(10, 1000, 2))
    monkeypatch.setattr(part3, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    monkeypatch.setattr(part3, "_publish_lab", lambda lab: None)
    frames = list(part3._train({"budget": 150}, lab, None))
    assert len(frames) == 1 + 6 + 1 and lab["seconds"] == 12.0
    maml = [(it, n, ev) for name, it, n, ev in runs if name == "maml"]
    assert maml == [(0, 25, False), (25, 25, False), (50, 25, False), (75, 25, True), (100, 25, False),
                    (125, 25, True)]


def test_lab_steps_panel_caps_a_runaway_value():
    from types import SimpleNamespace as T

    t = T(eval_curve=[(0, [1.0, 1.0]), (100, [2.0, 5000.0, 0.5])])
    panel = part3._lab_steps_panel({"maml": t})
    assert panel["layers"][0]["y"] == [2.0, 1000.0, 0.5] and panel["ylim"] == pytest.approx([0, 10.5])


def test_a_new_labs_rate_is_its_updates_over_the_time_they_took(monkeypatch):
    """A lab made by `_new_lab` has measured no time yet: after one chunk of 25 updates of both models that took
    2 s (a fake clock), the readout says 2·25 / 2 = 25 updates per second."""
    import types

    from mamlviz.train import TrainConfig

    lab = part3._new_lab(TrainConfig(n_tasks=2, eval_tasks=2), 0)
    for t in lab["trainers"].values():
        t.run = (lambda n, evaluate=False, t=t: setattr(t, "iteration", t.iteration + n))
    ticks = iter([10.0, 12.0])
    monkeypatch.setattr(part3, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    monkeypatch.setattr(part3, "_publish_lab", lambda lab: None)
    frames = part3._train({"budget": part3.LAB_CHUNK}, lab, None)
    next(frames)
    readouts = {r["label"]: r["value"] for r in next(frames)["readouts"]}
    assert readouts["updates per second (both models)"] == pytest.approx(2 * part3.LAB_CHUNK / 2.0)
