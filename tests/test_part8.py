"""Part 8's figures against known answers computed here independently of the figure code and of `mamlviz.meta`:
the softplus tasks written out as plain loops over tasks and points, derivatives by finite differences, the 2×2
iMAML system solved directly, the sine race's first update recomputed from the seed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mamlviz import figures, sine
from mamlviz.figures import part8, part9
from mamlviz.nn import MLP

figures.load_all()
H = 1e-6


# ------------------------------------------------------------------------ the softplus tasks, written out plainly
def sp(z):
    return math.log1p(math.exp(z)) if z < 30 else z + math.log1p(math.exp(-z))


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def loss(t, x, y):
    """½ Σ_n (softplus(a x_n + b) − y_n)² of one task's points."""
    a, b = t
    return 0.5 * sum((sp(a * xn + b) - yn) ** 2 for xn, yn in zip(x, y))


def grad(t, x, y):
    a, b = t
    g = np.zeros(2)
    for xn, yn in zip(x, y):
        z = a * xn + b
        g += (sp(z) - yn) * sig(z) * np.array([xn, 1.0])
    return g


def hessian_fd(t, x, y):
    """The Hessian of one task's loss by central differences of the plain gradient."""
    return np.stack([(grad(t + H * e, x, y) - grad(t - H * e, x, y)) / (2 * H) for e in np.eye(2)], axis=1)


def task_data(seed):
    tasks = part8.four_tasks(seed)
    flat = lambda arr: [list(arr[i, :, 0]) for i in range(arr.shape[0])]
    return list(zip(flat(tasks.xs), flat(tasks.ys), flat(tasks.xq), flat(tasks.yq)))


def adapt(theta, xs, ys, alpha, k, lam=None):
    """k plain gradient steps from θ on one task's support points. With λ, iMAML's inner procedure: k steepest-
    descent steps on L(φ) + (λ/2)‖φ − θ‖², each r = ∇L(φ) + λ(φ − θ) times min(rᵀr / rᵀ(∇²L + λI)r, α)
    (α where that curvature is not positive), the Hessian by finite differences."""
    phi = np.array(theta, dtype=float)
    for _ in range(k):
        g = grad(phi, xs, ys)
        if lam is None:
            phi = phi - alpha * g
            continue
        r = g + lam * (phi - theta)
        curvature = r @ (hessian_fd(phi, xs, ys) + lam * np.eye(2)) @ r
        phi = phi - (min(r @ r / curvature, alpha) if curvature > 0 else alpha) * r
    return phi


def maml_objective(data, theta, alpha, k, lam=None):
    """Σ_i L_i(φ_i; query)."""
    return sum(loss(adapt(np.asarray(theta, float), xs, ys, alpha, k, lam), xq, yq) for xs, ys, xq, yq in data)


def known_direction(method, data, theta, alpha, k, lam=None):
    """The meta-update direction d (step θ − rate·d), averaged over the tasks, by the definitions of the text."""
    theta = np.asarray(theta, dtype=float)
    t = len(data)
    if method == "maml":   # the derivative of the mean objective, by central differences through the k steps
        f = lambda th: maml_objective(data, th, alpha, k) / t
        return np.array([(f(theta + H * e) - f(theta - H * e)) / (2 * H) for e in np.eye(2)])
    out = np.zeros(2)
    for xs, ys, xq, yq in data:
        phi = adapt(theta, xs, ys, alpha, k, lam if method == "imaml" else None)
        if method == "fomaml":
            out += grad(phi, xq, yq)
        elif method == "reptile":
            out += theta - phi
        else:              # iMAML: (I + ∇²L^tr(φ)/λ) g = ∇L^te(φ), solved directly
            out += np.linalg.solve(np.eye(2) + hessian_fd(phi, xs, ys) / lam, grad(phi, xq, yq))
    return out / t


def arrows(scene):
    return {L["class"]: (np.array(L["from"]), np.array(L["to"])) for L in scene["panels"][0]["layers"]
            if L["kind"] == "arrow"}


def readout(scene, label):
    return next(r["value"] for r in scene["readouts"] if r["label"] == label)


# -------------------------------------------------------------------------------------- one meta-update, four methods
STATE = {"theta": [0.3, 0.7]}


@pytest.mark.parametrize("method", list(part8.METHODS))
def test_each_arrow_is_the_known_meta_update(method):
    scene = figures.run("four-methods", STATE)
    state = figures.FIGURES["four-methods"].validate(STATE)
    outer, alpha, k, lam, _ = part8.settings(state, method)
    d = known_direction(method, task_data(0), STATE["theta"], alpha, k, lam)
    start, tip = arrows(scene)[method]
    np.testing.assert_allclose(start, STATE["theta"])
    np.testing.assert_allclose(tip, np.array(STATE["theta"]) - outer * d, rtol=0, atol=1e-7)


def test_angles_are_those_between_the_known_directions():
    scene = figures.run("four-methods", STATE)
    state = figures.FIGURES["four-methods"].validate(STATE)
    data = task_data(0)
    d = {m: known_direction(m, data, STATE["theta"], *part8.settings(state, m)[1:4]) for m in part8.METHODS}
    for a, b in [("maml", "fomaml"), ("maml", "imaml"), ("fomaml", "reptile")]:
        want = math.degrees(math.acos(d[a] @ d[b] / np.linalg.norm(d[a]) / np.linalg.norm(d[b])))
        got = readout(scene, f"angle {part8.METHODS[a]}–{part8.METHODS[b]}")
        assert abs(got - want) < 1e-4


def test_maml_objective_readout_and_background_are_the_known_objective():
    state = {"theta": [0.25, 0.5], "maml_alpha": 0.04, "maml_k": 2}
    scene = figures.run("four-methods", state)
    data = task_data(0)
    assert abs(readout(scene, "MAML objective at θ") - maml_objective(data, [0.25, 0.5], 0.04, 2)) < 1e-10
    heat = next(L for L in scene["panels"][0]["layers"] if L["kind"] == "heatmap")
    n = len(heat["z"])
    i, j = 10, 35        # row i is b = i/(n − 1), column j is a = j/(n − 1)
    want = math.log10(maml_objective(data, [j / (n - 1), i / (n - 1)], 0.04, 2))
    assert abs(heat["z"][i][j] - want) < 1e-3


METHOD_CONTROLS = [(m, f"{m}_{key}", value) for m in part8.METHODS
                   for key, value in (("outer", 0.05), ("alpha", 0.011), ("k", 2))]
METHOD_CONTROLS += [("imaml", "imaml_lambda", 12.0)]


@pytest.mark.parametrize("method, key, value", METHOD_CONTROLS)
def test_each_slider_changes_its_own_method_and_no_other(method, key, value):
    before = arrows(figures.run("four-methods", STATE))
    after = arrows(figures.run("four-methods", {**STATE, key: value}))
    for m in part8.METHODS:
        if m == method:
            assert np.abs(after[m][1] - before[m][1]).max() > 1e-6, key
        else:
            np.testing.assert_array_equal(after[m][1], before[m][1])


