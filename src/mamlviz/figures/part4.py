"""Part 4 — Why the meta-gradient is expensive: the Jacobians by hand on the softplus model, and what each method
costs on the sine MLP, measured in the reader's browser.

Conventions of the text: φ^(0) = θ, φ^(j+1) = φ^(j) − α∇L^tr(φ^(j)), A_j = I − α∇²L^tr(φ^(j)) (symmetric),
∂φ^(k)/∂θ = A_{k−1}⋯A_1A_0, and the meta-gradient ∇_θ L^te(φ^(k)) = A_0A_1⋯A_{k−1}∇L^te(φ^(k)).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mamlviz import clock, meta, sine, toy
from mamlviz.nn import MLP
from mamlviz.train import METHOD_SETTINGS

from . import Button, Handle, Slider, Toggle, figure, sessions
from ._common import (RECORDED_TIMING_LEGEND, angle_degrees, counter, fmt_matrix, fmt_vector,  # noqa: F401
                      grey_curves, log_heatmap, recorded_note, recorded_run, unit_panel)

SOFTPLUS = toy.SoftplusLine()
ONE_TASK = toy.SOFTPLUS_TASK_SETS["one"]      # (a*, b*) = (0.5, 0.05)
N_SAMPLES = 10                                 # support and query points of the task
N_GRID = 41
FD_STEP = 1e-5                                 # central differences: error O(h²) + rounding O(ε/h), both ≪ 1e-6
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


def one_task(seed):
    """The task of the Jacobian figure: softplus(0.5·x + 0.05), its own 10 support and 10 query points (seeded)."""
    return toy.softplus_tasks(np.random.default_rng(seed), ONE_TASK, n_support=N_SAMPLES, n_query=N_SAMPLES)


def meta_objective(tasks, theta, alpha, k):
    """F(θ) = L^te(U^(k)(θ)) for θ of shape (..., 2): k support steps, then the query loss (no derivatives)."""
    theta = np.asarray(theta, dtype=float)[..., None, :]
    with np.errstate(over="ignore", invalid="ignore"):
        phi = meta.inner_sgd(SOFTPLUS, theta, tasks.xs, tasks.ys, lr=alpha, steps=k).phi
        return SOFTPLUS.loss(phi, tasks.xq, tasks.yq)[..., 0]


def three_routes(tasks, theta, alpha, k):
    """The meta-gradient of F(θ) = L^te(U^(k)(θ)) three ways, with everything the figure shows.

    jacobian: (A_{k−1}⋯A_0)ᵀ∇L^te(φ^(k)) = A_0⋯A_{k−1}∇L^te(φ^(k)), the 2×2 matrices formed explicitly;
    hvp:      the library's MAML (`meta.maml_direction`): one vector backpropagated with Hessian-vector products;
    fd:       central finite differences of F along each coordinate.
    """
    theta = np.asarray(theta, dtype=float)
    x, y = tasks.xs[0], tasks.ys[0]
    path = [theta]
    for _ in range(k):                                                  # φ^(j+1) = φ^(j) − α∇L^tr(φ^(j))
        path.append(path[-1] - alpha * SOFTPLUS.loss_grad(path[-1], x, y)[1])
    factors = [np.eye(2) - alpha * SOFTPLUS.hessian(p, x, y) for p in path[:-1]]   # A_j = I − α∇²L^tr(φ^(j))
    jac = np.eye(2)
    for a in factors:
        jac = a @ jac                                                   # ∂φ^(k)/∂θ = A_{k−1}⋯A_1A_0
    grad_q = SOFTPLUS.loss_grad(path[-1], tasks.xq[0], tasks.yq[0])[1]   # ∇L^te(φ^(k))
    by_hvp, _ = meta.meta_gradient("maml", SOFTPLUS, theta, tasks, inner_lr=alpha, inner_steps=k)
    fd = np.array([(meta_objective(tasks, theta + FD_STEP * e, alpha, k)
                    - meta_objective(tasks, theta - FD_STEP * e, alpha, k)) / (2 * FD_STEP) for e in np.eye(2)])
    return {"path": np.array(path), "factors": factors, "jacobian": jac, "grad_query": grad_q,
            "by_jacobian": jac.T @ grad_q, "by_hvp": by_hvp, "by_fd": fd}


def relative_difference(a, b):
    """‖a − b‖ / ‖b‖ (0 when both vanish)."""
    scale = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else float(np.linalg.norm(a - b))


@lru_cache(maxsize=16)
def _landscapes(seed, alpha, k):
    """Heat maps that depend only on the task, α and k (not on θ): the support loss and F(θ) over the unit square."""
    tasks = one_task(seed)
    g = toy.grid(N_GRID)
    support = SOFTPLUS.loss(g[:, :, None, :], tasks.xs, tasks.ys)[..., 0]
    return log_heatmap(support), log_heatmap(meta_objective(tasks, g, alpha, k))


@figure("jacobians", title="The Jacobians of the inner steps, by hand", controls=[
    Slider("alpha", "Inner learning rate α", 0.005, 0.2, step=0.005, default=0.05),
    Slider("k", "Inner steps k", 1, 10, step=1, default=3),
    Toggle("first_order", "Show the first-order direction (Part 5)", default=False),
    Button("resample", "New samples"),
    Handle("theta", "θ", panel=0, default=(0.15, 0.8), bounds=((0, 1), (0, 1)), step=0.01),
])
def jacobians_figure(state, action=None):
    seed = counter(state.get("_seed", 0)) + (action == "resample")
    tasks = one_task(seed)
    alpha, k = float(state["alpha"]), int(state["k"])
    theta = np.array(state["theta"], dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        r = three_routes(tasks, theta, alpha, k)
    if not all(np.isfinite(r[key]).all() for key in ("path", "by_jacobian", "by_hvp", "by_fd")):
        return _diverged_scene(state, seed, theta, alpha, k)
    diff_hvp = relative_difference(r["by_hvp"], r["by_jacobian"])
    diff_fd = relative_difference(r["by_fd"], r["by_jacobian"])
    support_layers, objective_layers = _landscapes(seed, alpha, k)
    path = r["path"]
    names = [f"φ{f'({j})'.translate(SUP)}" for j in range(k + 1)]
    on_path = list(support_layers) + [
        {"kind": "line", "x": path[:, 0], "y": path[:, 1], "class": "trail", "label": "inner path"},
        {"kind": "points", "x": path[1:, 0], "y": path[1:, 1], "class": "trail", "label": "φ⁽ʲ⁾"},
        {"kind": "label", "at": [path[-1, 0] + 0.03, path[-1, 1] - 0.05], "text": names[-1], "class": "trail",
         "anchor": "start"},
        {"kind": "points", "x": [ONE_TASK[0][0]], "y": [ONE_TASK[0][1]], "class": "muted", "label": "task optimum"},
    ]
    arrows = _direction_arrows(theta, r, state["first_order"])
    arrows.append({"kind": "points", "x": [theta[0]], "y": [theta[1]], "class": "theta", "label": "θ"})
    panels = [unit_panel(f"Support loss Lᵗʳ (log₁₀), inner path θ → {names[-1]}", on_path),
              unit_panel(f"Lᵗᵉ(U{names[-1][1:]}(θ)) (log₁₀) and −∇ at θ", list(objective_layers) + arrows)]
    readouts = [{"label": f"A{str(j).translate(SUB)}", "value": fmt_matrix(a), "format": ""}
                for j, a in enumerate(r["factors"])]
    product = "A" + str(k - 1).translate(SUB) + ("⋯A₀" if k > 2 else "A₀" if k == 2 else "")
    readouts += [
        {"label": f"∂φ⁽ᵏ⁾/∂θ = {product}", "value": fmt_matrix(r["jacobian"]), "format": ""},
        {"label": "∇Lᵗᵉ(φ⁽ᵏ⁾)", "value": fmt_vector(r["grad_query"], 6), "format": ""},
        {"label": "meta-gradient: Jacobians", "value": fmt_vector(r["by_jacobian"], 8), "format": ""},
        {"label": "meta-gradient: HVP backpropagation", "value": fmt_vector(r["by_hvp"], 8), "format": ""},
        {"label": "meta-gradient: finite differences", "value": fmt_vector(r["by_fd"], 8), "format": ""},
        {"label": "largest relative difference", "value": f"{max(diff_hvp, diff_fd):.1e}", "format": ""},
    ]
    if state["first_order"]:
        readouts.append({"label": "angle to first-order direction",
                         "value": angle_degrees(r["by_hvp"], r["grad_query"]), "format": ".1f"})
    legend = [{"class": "trail", "label": "inner path θ → φ⁽ᵏ⁾ (support steps)"},
              {"class": "maml", "label": "−meta-gradient (all three routes)"}]
    if state["first_order"]:
        legend.append({"class": "fomaml", "label": "−∇Lᵗᵉ(φ⁽ᵏ⁾), first order (dashed)"})
    return {
        "panels": panels,
        "legend": legend,
        "readouts": readouts,
        "message": None,
        "description": _jacobian_description(theta, alpha, k, r, diff_hvp, diff_fd, state["first_order"]),
        "state": {"_seed": seed},
    }


def _direction_arrows(theta, r, first_order):
    """−meta-gradient (and optionally −∇L^te(φ^(k))) at θ, one common scale: the longer arrow is 0.25 long."""
    vectors = [("maml", "−∇F", -r["by_hvp"])]
    if first_order:
        vectors.append(("fomaml secondary", "first order", -r["grad_query"]))
    longest = max(np.linalg.norm(v) for _, _, v in vectors)
    scale = 0.25 / longest if longest > 0 else 0.0
    return [{"kind": "arrow", "from": theta, "to": theta + scale * v, "class": css, "label": label}
            for css, label, v in vectors]


def _jacobian_description(theta, alpha, k, r, diff_hvp, diff_fd, first_order):
    phi = r["path"][-1]
    text = (f"θ = ({theta[0]:.2f}, {theta[1]:.2f}). {k} inner step(s) at α = {alpha:g} on the support points lead "
            f"to φ⁽ᵏ⁾ = ({phi[0]:.3f}, {phi[1]:.3f}). The Jacobian ∂φ⁽ᵏ⁾/∂θ, the product of the {k} step "
            f"Jacobians A_j = I − α∇²Lᵗʳ(φ⁽ʲ⁾) from A_{k - 1} down to A_0, is {fmt_matrix(r['jacobian'])}. "
            f"The meta-gradient is {fmt_vector(r['by_jacobian'], 6)} from the Jacobians, "
            f"{fmt_vector(r['by_hvp'], 6)} from Hessian-vector products and {fmt_vector(r['by_fd'], 6)} from "
            f"finite differences; relative differences {diff_hvp:.1e} and {diff_fd:.1e}.")
    if first_order:
        angle = angle_degrees(r["by_hvp"], r["grad_query"])
        text += (f" The first-order direction ∇Lᵗᵉ(φ⁽ᵏ⁾) = {fmt_vector(r['grad_query'], 6)} is "
                 + (f"{angle:.1f}° away from it." if angle is not None else "zero."))
    return text


def _diverged_scene(state, seed, theta, alpha, k):
    support_layers, _ = _landscapes(seed, alpha, k)
    return {"panels": [unit_panel("Support loss Lᵗʳ (log₁₀)", list(support_layers)),
                       unit_panel("Meta-objective (not finite here)", [])],
            "readouts": [{"label": "largest relative difference", "value": None, "format": ""}],
            "message": (f"The inner steps diverge from θ = ({theta[0]:.2f}, {theta[1]:.2f}) at α = {alpha:g}: "
                        "the step overshoots the curvature of the support loss. Lower α or k."),
            "description": f"At α = {alpha:g} and k = {k} the inner steps from θ diverge; nothing to compare.",
            "state": {"_seed": seed}}


# ------------------------------------------------------------------------------ the cost of one meta-update
MLP_MODEL = MLP()
COST_METHODS = {"maml": "MAML", "fomaml": "FOMAML", "reptile": "Reptile", "imaml": "iMAML"}
COST_KS = tuple(range(1, 11))
COST_TASKS, COST_SHOTS = 25, 10
COST_REPEATS = 3                      # the fastest of three timings per method and k (load only ever adds time)
COST_ALPHA = 0.01                     # the MAML paper's inner rate (iMAML: its own, METHOD_SETTINGS)
COST_SEED = 4
EXPLICIT_KS = (1, 2, 3)               # the explicit-Jacobian route, measured on one task
HESSIAN_BLOCK = 256                   # Hessian columns per frame (the worker stays responsive while it forms them)
SLICE_ROWS = 16                       # rows of one P × P product actually timed, to estimate the whole product
MILLION = 1_000_000


def cost_batch(seed=COST_SEED):
    """θ (a fresh initialisation) and one fixed batch of 25 sine tasks with K = 10 support and query points."""
    rng = np.random.default_rng(seed)
    return MLP_MODEL.init(rng), sine.sample(rng, COST_TASKS, COST_SHOTS, COST_SHOTS)


def method_settings(method):
    """The keyword arguments of `meta.meta_gradient` for `method` in the cost figure (α; iMAML also λ, CG steps)."""
    if method == "imaml":   # Part 7's library settings: λ, CG steps, and α as the cap of its proximal steps
        s = METHOD_SETTINGS["imaml"]
        return {"inner_lr": s.inner_lr, "reg": s.reg, "cg_steps": s.cg_steps}
    return {"inner_lr": COST_ALPHA}


def measure_method(method, k, theta, batch, repeats=COST_REPEATS):
    """(seconds of one meta-gradient, the fastest of `repeats` rounds, each as many runs as fill
    `clock.ROUND_SECONDS`; bytes kept per task for the backward pass)."""
    kept = []

    def run():
        _, info = meta.meta_gradient(method, MLP_MODEL, theta, batch, inner_steps=k, query_before=False,
                                     **method_settings(method))
        kept.append(info["kept_bytes"])

    return min(clock.per_call(run)[0] for _ in range(repeats)), kept[-1] / batch.xs.shape[0]


def explicit_steps(theta, x, y, alpha, steps, block=HESSIAN_BLOCK):
    """The inner steps of one task with every A_j = I − α∇²L^tr(φ^(j)) formed as a P × P matrix: the Hessian from
    P Hessian-vector products (batched, `block` unit vectors a call).

    A generator: yields (j, fraction of A_j done) after each block, and finally returns ([φ^(0), …, φ^(k)],
    [A_0, …, A_{k−1}]) (as StopIteration.value), so that a figure can draw between blocks.
    """
    eye = np.eye(MLP_MODEL.size)
    path, factors = [theta], []
    for j in range(steps):
        _, grad, hvp = MLP_MODEL.linearize(path[-1], x, y)
        a = np.empty((MLP_MODEL.size, MLP_MODEL.size))
        for lo in range(0, MLP_MODEL.size, block):
            a[lo:lo + block] = eye[lo:lo + block] - alpha * hvp(eye[lo:lo + block])   # rows of symmetric A_j
            yield j, min(lo + block, MLP_MODEL.size) / MLP_MODEL.size
        factors.append(a)
        path.append(path[-1] - alpha * grad)                                          # φ^(j+1)
    return path, factors


def explicit_meta_gradient(factors, grad_q):
    """A_0A_1⋯A_{k−1}∇L^te(φ^(k)) with the matrices themselves (P² floats each): A_{k−1} first, A_0 last."""
    g = grad_q
    for a in reversed(factors):
        g = a @ g
    return g


def format_bytes(n):
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


@figure("meta-cost", title="What one meta-update costs, measured in your browser", training=True, controls=[
    Button("measure", "Measure"),
    Button("stop", "Stop"),
    Button("clear", "Clear results"),
])
def meta_cost_figure(state, action=None):
    if action == "clear":
        sessions.pop("meta-cost", None)
    session = sessions.get("meta-cost")
    if action == "measure":
        if session is None:
            session = sessions["meta-cost"] = {"times": {}, "memory": {}, "explicit": {}, "explicit_check": None,
                                               "product": None, "progress": None}
        return _measure(session)
    if session is not None:
        session["progress"] = None                      # a stream that was superseded left its progress behind
    status = "ready" if session is None else "stopped" if action == "stop" else "paused"
    return _cost_scene(session, status)


def _measure(session):
    """A stream: one (method, k) timing per frame, k by k so that machine load hits every method alike."""
    theta, batch = cost_batch()
    yield _cost_scene(session, "measuring")
    for k in COST_KS:
        for method in COST_METHODS:
            if (method, k) not in session["times"]:
                session["times"][(method, k)], session["memory"][(method, k)] = measure_method(method, k, theta, batch)
                yield _cost_scene(session, "measuring")
    yield from _measure_explicit(session, theta, batch)
    yield _cost_scene(session, "finished")


def _measure_explicit(session, theta, batch):
    """The explicit route on the first task of the batch: A_0, A_1, A_2 formed once (block by block, a frame after
    each); the time for k steps is the time to form A_0 … A_{k−1} plus the k matrix-vector products. One product of
    two P × P matrices (what ∂φ^(k)/∂θ itself needs) is estimated from a timed slice of SLICE_ROWS rows."""
    if len(session["explicit"]) == len(EXPLICIT_KS):
        return
    one = sine.SineTasks(batch.xs[:1], batch.ys[:1], batch.xq[:1], batch.yq[:1], batch.amplitude[:1],
                         batch.phase[:1])
    x, y = one.xs[0], one.ys[0]
    steps = explicit_steps(theta, x, y, COST_ALPHA, max(EXPLICIT_KS))
    seconds, formed = 0.0, []
    while True:
        start = clock.now()   # a block of HESSIAN_BLOCK products: long against a coarse clock's step
        try:
            j, fraction = next(steps)
        except StopIteration as done:
            seconds += clock.now() - start
            path, factors = done.value
            break
        seconds += clock.now() - start
        if fraction == 1.0:
            formed.append(seconds)
        session["progress"] = f"forming A{str(j).translate(SUB)} as a matrix: {fraction:.0%}"
        yield _cost_scene(session, "measuring")
    session["progress"] = None
    for k in EXPLICIT_KS:
        grad_q = MLP_MODEL.loss_grad(path[k], one.xq[0], one.yq[0])[1]
        products, _ = clock.per_call(lambda: explicit_meta_gradient(factors[:k], grad_q))  # noqa: B023 (called here)
        direction = explicit_meta_gradient(factors[:k], grad_q)
        session["explicit"][k] = formed[k - 1] + products
        reference, _ = meta.meta_gradient("maml", MLP_MODEL, theta, one, inner_lr=COST_ALPHA, inner_steps=k)
        session["explicit_check"] = max(session["explicit_check"] or 0.0, relative_difference(direction, reference))
    session["product"] = clock.per_call(lambda: factors[1][:SLICE_ROWS] @ factors[0])[0] * MLP_MODEL.size / SLICE_ROWS
    yield _cost_scene(session, "measuring")


def _cost_scene(session, status):
    times = session["times"] if session else {}
    memory = session["memory"] if session else {}
    explicit = session["explicit"] if session else {}
    time_layers, memory_layers, top_t, top_m = _recorded_cost_layers(times)
    memory_labels = {}                                   # methods with identical memory share one label
    for method, name in COST_METHODS.items():
        ks = [k for k in COST_KS if (method, k) in times]
        if not ks:
            continue
        ms = [1000 * times[(method, k)] for k in ks]
        kb = [memory[(method, k)] / 1000 for k in ks]
        top_t, top_m = max(top_t, max(ms)), max(top_m, max(kb))
        time_layers += _method_layers(method, name, ks, ms)
        memory_layers += _method_layers(method, None, ks, kb)
        memory_labels.setdefault((ks[-1], kb[-1]), []).append((method, name))
    for (k, kb), group in memory_labels.items():
        memory_layers.append({"kind": "label", "at": [k + 0.2, kb], "text": ", ".join(n for _, n in group),
                              "class": group[0][0], "anchor": "start"})
    panels = [
        {"title": "Time per meta-gradient (25 tasks, K = 10)", "xlim": [0.5, 13.5], "ylim": [0, top_t * 1.1],
         "xlabel": "inner steps k", "ylabel": "milliseconds", "layers": time_layers},
        {"title": "Memory kept per task for the backward pass", "xlim": [0.5, 13.5], "ylim": [0, top_m * 1.1],
         "xlabel": "inner steps k", "ylabel": "kB per task", "layers": memory_layers},
    ]
    readouts = []
    for method, name in COST_METHODS.items():
        shown = [f"{1000 * times[(method, k)]:.1f}" if (method, k) in times else "…" for k in (1, 5, 10)]
        readouts.append({"label": f"{name}: ms at k = 1 / 5 / 10", "value": " / ".join(shown), "format": ""})
    d = MLP_MODEL.size
    shown = [f"{explicit[k]:.1f}" if k in explicit else "…" for k in EXPLICIT_KS]
    readouts += [
        {"label": "explicit A_j, one task: s at k = 1 / 2 / 3", "value": " / ".join(shown), "format": ""},
        {"label": "one P × P product A₁A₀: s (estimated from a timed slice)",
         "value": session["product"] if session else None, "format": ".0f"},
        {"label": f"one A_j of the MLP ({d:,} × {d:,} floats)", "value": format_bytes(8 * d * d), "format": ""},
        {"label": "Jacobian, 10⁶ parameters (computed, not run)", "value": format_bytes(8 * MILLION ** 2),
         "format": ""},
    ]
    done, total = len(times), len(COST_METHODS) * len(COST_KS)
    progress = session and session.get("progress")
    words = {"ready": "Nothing measured yet",
             "measuring": f"Measuring: {done} of {total} timings done" + (f", {progress}" if progress else ""),
             "stopped": f"Stopped after {done} of {total} timings", "paused": f"{done} of {total} timings done",
             "finished": f"Finished: all {total} timings done"}[status]
    return {
        "panels": panels,
        "legend": [{"class": m, "label": n} for m, n in COST_METHODS.items()]
                  + ([RECORDED_TIMING_LEGEND] if recorded_run("meta-cost") else []),
        "readouts": readouts,
        "message": (" ".join(filter(None, ["Press Measure: each method runs a meta-update on the same 25 tasks for "
                                           "k = 1 to 10 inner steps, timed here in your browser.",
                                           _recorded_cost_note()]))
                    if status == "ready" else None),
        "description": _cost_description(words, times, memory, explicit, session) + _recorded_cost_words(),
        "state": {"_status": status},
    }


def _recorded_cost_layers(times):
    """The recorded measurement (bench/recorded_runs.py, natively) in grey, under the reader's: time per method and k
    (median, dotted the fastest and slowest of the draws) and the memory counts (the same on any machine; labelled
    until the reader's own count of that method is drawn over them). Returns the two panels' layers and tops."""
    run = recorded_run("meta-cost")
    if not run:
        return [], [], 1.0, 1.0
    top_t = max(max(c["high"]) for c in run["ms"].values())
    top_m = max(max(v) for v in run["kb"].values())
    time_layers = grey_curves(dict.fromkeys(run["ms"], run["k"]), run["ms"], COST_METHODS, gap=0.06 * top_t)
    memory_layers = [{"kind": "line", "x": run["k"], "y": kb, "class": "recorded", "label": f"{name}, recorded"}
                     for m, kb in run["kb"].items() for name in [COST_METHODS[m]]]
    groups = {}
    for m, kb in run["kb"].items():
        if not any(method == m for method, _ in times):
            groups.setdefault(kb[-1], []).append(COST_METHODS[m])
    ends = sorted([kb, ", ".join(names) + " (recorded)"] for kb, names in groups.items())
    for below, above in zip(ends, ends[1:]):     # labels of lines that end close together, spread upwards
        above[0] = max(above[0], below[0] + 0.07 * top_m)
    memory_layers += [{"kind": "label", "at": [run["k"][-1], kb], "text": text, "class": "recorded", "anchor": "end"}
                      for kb, text in ends]
    return time_layers, memory_layers, top_t, top_m


def _recorded_cost_note():
    """The recorded measurement's note, with the explicit route's recorded times (readouts, not drawn)."""
    run = recorded_run("meta-cost")
    if not run:
        return None
    shown = " / ".join(f"{s:.2g}" for s in run["explicit_s"]["median"])
    return (f"{recorded_note('meta-cost')} Recorded there too: the explicit A_j route, one task, {shown} s at "
            f"k = {' / '.join(map(str, run['explicit_k']))}; one P × P product about {run['product_s']['median']:.2g} s.")


def _recorded_cost_words():
    """The text alternative of the grey lines: the recorded medians at k = 1, 5, 10."""
    run = recorded_run("meta-cost")
    if not run:
        return ""
    at = [run["k"].index(k) for k in (1, 5, 10)]
    return (" In grey, recorded natively on this project's machine (median of "
            f"{run['draws']} measurements, ms at k = 1 / 5 / 10): "
            + "; ".join(f"{COST_METHODS[m]} " + " / ".join(f"{c['median'][i]:.2g}" for i in at)
                        for m, c in run["ms"].items()) + ".")


def _method_layers(method, name, ks, ys):
    """A method's measured line and points, with its name at the end of the line when `name` is given."""
    layers = [{"kind": "line", "x": ks, "y": ys, "class": method, "label": COST_METHODS[method]},
              {"kind": "points", "x": ks, "y": ys, "class": method}]
    if name:
        layers.append({"kind": "label", "at": [ks[-1] + 0.2, ys[-1]], "text": name, "class": method, "anchor": "start"})
    return layers


def _cost_description(words, times, memory, explicit, session):
    text = f"{words}. "
    for method, name in COST_METHODS.items():
        ks = sorted(k for m, k in times if m == method)    # every measured k, not only the readouts' 1, 5, 10
        if ks:
            text += (f"{name}: " + ", ".join(f"{1000 * times[(method, k)]:.1f} ms and "
                                              f"{memory[(method, k)] / 1000:.1f} kB per task at k = {k}" for k in ks)
                     + ". ")
    for k, t in sorted(explicit.items()):
        text += f"With the matrices A_j formed explicitly, one task took {t:.1f} s at k = {k}. "
    if session and session["explicit_check"] is not None:
        text += (f"That route's meta-gradient matches the Hessian-vector route to a relative difference of "
                 f"{session['explicit_check']:.1e}. ")
    if session and session["product"] is not None:
        text += (f"Multiplying two of these matrices, as ∂φ⁽ᵏ⁾/∂θ needs, would take about {session['product']:.0f} s "
                 f"(estimated from a timed slice of {SLICE_ROWS} rows). ")
    d = MLP_MODEL.size
    text += (f"One such matrix for the sine MLP has {d:,}² floats, {format_bytes(8 * d * d)} per task; for a network "
             f"of a million parameters it would be {format_bytes(8 * MILLION ** 2)} (computed, not run).")
    return text
