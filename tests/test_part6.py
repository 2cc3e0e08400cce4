"""Part 6 (Reptile): the batched step, k = 1 as joint training, the second-order Taylor expansion for k = 2 on
different mini-batches, where Reptile goes, and the figures' numbers — each against an independent computation
(the softplus loss, its gradient and Hessian written out here; inner loops written as plain loops)."""

import numpy as np
import pytest

from mamlviz import figures, meta, sine, toy
from mamlviz.figures import part6
from mamlviz.nn import MLP


# ----------------------------------------------------------------- an independent softplus line-fitting model
def sp_loss(theta, x, y):
    """½ Σ_n (softplus(a·x_n + b) − y_n)², written directly."""
    a, b = theta
    return 0.5 * sum((np.log1p(np.exp(a * xn + b)) - yn) ** 2 for xn, yn in zip(x.ravel(), y.ravel()))


def sp_grad(theta, x, y, h=1e-6):
    """Central finite differences of sp_loss."""
    e = np.eye(2) * h
    return np.array([(sp_loss(theta + e[m], x, y) - sp_loss(theta - e[m], x, y)) / (2 * h) for m in range(2)])


def sp_hess(theta, x, y, h=1e-4):
    e = np.eye(2) * h
    return np.stack([(sp_grad(theta + e[m], x, y) - sp_grad(theta - e[m], x, y)) / (2 * h) for m in range(2)])


def inner_loop(theta, x, y, alpha, k):
    phi = np.array(theta, dtype=float)
    for _ in range(k):
        phi = phi - alpha * sp_grad(phi, x, y)
    return phi


@pytest.fixture(scope="module")
def four():
    return part6.softplus_tasks(part6.FOUR_TASKS, 0)


def test_k1_is_joint_training_on_the_support_sets(four):
    """k = 1: θ − φ_i = α∇L_i^tr(θ), so the batched step is θ − εα·mean_i ∇L_i^tr(θ), joint training."""
    theta, alpha, eps = np.array([0.15, 0.85]), 0.03, 0.4
    _, _, _, new = part6.reptile_update(four, theta, alpha, 1, eps)
    joint = np.mean([sp_grad(theta, four.xs[i], four.ys[i]) for i in range(4)], axis=0)
    np.testing.assert_allclose(new, theta - eps * alpha * joint, rtol=1e-7, atol=1e-9)