@pytest.mark.parametrize("method", list(part8.METHODS))
def test_each_toggle_removes_its_own_arrow_only(method):
    before = arrows(figures.run("four-methods", STATE))
    after = arrows(figures.run("four-methods", {**STATE, f"{method}_on": False}))
    assert set(after) == set(before) - {method}
    for m in after:
        np.testing.assert_array_equal(after[m][1], before[m][1])


def test_inner_rate_zero_makes_maml_and_fomaml_coincide():
    scene = figures.run("four-methods", {**STATE, "maml_alpha": 0.0, "fomaml_alpha": 0.0})
    a = arrows(scene)
    np.testing.assert_allclose(a["maml"][1], a["fomaml"][1], rtol=0, atol=1e-12)
    assert readout(scene, "angle MAML–FOMAML") < 1e-5
    # and at the default inner rate they differ
    a = arrows(figures.run("four-methods", STATE))
    assert np.abs(a["maml"][1] - a["fomaml"][1]).max() > 1e-3


def test_reptile_with_one_step_is_joint_training_on_the_support_sets():
    eps, alpha = 0.7, 0.05
    scene = figures.run("four-methods", {**STATE, "reptile_k": 1, "reptile_alpha": alpha, "reptile_outer": eps})
    start, tip = arrows(scene)["reptile"]
    g = sum(grad(np.array(STATE["theta"]), xs, ys) for xs, ys, _, _ in task_data(0))   # Σ_i ∇L^tr_i(θ)
    step = tip - start
    assert abs(step[0] * g[1] - step[1] * g[0]) < 1e-9 * np.linalg.norm(g) ** 2    # parallel …
    np.testing.assert_allclose(step, -eps * alpha * g / 4, rtol=1e-9)                # … and θ − εα·mean ∇L^tr


def test_meta_objective_background_follows_the_inner_rate_and_only_its_own_method():
    base = figures.run("four-methods", STATE)
    heat = lambda s: np.array(next(L for L in s["panels"][0]["layers"] if L["kind"] == "heatmap")["z"], float)
    assert np.abs(heat(figures.run("four-methods", {**STATE, "maml_alpha": 0.02})) - heat(base)).max() > 0.01
    np.testing.assert_array_equal(heat(figures.run("four-methods", {**STATE, "fomaml_alpha": 0.02})), heat(base))
    imaml = {**STATE, "background": "imaml"}
    assert np.abs(heat(figures.run("four-methods", {**imaml, "imaml_alpha": 0.02}))
                  - heat(figures.run("four-methods", imaml))).max() > 0.01


def test_directions_only_draws_unit_arrows_along_the_same_directions():
    full, unit = arrows(figures.run("four-methods", STATE)), arrows(figures.run("four-methods", {**STATE, "unit": True}))
    for m in part8.METHODS:
        u = unit[m][1] - unit[m][0]
        v = full[m][1] - full[m][0]
        assert abs(np.linalg.norm(u) - part8.UNIT) < 1e-12
        np.testing.assert_allclose(u / part8.UNIT, v / np.linalg.norm(v), atol=1e-12)


def test_resample_draws_new_tasks_and_the_seed_reproduces_them():
    first = figures.run("four-methods", STATE, "resample")
    assert first["state"]["_seed"] == 1
    again = figures.run("four-methods", {**STATE, "_seed": 1})
    assert arrows(again)["maml"][1].tolist() == arrows(first)["maml"][1].tolist()
    assert arrows(again)["maml"][1].tolist() != arrows(figures.run("four-methods", STATE))["maml"][1].tolist()


def test_all_methods_off_and_garbage_state_give_a_message_not_an_error():
    scene = figures.run("four-methods", {f"{m}_on": False for m in part8.METHODS})
    assert "switch one on" in scene["message"] and not arrows(scene)
    scene = figures.run("four-methods", {"theta": "zz", "maml_k": "NaN", "_seed": [1], "imaml_lambda": -3})
    assert len(arrows(scene)) == 4


def test_imaml_residual_readout_is_the_proximal_stationarity_gap():
    state = figures.FIGURES["four-methods"].validate(STATE)
    _, alpha, k, lam, _ = part8.settings(state, "imaml")
    theta = np.array(STATE["theta"])
    gaps = [np.linalg.norm(grad(phi, xs, ys) + lam * (phi - theta))
            for xs, ys, _, _ in task_data(0) for phi in [adapt(theta, xs, ys, alpha, k, lam)]]
    got = readout(figures.run("four-methods", STATE), "iMAML inner residual")
    assert abs(got - max(gaps)) < 1e-9


# ------------------------------------------------------------------------------------------------- trajectories
TRAJ = {"theta": [0.2, 0.8], "updates": 40}


def final(figure_id, state, action=None):
    scene = None
    for scene in figures.run(figure_id, state, action):
        pass
    return scene


def paths(scene):
    return {L["class"]: np.array([L["x"], L["y"]]).T for L in scene["panels"][0]["layers"]
            if L["kind"] == "line" and L["class"] in part8.METHODS}


def test_trajectories_follow_the_known_meta_updates():
    scene = final("trajectories", TRAJ)
    state = figures.FIGURES["trajectories"].validate(TRAJ)
    data = task_data(0)
    for m, p in paths(scene).items():
        assert len(p) == 41
        rate = part8.outer_rate(state, m)
        for j in (0, 1):   # the first two updates, each from the previous point, by the known direction
            d = known_direction(m, data, p[j], state["alpha"], state["k"], state["lam"])
            np.testing.assert_allclose(p[j + 1], p[j] - rate * d, atol=1e-7)
        end = p[-1]
        assert abs(readout(scene, f"{part8.METHODS[m]}: MAML objective at the end")
                   - maml_objective(data, end, state["alpha"], state["k"])) < 1e-9
        assert abs(readout(scene, f"{part8.METHODS[m]}: joint loss at the end") - maml_objective(data, end, 0, 0)) < 1e-9


def test_trajectories_are_reproducible_from_the_state_and_stream_in_chunks():
    long = {**TRAJ, "updates": 2 * part8.TRAJ_CHUNK}
    part8._PATHS.clear()
    frames = list(figures.run("trajectories", long))
    assert len(frames) == 2 and readout(frames[0], "meta-updates") == part8.TRAJ_CHUNK
    assert len(list(figures.run("trajectories", long))) == 1     # remembered: no frames on the way
    more = list(figures.run("trajectories", {**long, "updates": 2 * part8.TRAJ_CHUNK + 20}))
    assert [readout(f, "meta-updates") for f in more] == [2 * part8.TRAJ_CHUNK + 20]
    assert len(list(figures.run("trajectories", TRAJ))) == 1     # the default fits one frame (the page's first)
    again = final("trajectories", dict(long))
    for m, p in paths(frames[-1]).items():
        np.testing.assert_array_equal(p, paths(again)[m])
    other = final("trajectories", {**long, "_seed": 3})
    assert not np.array_equal(paths(other)["maml"], paths(again)["maml"])


