"""Part 5: the curvature figure against the closed form; Lanczos against a dense eigen-solver; the MAML/FOMAML
figure's first point against an independent computation; its stream, pause and reset; the text's numbers."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from mamlviz import figures, meta, sine
from mamlviz.bench import reference_maml
from mamlviz.figures import part5
from mamlviz.lanczos import lanczos
from mamlviz.nn import MLP
from mamlviz.train import MetaTrainer
from mamlviz.site.measured import fill

figures.load_all()
# the text as the build prints it: numbers computed from the code or measured (site.measured)
TEXT = fill((Path(__file__).resolve().parents[1] / "content" / "05-first-order-maml.md").read_text())


def arrows(scene):
    layers = scene["panels"][0]["layers"]
    return {a["label"]: np.subtract(a["to"], a["from"]) for a in layers if a["kind"] == "arrow"}


def readouts(scene):
    return {r["label"]: r["value"] for r in scene["readouts"]}


def angle_by_cosine(u, v):
    return np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1)))


# ------------------------------------------------------------------------------ local curvature
@pytest.mark.parametrize("a,b,c,x", [(0.4, 0.2, -0.3, (0.75, 0.35)), (-0.5, 0.5, 0.5, (0.0, 1.0)),
                                     (0.1, -0.4, 0.3, (0.2, 0.9)), (0.5, 0.0, 0.5, (1.0, 0.0))])
def test_curvature_arrows_are_the_closed_form_gradient(a, b, c, x):
    scene = figures.run("local-curvature", {"a": a, "b": b, "c": c, "x": list(x)})
    drawn = arrows(scene)
    C, g, xv = np.array([[a, b], [b, c]]), np.array([0.1, -0.1]), np.array(x)
    np.testing.assert_allclose(drawn["−∇f"], -part5.ARROW_SCALE * (C @ (xv - 0.5) + g), atol=1e-12)
    np.testing.assert_allclose(drawn["−g"], -part5.ARROW_SCALE * g, atol=1e-12)
    # the readout is the angle between the two drawn vectors (arccos loses digits near 0°: ~1e-6°)
    assert readouts(scene)["angle between the arrows (°)"] == pytest.approx(angle_by_cosine(drawn["−∇f"], drawn["−g"]),
                                                                           abs=1e-5)
    assert readouts(scene)["Hessian C"] == part5.fmt_matrix(C, 2)
    eig = np.linalg.eigvalsh(C)
    assert readouts(scene)["eigenvalues of C"] == part5.fmt_vector(eig[::-1], 3)


def test_curvature_arrows_coincide_at_zero_curvature():
    for action, state in (("zero", {"a": 0.3, "b": -0.2, "c": 0.1}), (None, {"a": 0.0, "b": 0.0, "c": 0.0})):
        scene = figures.run("local-curvature", {**state, "x": [0.1, 0.2]}, action)
        drawn = arrows(scene)
        np.testing.assert_array_equal(drawn["−∇f"], drawn["−g"])
        assert readouts(scene)["angle between the arrows (°)"] == 0.0
        assert scene["state"] == {"a": 0.0, "b": 0.0, "c": 0.0}


def test_curvature_stationary_point_is_a_message_not_an_error():
    # C = diag(0.2, 0.2): ∇f = 0.2(x − ½) + g vanishes at x = ½ − g/0.2 = (0, 1)
    scene = figures.run("local-curvature", {"a": 0.2, "b": 0.0, "c": 0.2, "x": [0.0, 1.0]})
    assert "stationary" in scene["message"]
    assert readouts(scene)["angle between the arrows (°)"] is None


def test_curvature_description_says_the_closed_form_numbers():
    """Eigenvalues of the 2 × 2 symmetric C by the quadratic formula, −∇f(x) = −(C(x − ½) + g) written out."""
    a, b, c, x = 0.3, -0.2, -0.1, (0.85, 0.15)
    text = figures.run("local-curvature", {"a": a, "b": b, "c": c, "x": list(x)})["description"]
    mid, rad = (a + c) / 2, np.hypot((a - c) / 2, b)
    grad = (a * (x[0] - 0.5) + b * (x[1] - 0.5) + 0.1, b * (x[0] - 0.5) + c * (x[1] - 0.5) - 0.1)
    vec = lambda v: "(" + ", ".join(f"{-t:.3f}" for t in v).replace("-", "−") + ")"
    # (C and its eigenvalues are written with an ASCII hyphen as the minus sign, the vectors with "−")
    assert text.startswith(f"C = [[0.30, -0.20], [-0.20, -0.10]] with eigenvalues {mid + rad:.3f} and "
                           f"{mid - rad:.3f}. At x = (0.85, 0.15) the negative gradient −∇f(x) is {vec(grad)}, "
                           f"and its C = 0 approximation −g is (−0.100, 0.100). The two arrows are ")


# ------------------------------------------------------------------------------ Lanczos
def test_lanczos_finds_the_extreme_eigenvalues_of_a_dense_matrix():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((200, 200)))
    eig = np.concatenate([[50.0, 30.0, 20.0], rng.uniform(-5, 5, 194), [-40.0, -60.0, -90.0]])
    a = (q * eig) @ q.T
    ritz = lanczos(lambda v: v @ a, rng.standard_normal(200), 60)
    np.testing.assert_allclose(ritz[:3], [50.0, 30.0, 20.0], rtol=1e-8)
    np.testing.assert_allclose(ritz[-3:], [-40.0, -60.0, -90.0], rtol=1e-8)


def test_lanczos_batched_equals_one_by_one_and_the_mlp_hessian():
    model, rng = MLP((1, 12, 12, 1)), np.random.default_rng(3)      # small enough for a dense eigen-solver
    theta, batch = model.init(rng), sine.sample(rng, 3, 10, 10)
    _, _, hvp = model.linearize(theta, batch.xs, batch.ys)
    v0 = rng.standard_normal((3, model.size))
    batched = lanczos(hvp, v0, 30)
    for t in range(3):
        _, _, hvp_t = model.linearize(theta, batch.xs[t], batch.ys[t])
        single = lanczos(hvp_t, v0[t], 30)
        np.testing.assert_allclose(batched[t], single, rtol=1e-8, atol=1e-6)
        dense = hvp_t(np.eye(model.size))                       # the Hessian, row by row
        top = np.linalg.eigvalsh((dense + dense.T) / 2)[::-1]
        np.testing.assert_allclose(single[:2], top[:2], rtol=1e-6)


def test_figure_curvature_is_the_largest_eigenvalue_of_each_task():
    """On the sine MLP, the figure's 20 Lanczos steps give the largest eigenvalue to 0.1 % of a long run (150 steps;
    Lanczos itself is checked against a dense solver on a small network above)."""
    rng = np.random.default_rng(4)
    theta, batch = part5.MLP_MODEL.init(rng), sine.sample(rng, 2, 10, 10)
    top = part5.top_curvature(theta, batch)
    _, _, hvp = part5.MLP_MODEL.linearize(theta, batch.xs, batch.ys)
    converged = lanczos(hvp, rng.standard_normal((2, part5.MLP_MODEL.size)), 150)[:, 0]
    np.testing.assert_allclose(top, converged, rtol=1e-3)


def test_lanczos_stops_when_the_krylov_space_is_exhausted():
    a = np.diag([3.0, 1.0])
    ritz = lanczos(lambda v: v @ a, np.array([1.0, 1.0]), 10)
    np.testing.assert_allclose(ritz, [3.0, 1.0])


# ------------------------------------------------------------------------------ MAML against FOMAML
def independent_first_point(seed=0, alpha=0.01):
    """(cosine, ‖MAML − FOMAML‖ / ‖MAML‖) at the trainer's θ₀ for `seed` on the fixed batch, one inner step: MAML by
    the plain reference implementation of `mamlviz.bench` (θ tiled, no code shared with `mamlviz.meta`), FOMAML as
    the mean of the query gradients after one step, task by task."""
    model = MLP()
    theta = MetaTrainer("maml", model, part5._config({"alpha": alpha, "k": 1}), seed=seed).theta
    batch = sine.sample(np.random.default_rng(part5.FIXED_SEED), 25, 10, 10)
    full = reference_maml(theta, batch, alpha)
    first = np.mean([model.loss_grad(theta - alpha * model.loss_grad(theta, batch.xs[t], batch.ys[t])[1],
                                     batch.xq[t], batch.yq[t])[1] for t in range(25)], axis=0)
    return (full @ first / np.linalg.norm(full) / np.linalg.norm(first),
            np.linalg.norm(full - first) / np.linalg.norm(full))


def test_first_point_equals_an_independent_computation():
    scene = figures.run("maml-vs-fomaml", {"seed": 0})
    first_cos = scene["panels"][0]["layers"][0]["y"][0]
    first_dropped = scene["panels"][1]["layers"][0]["y"][0]
    cos, dropped = independent_first_point()
    assert first_cos == pytest.approx(cos, rel=1e-9)
    assert first_dropped == pytest.approx(dropped, rel=1e-9)
    assert readouts(scene)["cosine at the start"] == first_cos


@pytest.mark.parametrize("k", [2, 3])
def test_dropped_term_is_maml_minus_fomaml_for_several_steps(k):
    model, rng = MLP(), np.random.default_rng(5)
    theta, batch = model.init(rng), sine.sample(rng, 4, 10, 10)
    cos, dropped = part5.compare_directions(theta, batch, 0.01, k)
    full, _ = meta.meta_gradient("maml", model, theta, batch, inner_lr=0.01, inner_steps=k)
    first, _ = meta.meta_gradient("fomaml", model, theta, batch, inner_lr=0.01, inner_steps=k)
    assert cos == pytest.approx(full @ first / np.linalg.norm(full) / np.linalg.norm(first), rel=1e-12)
    assert dropped == pytest.approx(np.linalg.norm(full - first) / np.linalg.norm(full), rel=1e-12)


def test_training_stream_pause_and_reset():
    figures.sessions.pop("maml-vs-fomaml", None)
    state = {"budget": 200, "alpha": 0.01, "k": 1, "seed": 1}
    stream = figures.run("maml-vs-fomaml", state, "start")
    first = next(stream)
    assert first["description"].startswith("Training after 0 meta-updates")
    for _ in range(3):                                     # three chunks of 25 updates, then the reader pauses
        scene = next(stream)
    stream.close()
    paused = figures.run("maml-vs-fomaml", state, "pause")
    assert readouts(paused)["meta-updates"] == 75 and paused["description"].startswith("Paused")
    run = figures.sessions["maml-vs-fomaml"]
    assert [c[0] for c in run["curve"]] == [0, 25, 50, 75]
    # both models train on the same seed: same θ₀, same task stream
    maml, fomaml = run["trainers"]["maml"], run["trainers"]["fomaml"]
    assert maml.iteration == fomaml.iteration == 75
    last = list(figures.run("maml-vs-fomaml", state, "start"))[-1]
    assert last["description"].startswith("Finished after 200")
    assert [c[0] for c in run["curve"]][-1] == 200
    assert [c[0] for c in run["curvature"]] == [0, 100, 200]                       # evaluated every 100 updates
    assert [c[0] for c in maml.eval_curve] == [c[0] for c in fomaml.eval_curve] == [0, 100, 200]
    values = readouts(last)
    assert values["MAML: held-out MSE after 1 step"] == maml.eval_curve[-1][1][1]
    assert values["α·λ_max of the support Hessian, now"] == pytest.approx(0.01 * run["curvature"][-1][1])
    reset = figures.run("maml-vs-fomaml", state, "reset")
    assert readouts(reset)["meta-updates"] == 0 and "maml-vs-fomaml" not in figures.sessions


def test_changed_settings_restart_from_scratch():
    figures.sessions.pop("maml-vs-fomaml", None)
    stream = figures.run("maml-vs-fomaml", {"budget": 200, "seed": 2}, "start")
    next(stream), next(stream)
    stream.close()
    preview = figures.run("maml-vs-fomaml", {"budget": 200, "seed": 2, "alpha": 0.02})
    assert "Settings changed" in preview["message"]
    restarted = next(figures.run("maml-vs-fomaml", {"budget": 200, "seed": 2, "alpha": 0.02}, "start"))
    assert "started again from scratch" in restarted["message"] and readouts(restarted)["meta-updates"] == 0
    figures.sessions.pop("maml-vs-fomaml", None)


def test_diverging_training_is_reported():
    figures.sessions.pop("maml-vs-fomaml", None)
    scenes = list(figures.run("maml-vs-fomaml", {"budget": 200, "alpha": 0.05, "k": 5, "seed": 0}, "start"))
    last = scenes[-1]
    assert "nan" not in str(last).lower()
    if last["message"]:                                     # a divergence says so, θ stays at its last good value
        assert "Diverged" in last["message"]
    figures.sessions.pop("maml-vs-fomaml", None)


def test_text_states_the_figures_numbers_at_initialisation():
    scene = figures.run("maml-vs-fomaml", {"seed": 0})
    values = readouts(scene)
    assert f"initialisation is {values['cosine at the start']:.3f}" in TEXT
    assert f"{scene['panels'][1]['layers'][0]['y'][0]:.3f} times the meta-gradient's norm" in TEXT
    top = values["α·λ_max of the support Hessian, start"] / 0.01
    assert f"about\n{top:,.0f}" in TEXT or f"about {top:,.0f}" in TEXT
    assert f"is about {round(0.01 * top)}" in TEXT
    low = figures.run("maml-vs-fomaml", {"seed": 0, "alpha": 0.001})
    assert f"{readouts(low)['cosine at the start']:.2f}" in TEXT


def test_training_scene_by_hand_from_a_made_up_run():
    """_scene of a run without trainers (the preview) from a curve set by hand: the two panels' lines, first
    points and axes, the readouts and the description; a last point that is not finite is said in words."""
    curve = [(0, 0.9, 0.4), (25, 0.8, 1.5), (50, 0.7, 0.2)]
    run = {"curve": curve, "curvature": [(0, 10.0), (50, 20.0)]}
    state = {"alpha": 0.02, "k": 2, "budget": 300}
    scene = part5._scene(state, run, "ready", "hello")
    cos_panel, dropped_panel, eval_panel = scene["panels"]
    assert cos_panel["xlim"] == [0, 300.0] and cos_panel["ylim"] == [-1, 1] and dropped_panel["xlim"] == [0, 300.0]
    assert dropped_panel["ylim"] == pytest.approx([0, 1.05 * 1.5])
    for panel, column in ((cos_panel, 1), (dropped_panel, 2)):
        line, first = panel["layers"]
        assert np.asarray(line["x"]).tolist() == [0, 25, 50]
        assert np.asarray(line["y"]).tolist() == [c[column] for c in curve]
        assert np.asarray(first["x"]).tolist() == [0] and np.asarray(first["y"]).tolist() == [curve[0][column]]
    assert eval_panel["layers"] == [] and eval_panel["ylim"] == pytest.approx([0, 10.5])
    values = readouts(scene)
    assert values["meta-updates"] == 0 and values["cosine at the start"] == 0.9 and values["cosine now"] == 0.7
    assert values["dropped term / meta-gradient now"] == 0.2
    assert values["α·λ_max of the support Hessian, start"] == pytest.approx(0.2)
    assert values["α·λ_max of the support Hessian, now"] == pytest.approx(0.4)
    assert values["MAML: held-out MSE after 2 steps"] is None and scene["message"] == "hello"
    assert scene["description"] == (
        "Ready after 0 meta-updates (α = 0.02, k = 2). On the fixed batch, the cosine between the MAML and FOMAML "
        "meta-gradients at the MAML model's θ was 0.9000 at the start and is 0.7000 now; the dropped term is 0.200 "
        "times the meta-gradient's norm. α times the largest support-Hessian eigenvalue (the largest over the "
        "batch's tasks): 0.20 at the start.")
    small = part5._scene(state, {"curve": [(0, 0.99, 0.1), (25, float("nan"), float("nan"))], "curvature": []},
                         "paused")
    assert small["panels"][1]["ylim"] == [0, 1.0]                      # small or not finite: the axis stays 0 to 1
    assert "diverge on the fixed batch" in small["message"] and "(the inner steps diverge there)" in small["description"]


def test_training_description_with_trainers_by_hand():
    curve = np.array([(0, 0.9, 0.4), (300, 0.5, 0.8)])
    text = part5._training_description("Training", 300, 0.01, 1, curve, {"maml": 0.5, "fomaml": None}, 10.0, 20.0,
                                       3.0)
    assert text == ("Training after 300 meta-updates (α = 0.01, k = 1). On the fixed batch, the cosine between the "
                    "MAML and FOMAML meta-gradients at the MAML model's θ was 0.9000 at the start and is 0.5000 now; "
                    "the dropped term is 0.800 times the meta-gradient's norm. Median held-out MSE after 1 step(s): "
                    "MAML 0.500, FOMAML diverged (both 3 at the start). α times the largest support-Hessian "
                    "eigenvalue (the largest over the batch's tasks): 0.10 at the start, 0.20 at the last evaluation.")
    for start in (None, 1000.0, 5000.0):           # no start value, or one that diverged: not said
        text = part5._training_description("Paused", 300, 0.01, 1, curve, {"maml": 0.5, "fomaml": 0.25}, None, None,
                                           start)
        assert text.endswith("Median held-out MSE after 1 step(s): MAML 0.500, FOMAML 0.250. ")
    assert part5._training_description("Paused", 300, 0.01, 1, curve, {"maml": 0.5, "fomaml": 0.25}, None, None,
                                       999.0).endswith("(both 999 at the start). ")


def test_num_says_not_finite():
    assert part5._num(None, ".2f") == "not finite" and part5._num(float("nan"), ".2f") == "not finite"
    assert part5._num(float("inf"), ".2f") == "not finite" and part5._num(1.234, ".2f") == "1.23"


def test_eval_panel_by_hand():
    """Lines of both models' held-out MSE after k steps (capped at 10³), the axis from the values after the start
    (capped at 10, at least 1, plus 5 %), and a model missing from the run left out."""
    from types import SimpleNamespace as T

    maml = T(eval_curve=[(0, {1: 50.0, 2: 3.0}), (100, {1: 0.5, 2: 2000.0}), (200, {1: 0.3, 2: 4.0})])
    fomaml = T(eval_curve=[(0, {1: 60.0, 2: 3.0}), (100, {1: 0.6, 2: 2.0}), (200, {1: 0.4, 2: 1.5})])
    panel = part5._eval_panel({"maml": maml, "fomaml": fomaml}, 1, 400.0)
    assert panel["title"] == "Held-out MSE after 1 step" and panel["xlim"] == [0, 400.0]
    assert [(ly["class"], ly["x"], ly["y"]) for ly in panel["layers"]] == [
        ("maml", [0, 100, 200], [50.0, 0.5, 0.3]), ("fomaml secondary", [0, 100, 200], [60.0, 0.6, 0.4])]
    assert panel["ylim"] == pytest.approx([0, 1.05])                    # later values below 1: the axis to 1.05
    panel = part5._eval_panel({"maml": maml, "fomaml": fomaml}, 2, 400.0)
    assert panel["title"] == "Held-out MSE after 2 steps"
    assert panel["layers"][0]["y"] == [3.0, 1000.0, 4.0] and panel["ylim"] == pytest.approx([0, 10.5])
    only = part5._eval_panel({"fomaml": fomaml}, 2, 400.0)              # the axis from 2.0 and 1.5 (not 3.0)
    assert [ly["class"] for ly in only["layers"]] == ["fomaml secondary"] and only["ylim"] == pytest.approx([0, 2.1])
    assert part5._eval_panel({}, 1, 400.0)["ylim"] == pytest.approx([0, 10.5])
    fomaml.eval_curve[1][1][2] = 11.0
    assert part5._eval_panel({"fomaml": fomaml, "maml": maml}, 2, 1.0)["ylim"] == pytest.approx([0, 10.5])


def test_compare_directions_by_made_up_meta_gradients(monkeypatch):
    """cos and ‖full − first‖/‖full‖ of given vectors; NaN when either is not finite or either vanishes."""
    def fake(vectors, flags=(False, False)):
        answers = iter(zip(vectors, flags))
        monkeypatch.setattr(part5.meta, "meta_gradient",
                            lambda method, *a, **kw: (lambda v, f: (np.array(v), {"nonfinite": f}))(*next(answers)))
        return part5.compare_directions(None, None, 0.01, 1)

    cos, dropped = fake([(0.3, 0.4), (0.0, 0.5)])                     # norms 0.5 and 0.5
    assert cos == pytest.approx(0.8) and dropped == pytest.approx(np.hypot(0.3, 0.1) / 0.5)
    for vectors, flags in (([(0.3, 0.4), (0.0, 0.5)], (True, False)), ([(0.3, 0.4), (0.0, 0.5)], (False, True)),
                           ([(0.0, 0.0), (0.0, 0.5)], (False, False)), ([(0.3, 0.4), (0.0, 0.0)], (False, False))):
        with warnings.catch_warnings():
            warnings.simplefilter("error")                            # answered without dividing by zero
            assert all(np.isnan(fake(vectors, flags)))


def test_training_scene_with_trainers_by_hand():
    """Stand-in trainers: the held-out MSE after k steps (10³ and above means adaptation blew up: no number), the
    trainers' own messages after the fixed batch's, and the description's start value."""
    from types import SimpleNamespace as T

    maml = T(iteration=300, diverged=True, message="overflow at update 290",
             eval_curve=[(0, {2: 3.5}), (300, {2: 1000.0})])
    fomaml = T(iteration=300, diverged=False, message="", eval_curve=[(0, {2: 3.5}), (300, {2: 0.5})])
    run = {"trainers": {"maml": maml, "fomaml": fomaml}, "curve": [(0, 0.9, 0.4), (300, float("nan"), 0.2)],
           "curvature": [(0, 10.0), (300, 20.0)]}
    scene = part5._scene({"alpha": 0.02, "k": 2, "budget": 300}, run, "paused", "hello")
    values = readouts(scene)
    assert values["MAML: held-out MSE after 2 steps"] is None and values["FOMAML: held-out MSE after 2 steps"] == 0.5
    assert values["meta-updates"] == 300
    assert scene["message"] == ("hello At the MAML model's θ the 2 inner step(s) at α = 0.02 diverge on the fixed "
                                "batch: the meta-gradients are not finite, so there is nothing to compare. Lower α "
                                "or k. MAML: overflow at update 290")
    assert "Median held-out MSE after 2 step(s): MAML diverged, FOMAML 0.500 (both 3.5 at the start). " in \
        scene["description"]
    fomaml = T(iteration=300, diverged=True, message="stopped", eval_curve=[(0, {1: 3.0}), (300, {1: 0.25})])
    maml = T(iteration=300, diverged=False, message="", eval_curve=[(0, {1: 3.0}), (300, {1: 0.75})])
    one = part5._scene({"alpha": 0.02, "k": 1, "budget": 300}, {**run, "trainers": {"maml": maml, "fomaml": fomaml}},
                       "paused")
    assert readouts(one)["FOMAML: held-out MSE after 1 step"] == 0.25 and one["message"].endswith(". FOMAML: stopped")