def test_k1_is_joint_training_on_the_sine_mlp():
    model, rng = MLP(), np.random.default_rng(0)
    theta, batch = model.init(rng), sine.sample(rng, 6, 10, 10)
    direction, _ = meta.meta_gradient("reptile", model, theta, batch, inner_lr=0.01, inner_steps=1)
    grads = [model.loss_grad(theta, batch.xs[i], batch.ys[i])[1] for i in range(6)]   # one task at a time
    np.testing.assert_allclose(direction, 0.01 * np.mean(grads, axis=0), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("k", [2, 5])
def test_the_batched_step_goes_toward_the_mean_of_the_phi_i(four, k):
    theta, alpha, eps = np.array([0.6, 0.5]), 0.03, 0.3
    phis = [inner_loop(theta, four.xs[i], four.ys[i], alpha, k) for i in range(4)]
    phi, _, phi_bar, new = part6.reptile_update(four, theta, alpha, k, eps)
    np.testing.assert_allclose(phi, phis, atol=1e-7)
    np.testing.assert_allclose(phi_bar, np.mean(phis, axis=0), atol=1e-7)
    np.testing.assert_allclose(new, theta + eps * (np.mean(phis, axis=0) - theta), atol=1e-7)
    # not Reptile applied task by task (θ moved toward φ_1, then from there toward φ_2, …)
    serial = theta.copy()
    for i in range(4):
        serial = serial + eps * (inner_loop(serial, four.xs[i], four.ys[i], alpha, k) - serial)
    assert np.linalg.norm(serial - new) > 1e-3


def _two_batches(four, task=1):
    x, y = four.xs[task], four.ys[task]
    return (x[:5], y[:5]), (x[5:], y[5:])


def test_taylor_expansion_for_k2_on_two_minibatches(four):
    """θ − φ⁽²⁾ = α(g₁ + g₂) − α²H₂g₁ + O(α³) when step 1 uses batch 1 and step 2 batch 2 (Nichol et al. 2018,
    Sec. 5); the inner steps run through the library's own `inner_sgd`, one batch a step."""
    theta = np.array([0.3, 0.6])
    (x1, y1), (x2, y2) = _two_batches(four)
    g1, g2, h2 = sp_grad(theta, x1, y1), sp_grad(theta, x2, y2), sp_hess(theta, x2, y2)
    model = toy.SoftplusLine()

    def exact(alpha):
        phi1 = meta.inner_sgd(model, theta, x1, y1, lr=alpha, steps=1).phi
        return theta - meta.inner_sgd(model, phi1, x2, y2, lr=alpha, steps=1).phi

    residuals = []
    for alpha in (0.02, 0.01, 0.005, 0.0025):
        taylor = alpha * (g1 + g2) - alpha ** 2 * h2 @ g1
        residuals.append(np.linalg.norm(exact(alpha) - taylor))
    ratios = np.array(residuals[:-1]) / np.array(residuals[1:])
    assert np.all((ratios > 7.0) & (ratios < 9.0)), ratios          # halving α divides the residual by 2³
    first_order_only = np.linalg.norm(exact(0.0025) - 0.0025 * (g1 + g2))
    assert first_order_only > 50 * residuals[-1]                    # the α² term is really there


def test_the_second_order_term_raises_the_inner_product_of_minibatch_gradients(four):
    """Averaged over the order of the batches, H₂g₁ and H₁g₂ give ½∇(g₁·g₂): the step −α²·½∇(g₁·g₂) increases
    the inner product of gradients of different mini-batches. With one batch reused (g₁ = g₂) it is ½∇‖g‖²."""
    theta, h = np.array([0.3, 0.6]), 1e-5
    (x1, y1), (x2, y2) = _two_batches(four)
    avg = 0.5 * (sp_hess(theta, x2, y2) @ sp_grad(theta, x1, y1) + sp_hess(theta, x1, y1) @ sp_grad(theta, x2, y2))
    inner = lambda t: sp_grad(t, x1, y1) @ sp_grad(t, x2, y2)
    e = np.eye(2) * h
    grad_inner = np.array([(inner(theta + e[m]) - inner(theta - e[m])) / (2 * h) for m in range(2)])
    np.testing.assert_allclose(avg, 0.5 * grad_inner, rtol=1e-3, atol=1e-5)
    same = sp_hess(theta, x1, y1) @ sp_grad(theta, x1, y1)
    sq = lambda t: sp_grad(t, x1, y1) @ sp_grad(t, x1, y1)
    grad_sq = np.array([(sq(theta + e[m]) - sq(theta - e[m])) / (2 * h) for m in range(2)])
    np.testing.assert_allclose(same, 0.5 * grad_sq, rtol=1e-3, atol=1e-5)


def _fixed_point(tasks, alpha, k, eps=1.0, n=600):
    theta = np.array([0.3, 0.3])
    for _ in range(n):
        theta = part6.reptile_update(tasks, theta, alpha, k, eps)[3]
    return theta


def test_reptile_moves_from_the_joint_minimum_toward_the_average_of_the_optima(four):
    joint = part6.joint_minimum(four)
    np.testing.assert_allclose(sum(sp_grad(joint, four.xs[i], four.ys[i]) for i in range(4)), 0, atol=1e-6)
    optima = np.mean(part6.FOUR_TASKS, axis=0)
    np.testing.assert_allclose(_fixed_point(four, 0.03, 1), joint, atol=1e-6)      # k = 1: joint training
    far = _fixed_point(four, 0.07, 10)
    assert np.linalg.norm(far - optima) < 0.6 * np.linalg.norm(joint - optima)


def test_maml_minimum_is_a_minimum_of_the_maml_objective(four):
    alpha, k = 0.03, 5
    m = part6.maml_minimum(four, alpha, k)

    def objective(t):
        return sum(sp_loss(inner_loop(t, four.xs[i], four.ys[i], alpha, k), four.xq[i], four.yq[i]) for i in range(4))

    best = objective(m)
    for d in np.array([[0.01, 0], [-0.01, 0], [0, 0.01], [0, -0.01]]):
        t = np.clip(m + d, 0, 1)
        assert objective(t) >= best - 1e-9


# ------------------------------------------------------------------------------------------------ the figures
def readout(scene, label):
    return next(r["value"] for r in scene["readouts"] if r["label"] == label)


def test_one_task_figure_shows_the_path_and_the_step():
    figures.load_all()
    state = {"theta": [0.2, 0.8], "alpha": 0.05, "k": 4, "eps": 0.25}
    scene = figures.run("reptile-step", state)
    tasks = part6.softplus_tasks(part6.ONE_TASK, 0)
    phi = inner_loop(np.array([0.2, 0.8]), tasks.xs[0], tasks.ys[0], 0.05, 4)
    new = np.array([0.2, 0.8]) + 0.25 * (phi - [0.2, 0.8])
    assert readout(scene, "new θ: a") == pytest.approx(new[0], abs=1e-7)
    assert readout(scene, "new θ: b") == pytest.approx(new[1], abs=1e-7)
    assert readout(scene, "L(φ)") == pytest.approx(sp_loss(phi, tasks.xs[0], tasks.ys[0]), rel=1e-9)
    layers = scene["panels"][0]["layers"]
    path = next(l for l in layers if l["kind"] == "line")
    assert len(path["x"]) == 5 and path["x"][-1] == pytest.approx(phi[0], abs=1e-7)
    labels = [l["text"] for l in layers if l["kind"] == "label"]
    assert "φ⁽¹⁾" in labels and "φ⁽⁴⁾ = φ" in labels
    arrow = next(l for l in layers if l["kind"] == "arrow")
    assert arrow["to"] == pytest.approx(new.tolist(), abs=1e-7) and arrow["label"] == "θ + ε(φ − θ)"
    stepped = figures.run("reptile-step", state, "step")
    assert stepped["state"]["theta"] == pytest.approx(new.tolist(), abs=1e-7)
    assert f"k = 4" not in scene["description"] and "4 inner steps at α = 0.05" in scene["description"]


def test_figures_say_when_the_inner_steps_diverge():
    """Within the sliders' ranges α·L ≤ 0.07 · 27 < 2 on the unit square; called directly with α = 2 the inner
    steps blow up, and the figures say so, keep θ and show no number that is not finite."""
    state = {"theta": [1.0, 1.0], "alpha": 2.0, "k": 10, "eps": 1.0}
    stepped = part6.reptile_step_figure(state, "step")
    assert stepped["message"] == part6.DIVERGED and stepped["state"]["theta"] == [1.0, 1.0]
    assert all(r["value"] is None or np.isfinite(r["value"]) for r in stepped["readouts"])
    frames = list(part6.reptile_tasks_figure(state, "run"))
    assert len(frames) == 1 and frames[0]["message"] == part6.DIVERGED
    assert frames[0]["state"]["theta"] == [1.0, 1.0]


def test_four_task_figure_run_moves_theta_by_batched_reptile_updates(four):
    figures.load_all()
    state = {"theta": [0.15, 0.85], "alpha": 0.03, "k": 3, "eps": 0.5}
    scenes = list(figures.run("reptile-tasks", state, "run"))
    assert len(scenes) == part6.RUN_UPDATES // part6.RUN_CHUNK
    theta = np.array([0.15, 0.85])
    for _ in range(part6.RUN_UPDATES):
        phis = [inner_loop(theta, four.xs[i], four.ys[i], 0.03, 3) for i in range(4)]
        theta = theta + 0.5 * (np.mean(phis, axis=0) - theta)
    last = scenes[-1]
    assert last["state"]["theta"] == pytest.approx(theta.tolist(), abs=1e-6)
    assert len(last["state"]["_trail"]) == part6.RUN_UPDATES + 1
    assert readout(last, "meta-updates") == part6.RUN_UPDATES
    optima = np.mean(part6.FOUR_TASKS, axis=0)
    assert readout(last, "distance to average of optima") == pytest.approx(np.linalg.norm(theta - optima), abs=1e-6)
    phi_bar = np.mean([inner_loop(theta, four.xs[i], four.ys[i], 0.03, 3) for i in range(4)], axis=0)
    assert [readout(last, "φ̄: a"), readout(last, "φ̄: b")] == pytest.approx(phi_bar.tolist(), abs=1e-6)
    # the figure's state continues the run: the next frame starts from the trail's end
    again = figures.run("reptile-tasks", last["state"] | state | {"theta": last["state"]["theta"]})
    assert readout(again, "meta-updates") == part6.RUN_UPDATES


def test_four_task_scene_draws_the_paths_marks_and_distances_it_says(four):
    """Every layer of the four-task scene at a θ with a walked trail, against plain loops: the inner paths and φ_i,
    φ̄ and the step, the task optima of the text, the marks with their tags, θ's trajectory, and the distance panel."""
    figures.load_all()
    trail = [[0.2, 0.9], [0.3, 0.7], [0.35, 0.6]]
    state = {"theta": trail[-1], "alpha": 0.04, "k": 3, "eps": 0.4, "_trail": trail}
    scene = figures.run("reptile-tasks", state)
    theta = np.array(trail[-1])
    paths = []
    for i in range(4):
        p = [theta]
        for _ in range(3):
            p.append(p[-1] - 0.04 * sp_grad(p[-1], four.xs[i], four.ys[i]))
        paths.append(np.array(p))
    phi_bar = np.mean([p[-1] for p in paths], axis=0)
    new = theta + 0.4 * (phi_bar - theta)
    main, distance = scene["panels"]
    layers = main["layers"]
    for i in range(4):
        (line,) = [ly for ly in layers if ly["kind"] == "line" and ly["class"] == f"task{i + 1}"]
        assert line["label"] == f"inner path of task {i + 1}"
        np.testing.assert_allclose(np.c_[line["x"], line["y"]], paths[i], atol=1e-7)
        (tag,) = [ly for ly in layers if ly["kind"] == "label" and ly["class"] == f"task{i + 1}"]
        assert tag["text"] == "φ" + "₁₂₃₄"[i] and tag["at"] == pytest.approx(paths[i][-1].tolist(), abs=1e-7)
    (bar,) = [ly for ly in layers if ly["kind"] == "points" and ly["class"] == "phibar"]
    assert [bar["x"][0], bar["y"][0]] == pytest.approx(phi_bar.tolist(), abs=1e-7)
    (arrow,) = [ly for ly in layers if ly["kind"] == "arrow"]
    assert arrow["from"] == pytest.approx(theta.tolist()) and arrow["to"] == pytest.approx(new.tolist(), abs=1e-7)
    (optima,) = [ly for ly in layers if ly.get("label") == "task optima"]
    assert (optima["x"], optima["y"]) == ([0.0, 1.0, 0.2, 0.5], [0.0, 0.0, 0.0, 0.2])     # the text's (a*, b*)
    (walk,) = [ly for ly in layers if ly.get("label") == "θ's trajectory"]
    assert np.c_[walk["x"], walk["y"]].tolist() == trail
    joint = part6.joint_minimum(four)
    marks = {"optima": [0.425, 0.05], "joint": joint, "maml": part6.maml_minimum(four, 0.04, 3)}
    for key, (name, css, text, offset) in part6.MARKS.items():
        (point,) = [ly for ly in layers if ly["kind"] == "points" and ly["class"] == css]
        (label,) = [ly for ly in layers if ly["kind"] == "label" and ly["class"] == css]
        assert [point["x"][0], point["y"][0]] == pytest.approx(list(marks[key])) and point["label"] == name
        assert label["text"] == text and label["at"] == pytest.approx(np.add(marks[key], offset).tolist())
        assert point["r"] == 5
    dist = {key: [float(np.hypot(*np.subtract(t, marks[key]))) for t in trail] for key in marks}
    assert distance["xlim"] == [0, 2] and distance["ylim"] == pytest.approx([0, 1.1 * max(map(max, dist.values()))])
    for key, (name, css, _, _) in part6.MARKS.items():
        (line,) = [ly for ly in distance["layers"] if ly["kind"] == "line" and ly["class"] == css]
        (end,) = [ly for ly in distance["layers"] if ly["kind"] == "points" and ly["class"] == css]
        assert line["label"] == name and line["x"] == [0, 1, 2] and line["y"] == pytest.approx(dist[key])
        assert end["x"] == [2] and end["y"] == pytest.approx(dist[key][-1:])
    assert [readout(scene, "φ̄: a"), readout(scene, "φ̄: b")] == pytest.approx(phi_bar.tolist(), abs=1e-7)
    assert readout(scene, "meta-updates") == 2
    text = scene["description"]
    assert "θ = (0.350, 0.600). Each task takes 3 inner steps at α = 0.04; the mean of the four adapted points is " \
           f"φ̄ = ({phi_bar[0]:.3f}, {phi_bar[1]:.3f})" in text
    assert f"leads to ({new[0]:.3f}, {new[1]:.3f})." in text and "After 2 meta-updates θ is" in text
    assert f"Marked: the average of the task optima (0.425, 0.050), the joint-training minimum ({joint[0]:.3f}, " \
           f"{joint[1]:.3f})" in text
    one = figures.run("reptile-tasks", {"theta": [0.425, 0.05], "alpha": 0.04, "k": 1})    # at the mark itself
    assert "Each task takes 1 inner step at" in one["description"]
    two = figures.run("reptile-tasks", {"theta": [0.425, 0.05], "alpha": 0.04, "k": 2})
    assert "Each task takes 2 inner steps at" in two["description"]
    assert one["panels"][1]["xlim"] == [0, 1] and one["panels"][1]["ylim"][1] >= 0.05


def test_four_task_scene_when_the_inner_steps_diverge(four):
    state = {"theta": [1.0, 1.0], "alpha": 2.0, "k": 10, "eps": 1.0}
    scene = part6._tasks_scene(state, four, np.array([1.0, 1.0]), [[1.0, 1.0]], 0)
    assert scene["message"] == part6.DIVERGED and part6.DIVERGED in scene["description"]
    assert readout(scene, "φ̄: a") is None and readout(scene, "φ̄: b") is None
    layers = scene["panels"][0]["layers"]
    assert not [ly for ly in layers if ly["kind"] == "arrow" or ly.get("class", "").startswith("task")]
    assert [ly["kind"] for ly in layers[:2]] == ["heatmap", "contour"]     # the landscape is still drawn


def test_overshoot_compares_the_last_inner_point_with_the_first():
    """_overshoots on made-up paths of one task: ending no higher than θ is fine (equal included), ending higher
    is an overshoot however low the points in between, and only the first and the last point count."""
    tasks = part6.softplus_tasks(part6.ONE_TASK, 0)
    far, mid, opt = np.array([1.0, 1.0]), np.array([0.8, 0.6]), np.array(part6.ONE_TASK[0])
    loss = lambda p: sp_loss(p, tasks.xs[0], tasks.ys[0])
    assert loss(opt) < loss(mid) < loss(far)
    path = lambda *ps: np.array(ps)[:, None, :]                      # (steps + 1, one task, 2)
    assert not part6._overshoots(tasks, path(mid, mid))              # end = start: no overshoot
    assert not part6._overshoots(tasks, path(far, opt, mid))         # ends lower than it started
    assert part6._overshoots(tasks, path(mid, far))
    assert part6._overshoots(tasks, path(mid, opt, far))             # low in between, higher at the end
    assert part6._overshoots(tasks, path(mid, far, opt, far))
    assert part6._overshoots(tasks, path(mid, np.array([np.nan, 0.0])))


def test_short_inner_loops_first_move_reptile_away_from_the_average_of_the_optima(four):
    """The text: at the default α = 0.03, k = 2 to 5 end farther from the average of the optima than joint training."""
    optima = np.mean(part6.FOUR_TASKS, axis=0)
    joint = np.linalg.norm(part6.joint_minimum(four) - optima)
    for k in (2, 3, 5):
        assert np.linalg.norm(_fixed_point(four, 0.03, k) - optima) > joint