def test_maml_descends_its_objective_and_ends_near_its_minimum():
    scene = final("trajectories", {"updates": 400, "fomaml_on": False, "reptile_on": False, "imaml_on": False})
    state = figures.FIGURES["trajectories"].validate({})
    p = paths(scene)["maml"]
    data = task_data(0)
    values = [maml_objective(data, q, state["alpha"], state["k"]) for q in p[::40]]
    assert all(b <= a + 1e-12 for a, b in zip(values, values[1:]))
    grid_min = part8.argmin(part8._grid_objective(0, state["alpha"], state["k"]))
    assert values[-1] <= grid_min[2] + 1e-3


def test_extreme_settings_stay_finite_and_a_diverging_method_stops_with_a_message():
    scene = final("trajectories", {"theta": [1, 0], "alpha": 0.1, "k": 10, "beta": 0.5, "epsilon": 1, "updates": 100})
    assert "NaN" not in str(scene) and "None" not in str([r["value"] for r in scene["readouts"]])
    state = figures.FIGURES["trajectories"].validate({"theta": [1, 0]})
    entries = {m: {"path": [np.array([1.0, 0.0])], "why": None} for m in ("maml", "fomaml")}
    part8._advance(entries, part8.four_tasks(0), {**state, "beta": 1e4}, 5)
    for m, name in (("maml", "MAML"), ("fomaml", "FOMAML")):   # in lock-step: each stops on its own
        e = entries[m]
        assert f"{name} diverged after" in e["why"] and all(np.isfinite(p).all() for p in e["path"])


def test_trajectories_background_and_marks_are_the_known_objectives():
    """The joint-loss background is the k = 0 objective whatever α and k, the MAML one follows them; the three marks
    are the grid minima of both (by the loop above) and the mean of the text's task optima."""
    part8._BACKGROUNDS.clear()                                  # the maps computed here, not remembered
    part8._grid_objective.cache_clear()
    data, n = task_data(0), part8.N_GRID
    spots = ((0, 0), (12, 30), (40, 5))
    for bg, (alpha, k) in (("joint", (0.0, 0)), ("maml", (0.05, 2))):
        scene = final("trajectories", {"updates": 20, "alpha": 0.05, "k": 2, "background": bg, "reptile_on": False,
                                       "fomaml_on": False, "imaml_on": False})
        (heat,) = [ly for ly in scene["panels"][0]["layers"] if ly["kind"] == "heatmap"]
        for i, j in spots:
            want = np.log10(maml_objective(data, (j / (n - 1), i / (n - 1)), alpha, k))
            assert heat["z"][i][j] == pytest.approx(want, abs=1e-3)
        marks = {ly["label"]: (ly["x"][0], ly["y"][0]) for ly in scene["panels"][0]["layers"] if ly["kind"] == "points"
                 and ly["label"] in ("MAML objective minimum", "joint minimum", "mean of task optima")}
        assert marks["mean of task optima"] == pytest.approx((0.425, 0.05))
        for label, (a, kk) in (("joint minimum", (0.0, 0)), ("MAML objective minimum", (0.05, 2))):
            grid = part8._grid_objective(0, a, kk)
            i, j = np.unravel_index(np.argmin(grid), grid.shape)
            assert marks[label] == pytest.approx((j / (n - 1), i / (n - 1)))
            assert grid[i, j] == pytest.approx(maml_objective(data, marks[label], a, kk), rel=1e-9)


def test_advance_stops_a_method_at_the_first_update_that_is_not_finite_or_runs_away(monkeypatch):
    """Scripted directions: the update before a non-finite one (or one flagged non-finite, or one that leaves
    |θ| ≤ 10³) is the last kept, and the message counts the updates made."""
    state = figures.FIGURES["trajectories"].validate({})

    def scripted(script):
        return lambda thetas, *a, **k: {m: (lambda d, f: (d, {"nonfinite": f}))(*next(script)) for m in thetas}

    for bad in ((np.array([np.nan, 0.0]), False), (np.array([0.1, 0.0]), True), (np.array([-5e3, 0.0]), False)):
        monkeypatch.setattr(part8.meta, "meta_gradients", scripted(iter([(np.array([0.1, 0.0]), False)] * 3 + [bad])))
        entries = {"maml": {"path": [np.array([0.5, 0.5])], "why": None}}
        part8._advance(entries, None, state, 10)
        path = entries["maml"]["path"]
        assert entries["maml"]["why"] == "MAML diverged after 3 updates (lower the rates)" and len(path) == 4
        np.testing.assert_allclose(path[-1], [0.5 - 3 * 0.05, 0.5])      # β = 0.5: each step 0.5 · 0.1
    monkeypatch.setattr(part8.meta, "meta_gradients", scripted(iter([(np.array([0.1, 0.0]), False)] * 2)))
    entries = {"reptile": {"path": [np.array([0.5, 0.5])], "why": None}}
    part8._advance(entries, None, {**state, "epsilon": 0.2}, 2)
    assert entries["reptile"]["why"] is None
    np.testing.assert_allclose(entries["reptile"]["path"][-1], [0.5 - 2 * 0.02, 0.5])   # Reptile's rate is ε, not β


def test_method_settings_and_rates_each_read_their_own_keys():
    state = figures.FIGURES["four-methods"].validate({"maml_outer": 0.3, "maml_alpha": 0.02, "maml_k": 4,
                                                      "imaml_lambda": 7.5})
    assert part8.settings(state, "maml") == (0.3, 0.02, 4, None, None)
    assert part8.settings(state, "imaml")[3:] == (7.5, part8.CG_STEPS) == (7.5, 2)
    assert part8.outer_rate({"epsilon": 0.3, "beta": 0.7}, "reptile") == 0.3
    assert part8.outer_rate({"epsilon": 0.3, "beta": 0.7}, "imaml") == 0.7
    base = figures.FIGURES["four-methods"].validate({})
    for bg in ("joint", "task2"):
        assert part8._background_key({**base, "background": bg}) == (0.0, 0, None)
    assert part8._background_key({**base, "background": "imaml", "imaml_alpha": 0.03, "imaml_k": 7}) == (0.03, 7, 5.0)


def test_angle_helper_known_answers():
    assert part8.angle([1.0, 0.0], [0.0, 2.0]) == pytest.approx(90.0)
    assert part8.angle([1.0, 1.0], [3.0, 0.0]) == pytest.approx(45.0)
    u = np.array([0.7148085531751387, -0.9328288493890713])             # cos rounds to ±1.0000000000000002
    assert part8.angle(u, 7.323588919656446 * u) == 0.0
    assert part8.angle(u, -7.323588919656446 * u) == 180.0
    for a, b in (([0.0, 0.0], [1.0, 0.0]), ([1.0, 0.0], [0.0, 0.0]), ([np.inf, 0.0], [1.0, 0.0]),
                 ([1.0, 0.0], [np.nan, 1.0]), ([np.nan, 0.0], [1.0, 0.0])):
        assert part8.angle(np.array(a), np.array(b)) is None


def test_four_description_by_hand():
    state = {"background": "joint", "unit": False}
    steps = {"maml": (None, np.array([0.1234, -0.5])), "reptile": (None, np.array([-0.02, 0.3]))}
    readouts = [{"label": "angle MAML–Reptile", "value": 12.34}, {"label": "angle MAML–FOMAML", "value": None},
                {"label": "MAML objective at θ", "value": 1.0}]
    text = part8._four_description(state, np.array([0.1, 0.45]), steps, readouts)
    assert text == ("θ = (0.10, 0.45) on a map of the joint-training loss Σ L_i(θ) over the unit square (a horizontal, "
                    "b vertical), with the optima of the four tasks marked. Arrows show the meta-updates θ → θ − rate·d; "
                    "the steps are MAML (+0.123, -0.500), Reptile (-0.020, +0.300). Angles between the directions: "
                    "MAML–Reptile 12.3°.")
    unit = part8._four_description({**state, "unit": True}, np.array([0.1, 0.45]), steps, readouts[1:])
    assert "Arrows show unit-length directions; the steps are" in unit and unit.endswith("+0.300). ")
    assert part8._four_description(state, np.array([0.1, 0.45]), {}, []).endswith("marked. No method is switched on.")


# ------------------------------------------------------------------------------------------------- the sine race
def first_update_native(method, seed):
    """θ after one meta-update and its held-out medians, recomputed from the seed: the trainer's own recipe
    (init, then one batch of 25 tasks from the same Generator, then one Adam step, whose first step is
    β·d/(|d| + ε/√(1 − β₂)) in `mamlviz.optim`'s folded form), the held-out tasks from the evaluation seed."""
    from mamlviz.meta import meta_gradient

    config = part8.race_config(method)
    model = MLP()
    rng = np.random.default_rng(seed)
    theta = model.init(rng)
    batch = sine.sample(rng, config.n_tasks, config.n_support, config.n_query)
    name = "maml" if method == "pretrained" else method
    d, _ = meta_gradient(name, model, theta, batch, inner_lr=config.inner_lr, inner_steps=config.inner_steps,
                         reg=config.reg, cg_steps=config.cg_steps)
    theta = theta - config.outer_lr * d / (np.abs(d) + 1e-8 / math.sqrt(1 - 0.999))  # Adam's step folded (ε/√(1−β₂))
    ev = sine.sample(np.random.default_rng(config.eval_seed), config.eval_tasks, config.eval_support,
                     config.eval_query)
    per_task = []
    for i in range(ev.n_tasks):
        phi = theta.copy()
        for _ in range(config.inner_steps):      # the method's own inner procedure, task by task
            g = model.loss_grad(phi, ev.xs[i], ev.ys[i])[1]
            if method != "imaml":
                phi = phi - config.inner_lr * g
                continue
            r = g + config.reg * (phi - theta)   # iMAML: a curvature-sized step along r, at most α
            curvature = r @ model.hvp(phi, ev.xs[i], ev.ys[i], r) + config.reg * (r @ r)
            phi = phi - (min(r @ r / curvature, config.inner_lr) if curvature > 0 else config.inner_lr) * r
        one_step = theta - part8.SHARED_LR * model.loss_grad(theta, ev.xs[i], ev.ys[i])[1]
        per_task.append((model.loss(phi, ev.xq[i], ev.yq[i]), model.loss(one_step, ev.xq[i], ev.yq[i])))
    own, shared = np.median(np.array(per_task), axis=0)
    return theta, float(own), float(shared)


@pytest.fixture
def clean_race():
    figures.sessions.pop("sine-race", None)
    figures.trained.pop("sine-race", None)
    yield
    figures.sessions.pop("sine-race", None)
    figures.trained.pop("sine-race", None)


def test_race_first_update_equals_the_native_recomputation(clean_race):
    scene = figures.run("sine-race", {"seed": 2}, "step")
    race = figures.sessions["sine-race"]
    for m, name in part8.RACERS.items():
        theta, own, shared = first_update_native(m, 2)
        np.testing.assert_allclose(race["trainers"][m].theta, theta, rtol=1e-9, atol=1e-12)
        assert readout(scene, f"{name}: own procedure") == pytest.approx(own, rel=1e-9)
        assert readout(scene, f"{name}: one shared step") == pytest.approx(shared, rel=1e-9)
    assert readout(scene, "meta-updates") == 1


def test_race_streams_learning_curves_for_every_method_and_pauses(clean_race):
    frames = list(figures.run("sine-race", {"budget": 100}, "start"))
    last = frames[-1]
    assert last["description"].startswith("Finished after 100")
    for panel in last["panels"]:
        lines = {L["class"]: L for L in panel["layers"] if L["kind"] == "line" and "recorded" not in L["class"]}
        assert set(lines) == set(part8.RACERS)
        for L in lines.values():
            assert len(L["x"]) == 3 and all(v is not None and v >= 0 for v in L["y"])   # updates 0, 50, 100
    # MAML learns: its held-out error after its inner step falls below the initial one
    curve = figures.sessions["sine-race"]["curves"]["maml"]
    assert curve[-1][2] < curve[0][2]
    # pressing Start at the budget says so; a paused race keeps its numbers; Reset clears it
    assert "Reached" in figures.run("sine-race", {"budget": 100}, "start")["message"]
    assert figures.run("sine-race", {"budget": 100})["description"].startswith("Paused after 100")
    assert figures.run("sine-race", {}, "reset")["description"].startswith("Ready")


def test_race_publishes_its_models_as_it_goes_and_reset_withdraws_them(clean_race):
    figures.run("sine-race", {"seed": 1}, "step")
    race = figures.sessions["sine-race"]
    published = figures.trained["sine-race"]
    assert published["iteration"] == 1 and published["seed"] == 1
    for m in part8.RACERS:
        np.testing.assert_array_equal(published["thetas"][m], race["trainers"][m].theta)
    stream = figures.run("sine-race", {"seed": 1, "budget": 100}, "start")
    for _ in range(2):
        next(stream)
    stream.close()        # what the worker does when Pause supersedes the stream: the models as they are then
    assert figures.trained["sine-race"]["iteration"] == part8.race_iteration(race) > 1
    figures.run("sine-race", {}, "reset")
    assert figures.trained["sine-race"] is None
    assert "No race has run yet" in figures.run("race-fit", {})["message"]


def test_race_fit_fits_the_published_models_not_the_race_in_this_process(clean_race):
    """In the browser the race trains in another worker: race-fit sees only what arrives through `receive`."""
    rng = np.random.default_rng(5)
    thetas = {m: MLP().init(rng) for m in part8.RACERS}
    figures.receive("sine-race", json.dumps({"seed": 0, "iteration": 7, "thetas": {m: t.tolist() for m, t in
                                                                                    thetas.items()}}))
    assert "sine-race" not in figures.sessions
    pts = [[-1.0, 0.0], [2.0, 0.0]]
    scene = figures.run("race-fit", {"points": pts, "steps": 3, "alpha": 0.002, "amplitude": 1.5, "phase": 0.5})
    assert scene["message"] is None or "No race" not in scene["message"]
    assert "after 7 race updates" in scene["description"]
    xs = np.array([-1.0, 2.0])
    ys = 1.5 * np.sin(xs - 0.5)
    x = np.linspace(-5, 5, 201)
    model = MLP()
    for m, name in part8.RACERS.items():
        phi = thetas[m]
        for _ in range(3):
            phi = phi - 0.002 * model.loss_grad(phi, xs[:, None], ys[:, None])[1]
        want = np.mean((model.predict(phi, x[:, None])[:, 0] - 1.5 * np.sin(x - 0.5)) ** 2)
        assert readout(scene, f"{name}: MSE") == pytest.approx(want, rel=1e-9), name


def test_race_fit_uses_the_raced_models_and_handles_zero_points(clean_race):
    scene = figures.run("race-fit", {})
    assert "No race has run yet" in scene["message"]
    figures.run("sine-race", {"seed": 1}, "step")
    pts = [[-2.0, 0.0], [1.0, 0.0], [3.0, 0.0]]
    scene = figures.run("race-fit", {"points": pts, "steps": 2, "alpha": 0.001})
    race = figures.sessions["sine-race"]
    xs = np.array([p[0] for p in pts])
    ys = 3.0 * np.sin(xs - 1.0)
    x = np.linspace(-5, 5, 201)
    model = MLP()
    for m, name in part8.RACERS.items():
        phi = race["trainers"][m].theta
        for _ in range(2):
            phi = phi - 0.001 * model.loss_grad(phi, xs[:, None], ys[:, None])[1]
        want = np.mean((model.predict(phi, x[:, None])[:, 0] - 3.0 * np.sin(x - 1.0)) ** 2)
        assert readout(scene, f"{name}: MSE") == pytest.approx(want, rel=1e-9)
    empty = figures.run("race-fit", {}, "clear")
    assert "No support points" in empty["message"] and empty["state"]["points"] == []


# ------------------------------------------------------------------------------------- Part 9: the cost table
def test_cost_figure_times_every_method_round_by_round_and_says_what_it_measured():
    assert "Press Measure" in figures.run("cost-per-update", {})["message"]
    frames = list(figures.run("cost-per-update", {"updates": 3}, "measure"))
    last = frames[-1]
    assert len(frames) == 3 + 1 and last["message"] is None and "fastest of 3 of 3 rounds" in last["description"]
    for name in part8.RACERS.values():
        assert readout(last, f"{name}: ms per update") > 0
    assert readout(last, "pretrained: × pretrained") == 1.0
    assert readout(last, "MAML: × pretrained") == pytest.approx(
        readout(last, "MAML: ms per update") / readout(last, "pretrained: ms per update"))
    bars = [L for L in last["panels"][0]["layers"] if L["kind"] == "line" and L["class"] in part8.RACERS]
    assert [L["class"] for L in bars] == list(part8.RACERS)
    for L in bars:   # each bar is as long as its readout says
        assert abs(L["x"][1] - readout(last, f"{part8.RACERS[L['class']]}: ms per update")) < 1e-9
    # beside them, the times measured on this project's machine, from the data file the text is built from
    ours = part9.measured().get("browser", {}).get("ms_per_update", {})
    muted = [L["x"][1] for L in last["panels"][0]["layers"] if L["kind"] == "line" and L["class"] == "muted"]
    assert muted == [ours[m] for m in part8.RACERS if m in ours]


def test_time_rounds_keeps_the_fastest_update_of_every_method_so_far():
    rounds = list(part9.time_rounds(3))
    assert len(rounds) == 3 and all(set(r) == set(part8.RACERS) for r in rounds)
    for a, b in zip(rounds, rounds[1:]):
        assert all(0 < b[m] <= a[m] for m in part8.RACERS)


def test_bytes_kept_per_task_are_those_of_the_arrays_each_method_keeps():
    p = MLP().size
    assert part9.kept_per_task("fomaml") == part9.kept_per_task("reptile") == 8 * p     # φ^(k) of each task
    assert part9.kept_per_task("pretrained") == 8 * p / 10                              # θ itself, shared by 10 tasks
    assert part9.kept_per_task("maml") > 8 * p and part9.kept_per_task("imaml") > 8 * p  # and a linearisation


def test_cost_figure_draws_known_times_where_they_belong(monkeypatch):
    """With the timer replaced by known times: bars from 0 to each time (ours in grey beside them), labels above
    their bars, the axis to 1.1 × the longest time, the frames' messages, and the description's numbers."""
    from mamlviz.figures import part9

    known = {m: 0.002 * (i + 1) for i, m in enumerate(part8.RACERS)}   # seconds: 2, 4, 6, … ms
    monkeypatch.setattr(part9, "time_rounds", lambda n, seed=0: (dict(known) for _ in range(n)))
    monkeypatch.setattr(part9, "recorded_run", lambda figure_id: None)    # the recorded run: tests/test_recorded_runs
    ours = part9.measured().get("browser", {}).get("ms_per_update", {})
    frames = list(figures.run("cost-per-update", {"updates": 3}, "measure"))
    assert [f["message"] for f in frames] == ["Measuring…"] * 3 + [None]
    last = frames[-1]
    panel = last["panels"][0]
    n = len(part8.RACERS)
    right = 1.1 * max([2.0 * n] + list(ours.values()))
    assert panel["xlim"] == pytest.approx([0, right]) and panel["ylim"] == pytest.approx([-0.5, n - 0.2])
    for i, (m, name) in enumerate(part8.RACERS.items()):
        (bar,) = [L for L in panel["layers"] if L["kind"] == "line" and L["class"] == m]
        assert bar["x"] == pytest.approx([0, 2.0 * (i + 1)]) and bar["y"] == pytest.approx([i + 0.2, i + 0.2])
        (label,) = [L for L in panel["layers"] if L["kind"] == "label" and L["class"] == m]
        assert label["at"] == pytest.approx([0, i + 0.4])
        assert f"{name} {2.0 * (i + 1):#.3g} ms" in last["description"]
        assert readout(last, f"{name}: × pretrained") == pytest.approx(i + 1.0)
    grey = [(L["x"][1], L["y"][0]) for L in panel["layers"] if L["class"] == "muted"]
    assert grey == [(ours[m], pytest.approx(i)) for i, m in enumerate(part8.RACERS) if m in ours]
    assert "not measured yet" in figures.run("cost-per-update", {})["description"]


def test_cost_scene_by_hand_with_known_times_here_and_there(monkeypatch):
    """_cost_scene with the data file replaced: partial timings (not every racer yet), the grey bars of "ours", the
    title's round count, the axis floor of 1 ms, the legend and the description's two halves."""
    from mamlviz.figures import part9

    ours = {"maml": 0.5, "imaml": 0.25}
    monkeypatch.setattr(part9, "measured", lambda: {"browser": {"ms_per_update": ours, "browser": "TestBrowser 1"}})
    monkeypatch.setattr(part9, "recorded_run", lambda figure_id: None)    # the recorded run: tests/test_recorded_runs
    scene = part9._cost_scene({"pretrained": 0.0002, "maml": 0.0008}, 2, 5, None)
    (panel,) = scene["panels"]
    assert panel["title"] == "Time of one meta-update (fastest of 2 rounds)" and panel["yticks"] is False
    assert panel["xlim"] == pytest.approx([0, 1.1])                   # every time below 1 ms: the axis ends at 1.1
    index = {m: i for i, m in enumerate(part8.RACERS)}
    grey = [(L["x"], L["y"]) for L in panel["layers"] if L["class"] == "muted"]
    assert grey == [([0, 0.5], pytest.approx([index["maml"]] * 2)),
                    ([0, 0.25], pytest.approx([index["imaml"]] * 2))]
    values = {r["label"]: r["value"] for r in scene["readouts"]}
    assert values["MAML: × pretrained"] == pytest.approx(4.0) and values["pretrained: × pretrained"] == 1.0
    assert values["Reptile: ms per update"] is None and values["Reptile: × pretrained"] is None
    assert [x["class"] for x in scene["legend"]] == ["maml", "muted"]
    assert scene["description"].endswith("the fastest of 2 of 5 rounds in this browser: pretrained 0.200 ms, MAML 0.800 ms. "
                                         "Measured on this project's machine (TestBrowser 1): MAML 0.5 ms, iMAML 0.2 ms.")
    no_base = part9._cost_scene({"maml": 0.003}, 1, 5, None)             # pretrained not timed: no ratio
    assert {r["label"]: r["value"] for r in no_base["readouts"]}["MAML: × pretrained"] is None
    assert no_base["panels"][0]["xlim"] == pytest.approx([0, 3.3])
    monkeypatch.setattr(part9, "measured", lambda: {})
    first = part9._cost_scene({}, 0, 5, "Measuring…")
    assert first["panels"][0]["title"] == "Time of one meta-update" and first["legend"] == []
    assert first["description"].endswith("the fastest of 0 of 5 rounds in this browser: not measured yet.")
    assert [L["class"] for L in first["panels"][0]["layers"]] == list(part8.RACERS)     # the names only
    frames = part9._measure(5)
    assert next(frames) == first
    frames.close()


def test_time_rounds_is_the_fastest_timed_update_so_far(monkeypatch):
    from mamlviz.figures import part9

    durations = [[3.0, 1.0, 2.0, 5.0, 4.0], [1.0, 2.0, 3.0, 4.0, 6.0], [2.0, 0.5, 1.0, 9.0, 4.0]]  # round × racer
    timed = iter(d for row in durations for d in row)                   # each racer's round, as clock.per_call says
    monkeypatch.setattr(part9.clock, "per_call", lambda fn: (next(timed), 100))
    rounds = list(part9.time_rounds(3))
    for r in range(3):
        want = {m: min(durations[j][i] for j in range(r + 1)) for i, m in enumerate(part8.RACERS)}
        assert rounds[r] == want


def test_race_fit_with_each_methods_own_procedure(clean_race):
    figures.run("sine-race", {"seed": 1}, "step")
    xs = np.array([-3.0, -1.0, 0.5, 2.5])
    scene = figures.run("race-fit", {"points": [[x, 0.0] for x in xs], "adapt": "own", "amplitude": 2.0})
    ys = 2.0 * np.sin(xs - 1.0)
    x = np.linspace(-5, 5, 201)
    model = MLP()
    for m in ("pretrained", "reptile"):     # no step at all; five steps at Reptile's own α
        config = part8.race_config(m)
        phi = figures.sessions["sine-race"]["trainers"][m].theta
        for _ in range(config.inner_steps):
            phi = phi - config.inner_lr * model.loss_grad(phi, xs[:, None], ys[:, None])[1]
        want = np.mean((model.predict(phi, x[:, None])[:, 0] - 2.0 * np.sin(x - 1.0)) ** 2)
        got = readout(scene, f"{part8.RACERS[m]}: MSE")
        assert got is None or got == pytest.approx(want, rel=1e-9)
    assert readout(scene, "pretrained: MSE") == pytest.approx(
        np.mean((model.predict(figures.sessions["sine-race"]["trainers"]["pretrained"].theta, x[:, None])[:, 0]
                 - 2.0 * np.sin(x - 1.0)) ** 2), rel=1e-9)


# ------------------------------------------------------------------------------- the race's pieces, by hand
def test_race_settings_are_the_texts_table():
    """10 tasks per update, K = 10 and 10 query points, outer Adam at 0.01, 50 held-out tasks judged after one
    shared step at α = 0.01 on K = 10 points, and each method's inner settings as the table of the text gives them."""
    from mamlviz.site.measured import fill

    text = fill((Path(__file__).resolve().parents[1] / "content" / "08-comparison.md").read_text())   # as printed
    assert "10 tasks per meta-update" in text and "$K = 10$ support and 10 query points" in text
    assert "outer Adam\nwith step $0.01$" in text and "the same 50 held-out tasks" in text
    assert "one shared SGD step at $\\alpha = 0.01$ on $K = 10$ points" in text and part8.SHARED_LR == 0.01
    rows = {"pretrained": "| pretrained | none | $k$ = 0 |",
            "maml": "| MAML | SGD on the support set, backpropagated through | $k$ = 1, $\\alpha$ = 0.01 |",
            "fomaml": "| FOMAML | SGD on the support set | $k$ = 1, $\\alpha$ = 0.01 |",
            "reptile": "| Reptile | SGD on the support set (query set unused) | $k$ = 5, $\\alpha$ = 0.005 |",
            "imaml": "$k$ = 10 steps of at most 0.01, $\\lambda$ = 100, 5 CG steps |"}
    inner = {"pretrained": (0, None), "maml": (1, 0.01), "fomaml": (1, 0.01), "reptile": (5, 0.005),
             "imaml": (10, 0.01)}
    for m, row in rows.items():
        assert row in text
        c = part8.race_config(m)
        assert (c.n_tasks, c.n_support, c.n_query, c.outer_lr, c.optimizer) == (10, 10, 10, 0.01, "adam")
        assert (c.eval_tasks, c.eval_support, c.eval_query) == (50, 10, 25)
        k, alpha = inner[m]
        assert c.inner_steps == k and (alpha is None or c.inner_lr == alpha)
    assert (part8.race_config("imaml").reg, part8.race_config("imaml").cg_steps) == (100.0, 5)


def test_race_panel_by_hand():
    curves = {"maml": [(0, 0.0, 2.0), (50, 1.5, 0.5)], "reptile": [(0, 0.0, 2000.0)]}
    panel = part8._race_panel(curves, 0, "meta-updates")
    assert panel["title"] == "MSE after own procedure, by meta-updates" and panel["xlabel"] == "meta-updates"
    recorded = [ly for ly in panel["layers"] if "recorded" in ly["class"]]     # the recorded race, drawn first
    assert len(recorded) == 4 * len(part8.RACERS) and panel["layers"][:len(recorded)] == recorded
    assert [(ly["kind"], ly["class"], ly["x"], ly["y"]) for ly in panel["layers"][len(recorded):]] == [
        ("line", "maml", [0, 50], [2.0, 0.5]), ("line", "reptile", [0], [1000.0]),
        ("points", "reptile", [0], [1000.0])]                         # a lone point is drawn; y capped at 10³
    assert panel["xlim"] == [0, 1000] and panel["ylim"] == pytest.approx([0, 10.5])     # the recorded 1000; top ≤ 10
    alone = part8._race_panel(curves, 0, "meta-updates", "shared")          # no recorded run of the shared step
    assert alone["xlim"] == [0, 100] and alone["ylim"] == pytest.approx([0, 10.5])
    panel = part8._race_panel(curves, 1, "seconds (this browser)", "shared")
    assert panel["title"] == "MSE after one shared step, by seconds" and panel["layers"][0]["x"] == [0.0, 1.5]
    assert panel["xlim"] == [0, 1.5]
    small = part8._race_panel({"maml": [(0, 0.0, 2.0), (150, 0.5, 4.4)]}, 0, "meta-updates", "shared")
    assert small["xlim"] == [0, 150] and small["ylim"] == pytest.approx([0, 4.4 * 1.05])
    assert part8._race_panel({}, 1, "seconds")["xlim"] == [0, 1.0]
    assert part8._race_panel({"maml": [(0, 0.2, 1.0)]}, 1, "s")["ylim"] == pytest.approx([0, 4.2])   # at least 4


def fake_race():
    from types import SimpleNamespace as T

    trainers = {m: T(iteration=100, diverged=False, message="") for m in part8.RACERS}
    trainers["reptile"] = T(iteration=100, diverged=True, message="overflow at update 80")
    curves = {m: [(0, 0.0, 3.0 + i, 4.0 + i), (100, 2.0 + i, 0.5 + i, 0.25 + i)] for i, m in enumerate(part8.RACERS)}
    seconds = {m: 2.0 + i for i, m in enumerate(part8.RACERS)}
    return {"seed": 3, "trainers": trainers, "curves": curves, "seconds": seconds}


def test_race_scene_by_hand():
    race = fake_race()
    scene = part8.race_scene({"curve": "shared"}, race, "hello", "paused")
    values = {r["label"]: r["value"] for r in scene["readouts"]}
    assert values["meta-updates"] == 100
    for i, (m, name) in enumerate(part8.RACERS.items()):
        assert (values[f"{name}: own procedure"], values[f"{name}: one shared step"], values[f"{name}: seconds"]) \
            == (0.5 + i, 0.25 + i, 2.0 + i)
    line = next(ly for ly in scene["panels"][0]["layers"] if ly["class"] == "maml")
    assert line["y"] == [4.0 + 1, 0.25 + 1] and line["x"] == [0, 100]          # the shared step's column
    line = next(ly for ly in scene["panels"][1]["layers"] if ly["class"] == "maml")
    assert line["x"] == [0.0, 3.0]
    assert next(ly for ly in part8.race_scene({"curve": "own"}, race)["panels"][0]["layers"]
                if ly["class"] == "maml")["y"] == [3.0 + 1, 0.5 + 1]
    assert scene["message"] == "hello Reptile: overflow at update 80"
    assert scene["description"] == (
        "Paused after 100 meta-updates of each method (seed 3); held-out median MSE at update 100, after each "
        "method's own inner procedure / after one shared SGD step at α = 0.01: pretrained 0.500 / 0.250; "
        "MAML 1.500 / 1.250; FOMAML 2.500 / 2.250; Reptile 3.500 / 3.250; iMAML 4.500 / 4.250.")
    assert scene["state"] == {"_status": "paused"}
    empty = part8.race_scene({"curve": "own"}, None)
    assert empty["readouts"] == [{"label": "meta-updates", "value": 0, "format": "d"}]
    assert empty["message"].startswith("Press Start") and empty["panels"][0]["xlim"] == [0, 1000]   # recorded
    assert empty["panels"][1]["xlim"] == [0, 1.0]


def test_race_round_times_each_racer_and_evaluates_when_asked(monkeypatch):
    race = fake_race()
    stepped = []
    for m, t in race["trainers"].items():
        t.step = (lambda m=m, t=t: (stepped.append(m), setattr(t, "iteration", t.iteration + 1)))
    ticks = iter(float(v) for v in range(0, 1000, 5))                  # every timed update lasts 5 s
    monkeypatch.setattr(part8.clock, "now", lambda: next(ticks))
    monkeypatch.setattr(part8, "held_out", lambda t: (t.iteration / 1000, 7.0))
    before = {m: len(c) for m, c in race["curves"].items()}
    part8.race_round(race, evaluate_now=False)
    assert stepped == [m for m in part8.RACERS if m != "reptile"]      # a diverged racer is left alone
    assert race["seconds"] == {m: 2.0 + i + (m != "reptile") * 5.0 for i, m in enumerate(part8.RACERS)}
    assert {m: len(c) for m, c in race["curves"].items()} == before
    part8.race_round(race, evaluate_now=True)
    assert race["curves"]["maml"][-1] == (102, 13.0, 0.102, 7.0) and race["curves"]["reptile"][-1] == (100, 5.0, 0.1, 7.0)
    assert part8.race_iteration(race) == 102


def test_trajectories_scene_ends_titles_and_messages():
    state = {"updates": 80, "alpha": 0.05, "k": 2, "fomaml_on": False, "reptile_on": False, "imaml_on": False}
    part8._PATHS.clear()                                          # computed here, so streamed in two frames
    frames = list(figures.run("trajectories", state))
    assert [f["panels"][0]["title"] for f in frames] == [
        "MAML objective, log₁₀ (computing: 40 of 80 updates so far)", "MAML objective, log₁₀"]
    last = frames[-1]
    p = paths(last)["maml"]
    (end,) = [ly for ly in last["panels"][0]["layers"] if ly.get("label") == "MAML end"]
    assert (end["x"], end["y"]) == ([p[-1, 0]], [p[-1, 1]]) and len(p) == 81
    assert last["message"] is None and last["legend"][0] == {"class": "maml", "label": "MAML"}
    joint = final("trajectories", {**state, "background": "joint", "updates": 20})
    assert joint["panels"][0]["title"] == "joint-training loss, log₁₀"
    off = final("trajectories", {**state, "maml_on": False, "updates": 20})
    assert off["message"] == "All methods are switched off: switch one on to draw its trajectory."
    assert {r["label"]: r["value"] for r in off["readouts"]}["MAML: MAML objective at the end"] is None


def test_trajectories_description_and_markers_by_hand():
    readouts = [{"label": "MAML: MAML objective at the end", "value": 0.12345},
                {"label": "MAML: joint loss at the end", "value": 0.5},
                {"label": "Reptile: MAML objective at the end", "value": 0.2},
                {"label": "Reptile: joint loss at the end", "value": 0.25}]
    text = part8._trajectories_description({"theta": [0.2, 0.8], "alpha": 0.05, "k": 3},
                                           {"maml": np.array([0.31, 0.42]), "reptile": np.array([0.5, 0.6])},
                                           readouts, 40, (0.11, 0.22, 9.0), (0.33, 0.44, 8.0))
    assert text == ("Each enabled method runs 40 meta-updates from θ₀ = (0.20, 0.80) with α = 0.05, k = 3. MAML ends "
                    "at (0.31, 0.42), MAML objective 0.1235, joint loss 0.5000. Reptile ends at (0.50, 0.60), MAML "
                    "objective 0.2000, joint loss 0.2500. On the grid, the MAML objective is lowest at (0.11, 0.22) "
                    "and the joint loss at (0.33, 0.44).")
    points, *labels = part8._markers([])
    assert (points["x"], points["y"]) == ([0.0, 1.0, 0.2, 0.5], [0.0, 0.0, 0.0, 0.2])   # the text's task optima
    assert [ly["text"] for ly in labels] == ["τ₁", "τ₂", "τ₃", "τ₄"]
    np.testing.assert_allclose([ly["at"] for ly in labels], [[0.01, 0.04], [0.93, 0.04], [0.21, 0.04], [0.51, 0.24]])


def test_race_stream_frames_rounds_and_publishing(monkeypatch):
    """_race_stream with stand-in blocks (the first racer's block sets the round: 2 updates; the others reach it in
    one block, a diverged racer stays put) and a clock that advances 1/4 s per reading, a hand-over every 1/2 s:
    a frame after every block, every racer but the diverged one at the budget, hand-overs at most every 1/2 s and
    at the end. (Timing and evaluation inside a block: tests/test_clock.py.)"""
    from types import SimpleNamespace as T

    now = T(t=1.0)

    def tick():
        now.t += 0.25
        return now.t

    race = {"trainers": {m: T(iteration=0, diverged=m == "reptile") for m in part8.RACERS}}
    blocks, published = [], []

    def fake_block(race, m, goal, budget):
        t = race["trainers"][m]
        t.iteration = min(goal, t.iteration + 2) if m == "pretrained" else goal
        blocks.append((m, t.iteration))
        return t.iteration

    def fake_publish(race):
        published.append((now.t, part8.race_iteration(race)))
        race["published"] = now.t

    monkeypatch.setattr(part8, "race_block", fake_block)
    monkeypatch.setattr(part8, "publish_race", fake_publish)
    monkeypatch.setattr(part8, "race_scene", lambda state, race, message, status: (status, part8.race_iteration(race)))
    monkeypatch.setattr(part8.clock, "now", tick)
    monkeypatch.setattr(part8, "RACE_PUBLISH_SECONDS", 0.5)
    frames = list(part8._race_stream({"budget": 5}, race, None))
    racing = [m for m in part8.RACERS if m != "reptile"]
    assert blocks == [(m, goal) for goal in (2, 4, 5) for m in racing]
    assert frames == [("training", 0)] + [("training", goal) for goal in (2, 4, 5) for _ in racing] + [("finished", 5)]
    assert {m: t.iteration for m, t in race["trainers"].items()} == {m: 0 if m == "reptile" else 5 for m in part8.RACERS}
    times = [t for t, _ in published]
    assert all(b - a >= 0.5 for a, b in zip(times[:-1], times[1:-1])) and published[-1][1] == 5


@pytest.mark.parametrize("method", ["pretrained", "reptile"])
def test_held_out_is_the_median_query_mse_after_the_own_procedure_and_one_shared_step(method):
    """Task by task with the model's loss and gradient (the core's tests check them): k steps at the method's α for
    its own procedure (none for the pretrained model, five at 0.005 for Reptile), one step at 0.01 for the shared."""
    from mamlviz.train import MetaTrainer

    trainer = MetaTrainer(method, part8.MLP_MODEL, part8.race_config(method), seed=2)
    c, b, model, theta = trainer.config, trainer.eval_batch, trainer.model, trainer.theta
    own, shared = [], []
    for i in range(b.n_tasks):
        phi = theta.copy()
        for _ in range(c.inner_steps):
            phi = phi - c.inner_lr * model.loss_grad(phi, b.xs[i], b.ys[i])[1]
        own.append(model.loss(phi, b.xq[i], b.yq[i]))
        one = theta - 0.01 * model.loss_grad(theta, b.xs[i], b.ys[i])[1]
        shared.append(model.loss(one, b.xq[i], b.yq[i]))
    assert part8.held_out(trainer) == pytest.approx((np.median(own), np.median(shared)), rel=1e-10)
    race = part8.new_race(2) if method == "pretrained" else None
    if race:
        assert race["seconds"] == dict.fromkeys(part8.RACERS, 0.0)
        (first,) = race["curves"]["pretrained"]
        assert first[:2] == (0, 0.0) and first[2:] == pytest.approx((np.median(own), np.median(shared)), rel=1e-10)


def test_trajectories_remember_each_path_and_answer_complete_when_nothing_is_left(monkeypatch):
    """The coarse answer draws what is remembered: nothing yet → the first TRAJ_COARSE updates on the coarse grid;
    everything (the same state again, a method switched off, the other background, fewer updates) → the final frame
    itself, flagged complete. A slider of one method recomputes only that method's path, and remembered paths give
    the numbers of a fresh computation."""
    part8._PATHS.clear()
    part8._GRIDS_KNOWN.clear()
    state = figures.FIGURES["trajectories"].validate({**TRAJ, "theta": [0.25, 0.75]})
    coarse = figures.run("trajectories", state, coarse=True)
    assert "complete" not in coarse and all(len(p) == part8.TRAJ_COARSE + 1 for p in paths(coarse).values())
    full = final("trajectories", state)
    again = figures.run("trajectories", state, coarse=True)
    assert again.pop("complete") is True and again == figures._jsonable(full)
    for patch in ({"maml_on": False}, {"background": "joint"}, {"updates": 20}):
        c = figures.run("trajectories", {**state, **patch}, coarse=True)
        assert c.pop("complete") is True and c == final("trajectories", {**state, **patch}), patch
    longer = {**state, "updates": 80}
    c = figures.run("trajectories", longer, coarse=True)
    assert "complete" not in c and all(len(p) == 41 for p in paths(c).values())   # the 40 remembered
    made = []
    directions = part8.meta.meta_gradients
    monkeypatch.setattr(part8.meta, "meta_gradients", lambda thetas, *a, **k: made.extend(thetas) or
                        directions(thetas, *a, **k))
    got = final("trajectories", longer)
    assert sorted(set(made)) == sorted(part8.METHODS) and len(made) == 4 * 40    # only the 40 new updates
    made.clear()
    final("trajectories", {**longer, "epsilon": 0.5})
    assert set(made) == {"reptile"}
    part8._PATHS.clear()
    for m, p in paths(final("trajectories", longer)).items():
        np.testing.assert_array_equal(p, paths(got)[m])
