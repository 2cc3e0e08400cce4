"""Meta-gradients of MAML, first-order MAML, Reptile and iMAML, on any model with the `mamlviz.nn` interface.

    direction, info = meta_gradient(method, model, theta, batch, inner_lr=α, inner_steps=k, reg=λ, cg_steps=n)
    theta = theta - beta * direction            # the outer step, averaged over the tasks of the batch

`batch` is anything with support (xs, ys) and query (xq, yq) arrays of shape (T, N, d): `mamlviz.sine.sample`
or `mamlviz.toy.*_tasks`. All tasks are processed at once (no Python loop over tasks). Before adaptation every
task starts from the same θ, so the first support pass is one large product over all tasks' points.

`info` (arrays per task, leading axis T):
    loss_before, loss_after     query loss at θ and at the adapted φ, shape (T,) (loss_before: unless
                                query_before=False, which saves a forward pass)
    support_loss_before         support loss at θ, shape (T,)
    phi                         adapted parameters φ, (T, P)
    task_directions             each task's direction before averaging, (T, P) (MAML: with per_task=True)
    path                        φ^(0) = θ, φ^(1), …, φ^(k), shape (k + 1, T, P), only with keep_path=True
    cg_residuals, nonpd         iMAML only: ‖residual‖ per CG iteration (cg_steps + 1, T); non-PD flag (T,)
    kept_bytes                  bytes of the arrays kept for the backward pass (MAML: k linearisations; FOMAML,
                                Reptile: φ^(k); iMAML: φ^(k) and one linearisation at it), all tasks together
    inner_residual              iMAML only: ‖∇L^tr(φ) + λ(φ − θ)‖ per task (T,), 0 when φ solves the inner problem
    nonfinite                   True when any loss or the direction is not finite (the caller must not step)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mamlviz import fused
from mamlviz.cg import cg

METHODS = ("maml", "fomaml", "reptile", "imaml")


@dataclass
class InnerPath:
    """Result of `inner_sgd`: φ^(k), the support losses L(φ^(j)), the HVP functions at φ^(j) (j < k, only with
    keep_hvps=True), the path (only with keep_path=True)."""

    phi: np.ndarray
    losses: list = field(default_factory=list)
    hvps: list = field(default_factory=list)
    path: list = field(default_factory=list)
    query_factors: list | None = None      # the query gradient's factors at φ^(k) (see `nn.loss_grad_factors`)

    @property
    def nbytes(self):
        """Bytes of the arrays this result keeps alive: φ^(k), the path, and what each kept HVP function holds."""
        return held_bytes([self.phi, self.path, self.hvps])


def held_bytes(obj):
    """Bytes of the distinct NumPy buffers reachable from `obj` (arrays, lists, tuples, dicts, the cells of a
    closure such as an HVP function). Views count once, as their base buffer; Python objects themselves are not
    counted. This is how the cost figure of Part 4 measures the memory a method keeps."""
    seen, buffers, stack = set(), {}, [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            base = o
            while isinstance(base.base, np.ndarray):
                base = base.base
            buffers[id(base)] = base.nbytes
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif isinstance(o, dict):
            stack.extend(o.values())
        elif callable(o) and getattr(o, "__closure__", None):
            stack.extend(c.cell_contents for c in o.__closure__)
    return sum(buffers.values())


def inner_sgd(model, theta, x, y, *, lr, steps, reg=None, keep_path=False, keep_hvps=False):
    """k steps of gradient descent on the support loss, from θ, for all tasks at once: U^(k)(θ).

    φ^(0) = θ,  φ^(j+1) = φ^(j) − α ∇L^tr(φ^(j))                (MAML, FOMAML, Reptile)
    φ^(j+1) = φ^(j) − α (∇L^tr(φ^(j)) + λ(φ^(j) − θ))           (a proximal objective, with reg = λ: Part 7's bumps;
                                                                  the sine iMAML uses `proximal_descent`)

    θ has shape (P,) (shared by the T tasks of x, y) or (T, P). keep_hvps=True keeps the HVP function at each φ^(j)
    (it holds that step's forward pass), so MAML can backpropagate through the steps without recomputing them:
    memory linear in k. Without it only the current step is alive (FOMAML, Reptile): memory independent of k.
    """
    phi = theta
    inner = InnerPath(phi=phi, path=[theta] if keep_path else [])
    for _ in range(int(steps)):
        loss, grad, hvp = model.linearize(phi, x, y)
        if reg is not None:
            grad = grad + reg * (phi - theta)                 # ∇[L^tr(φ) + (λ/2)‖φ − θ‖²]
        phi = phi - lr * grad
        inner.losses.append(loss)
        if keep_hvps:
            inner.hvps.append(hvp)
        if keep_path:
            inner.path.append(phi)
    inner.phi = phi
    return inner


def proximal_descent(model, theta, x, y, *, reg, steps, max_lr, keep_path=False):
    """iMAML's inner problem  min_φ L^tr(φ) + (λ/2)‖φ − θ‖²  by steepest descent, each step as long as the local
    curvature along it allows:

        r_j = ∇L^tr(φ_j) + λ(φ_j − θ),   α_j = min(r_jᵀr_j / r_jᵀ(∇²L^tr(φ_j) + λI)r_j, max_lr),   φ_{j+1} = φ_j − α_j r_j

    (the exact minimiser along r_j of the local quadratic model; max_lr where that curvature is ≤ 0). A fixed α
    needs α(λ + top curvature) < 2, and meta-training keeps raising the curvature of the sine MLP until a fixed α
    diverges; this step adapts. One Hessian-vector product a step, on the linearisation the gradient already made.
    Returns an `InnerPath` (no HVP functions kept).
    """
    phi = theta
    inner = InnerPath(phi=phi, path=[theta] if keep_path else [])
    for _ in range(int(steps)):
        loss, grad, hvp = model.linearize(phi, x, y)
        r = grad + reg * (phi - theta)
        rr = (r * r).sum(axis=-1)
        curvature = (r * hvp(r)).sum(axis=-1) + reg * rr
        positive = curvature > 0
        lr = rr / curvature if positive.all() else np.where(positive, rr / np.where(positive, curvature, 1.0), max_lr)
        phi = phi - np.minimum(lr, max_lr)[..., None] * r
        inner.losses.append(loss)
        if keep_path:
            inner.path.append(phi)
    inner.phi = phi
    return inner


def task_mean(g):
    """Mean over the task axis (axis 0). Written as a sum: in Pyodide's NumPy `g.mean(axis=0)` of a (25, 1761)
    array costs ~30 sums' worth (its generic reduction path), about 0.3 ms per meta-update."""
    return g.sum(axis=0) / g.shape[0]


def _adapt_and_query(model, theta, batch, inner_lr, inner_steps, keep_path, *, query_before, kept_bytes, reg=None,
                     keep_hvps=False):
    """Shared by all methods: adapt on the support set (iMAML: `proximal_descent`), then the query loss and its
    gradient at φ. kept_bytes=False skips measuring the memory kept (walking the HVP closures costs ~0.2 ms)."""
    if reg is None:
        inner = inner_sgd(model, theta, batch.xs, batch.ys, lr=inner_lr, steps=inner_steps, keep_path=keep_path,
                          keep_hvps=keep_hvps)
    else:
        inner = proximal_descent(model, theta, batch.xs, batch.ys, reg=reg, steps=inner_steps, max_lr=inner_lr,
                                 keep_path=keep_path)
    if hasattr(model, "loss_grad_factors"):        # models of the `mamlviz.nn` interface; plain ones: loss_grad
        loss_after, grad_q, inner.query_factors = model.loss_grad_factors(inner.phi, batch.xq, batch.yq)
    else:
        loss_after, grad_q = model.loss_grad(inner.phi, batch.xq, batch.yq)
    info = {"loss_after": loss_after}
    if kept_bytes:
        info["kept_bytes"] = inner.nbytes
    if query_before or not inner_steps:
        info["loss_before"] = model.loss(theta, batch.xq, batch.yq) if inner_steps else loss_after  # pragma: no mutate: route
    if inner.losses or query_before:
        info["support_loss_before"] = inner.losses[0] if inner.losses else model.loss(theta, batch.xs, batch.ys)  # pragma: no mutate: route
    info["phi"] = np.broadcast_to(inner.phi, grad_q.shape)
    if keep_path:
        info["path"] = np.stack([np.broadcast_to(p, grad_q.shape) for p in inner.path])
    return inner, grad_q, info


def back_through_steps(hvps, g, inner_lr, factors=None):
    """g carried back through the inner steps whose HVP functions are `hvps`, the last step first:
    g ← (I − α ∇²L^tr(φ^(j))) g for j = k − 1, …, 0. `factors`: the first product's (see `maml_direction`)."""
    factors = factors or {}
    for hvp in reversed(hvps):
        g = g - inner_lr * hvp(g, **factors)
        factors = {}
    return g


# What each task contributes, from the inner pass (θ, the InnerPath with φ^(k), the query gradient g at φ^(k), α):
# MAML carries g back through the steps (their HVP functions kept), FOMAML takes g itself, Reptile θ − φ^(k).
TASK_RULES = {"maml": lambda theta, inner, g, lr: back_through_steps(inner.hvps, g, lr),
              "fomaml": lambda theta, inner, g, lr: g,
              "reptile": lambda theta, inner, g, lr: theta - np.broadcast_to(inner.phi, g.shape)}


def maml_direction(model, theta, batch, *, inner_lr, inner_steps, keep_path=False, per_task=False,
                   query_before=True, kept_bytes=True):
    """Second-order MAML (Finn, Abbeel & Levine 2017, Eq. 1 and Algorithm 1 line 8), exact for any k:

        ∇_θ L^te(U^(k)(θ)) = A_0 A_1 ⋯ A_{k−1} ∇L^te(φ^(k)),   A_j = I − α ∇²L^tr(φ^(j)),   φ^(0) = θ,

    that is (I − α∇²L^tr(φ^(0)))(I − α∇²L^tr(φ^(1)))⋯(I − α∇²L^tr(φ^(k−1)))·∇L^te(φ^(k)): the query gradient at
    φ^(k) meets A_{k−1} first and A_0 last. It is backpropagated through the inner steps as a vector, with
    Hessian-vector products only (never a d×d matrix).
    With k = 0 this is the pretrained (joint-training) gradient ∇L^te(θ). The last product, at the shared θ, is
    summed over tasks in one pass unless per_task=True asks for each task's direction.
    With k = 1 and only the mean direction asked for, an MSE `nn.MLP` takes `mamlviz.fused.maml_step`, the same
    quantity arranged so that no per-task weight matrix is formed (the trainer's hot path).
    """
    if fused.applies(model, inner_steps, per_task, keep_path, kept_bytes):
        return fused.maml_step(model, theta, batch, inner_lr, query_before=query_before)
    inner, g, info = _adapt_and_query(model, theta, batch, inner_lr, inner_steps, keep_path,
                                       query_before=query_before, keep_hvps=True, kept_bytes=kept_bytes)
    # The first product meets g = ∇L^te(φ^(k)) itself, whose factored form (if the model has one) is cheaper.
    factors = {"factors": inner.query_factors} if inner.query_factors is not None else {}  # pragma: no mutate: route
    steps = inner.hvps if per_task else inner.hvps[1:]
    if steps:
        g, factors = back_through_steps(steps, g, inner_lr, factors), {}   # the factors were g's, used up
    if per_task or not inner.hvps:
        info["task_directions"] = g
        return task_mean(g), info
    t = g.shape[0]
    hg = inner.hvps[0](g, reduce=True, **factors)                 # Σ_t ∇²L_t(θ) g_t
    return task_mean(g) - (inner_lr / t) * hg, info               # mean_t (I − α∇²L_t(θ)) g_t


def fomaml_direction(model, theta, batch, *, inner_lr, inner_steps, keep_path=False, query_before=True,
                     kept_bytes=True):
    """First-order MAML (Finn et al. 2017, Section 5.2): MAML with ∂U/∂θ ≈ I, i.e. the Hessian term dropped:

        g = ∇L^te(φ_k).
    """
    inner, g, info = _adapt_and_query(model, theta, batch, inner_lr, inner_steps, keep_path,
                                      query_before=query_before, kept_bytes=kept_bytes)
    d = info["task_directions"] = TASK_RULES["fomaml"](theta, inner, g, inner_lr)
    return task_mean(d), info


def reptile_direction(model, theta, batch, *, inner_lr, inner_steps, keep_path=False, query_before=True,
                      kept_bytes=True):
    """Reptile (Nichol, Achiam & Schulman 2018, Algorithm 2, batched): direction θ − mean_i φ_i, so the outer step
    θ ← θ − ε(θ − φ̄) = θ + ε(φ̄ − θ) moves toward the mean of the adapted parameters. Uses the support set only
    (no split needed; the query loss is reported). With k = 1: θ − φ = α ∇L^tr(θ), joint training.
    """
    inner, g, info = _adapt_and_query(model, theta, batch, inner_lr, inner_steps, keep_path,
                                      query_before=query_before, kept_bytes=kept_bytes)
    d = info["task_directions"] = TASK_RULES["reptile"](theta, inner, g, inner_lr)
    return task_mean(d), info


def imaml_direction(model, theta, batch, *, inner_lr, inner_steps, reg, cg_steps, keep_path=False,
                    query_before=True, kept_bytes=True):
    """Implicit MAML (Rajeswaran, Finn, Kakade & Levine 2019, Eq. 4–7 and Algorithm 2):

        φ ≈ argmin_φ L^tr(φ) + (λ/2)‖φ − θ‖²      (k steps of `proximal_descent` from θ, steps ≤ α)
        dφ/dθ = (I + ∇²L^tr(φ)/λ)⁻¹               (stationarity; independent of the optimiser's path)
        (I + ∇²L^tr(φ)/λ) g = ∇L^te(φ)             (solved by CG: Hessian on SUPPORT data at φ, QUERY gradient)
    """
    if reg is None or not reg > 0:
        raise ValueError(f"imaml needs reg = λ > 0, got {reg}")
    inner, grad_q, info = _adapt_and_query(model, theta, batch, inner_lr, inner_steps, keep_path, reg=reg,
                                               query_before=query_before, kept_bytes=False)
    _, grad_s, hvp = model.linearize(inner.phi, batch.xs, batch.ys)   # ∇L^tr and ∇²L^tr at φ
    if kept_bytes:
        info["kept_bytes"] = held_bytes([inner.phi, inner.path, hvp])
    info["inner_residual"] = np.linalg.norm(grad_s + reg * (inner.phi - theta), axis=-1)   # 0 when φ solves it
    g, cg_info = cg(lambda v: v + hvp(v) / reg, grad_q, cg_steps)
    info["cg_residuals"] = cg_info["residuals"]
    info["nonpd"] = cg_info["nonpd"]
    info["task_directions"] = g
    return task_mean(g), info


_DIRECTIONS = {"maml": maml_direction, "fomaml": fomaml_direction, "reptile": reptile_direction,
               "imaml": imaml_direction}


def meta_gradient(method, model, theta, batch, *, inner_lr, inner_steps, reg=None, cg_steps=None,
                  keep_path=False, per_task=False, query_before=True, kept_bytes=True):
    """The meta-update direction of `method` ("maml", "fomaml", "reptile", "imaml") for θ (P,) on a task batch.

    Returns (direction (P,), info); the outer step is θ ← θ − β·direction. inner_lr = α, inner_steps = k;
    iMAML also takes reg = λ and cg_steps (default 5), and there inner_lr caps its step length (see
    `proximal_descent`). keep_path: record the inner path in info["path"].
    per_task: MAML also returns each task's direction in info["task_directions"] (the other methods always do;
    MAML otherwise sums its last Hessian-vector product over tasks in one pass, which is faster).
    query_before=False skips the query loss at θ (one forward pass; the trainer does not need it), and
    info["loss_before"] is then absent; kept_bytes=False leaves out info["kept_bytes"] (the trainer's lean mode,
    with query_before=False). See the module docstring for `info`.
    """
    if method not in _DIRECTIONS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    theta = np.asarray(theta, dtype=float)
    if theta.shape != (model.size,):
        raise ValueError(f"theta has shape {theta.shape}, expected ({model.size},)")
    if inner_steps < 0:
        raise ValueError(f"inner_steps must be ≥ 0, got {inner_steps}")
    kwargs = {"inner_lr": inner_lr, "inner_steps": inner_steps, "keep_path": keep_path, "query_before": query_before,
              "kept_bytes": kept_bytes}
    if method == "maml":
        kwargs["per_task"] = per_task
    if method == "imaml":
        kwargs.update(reg=reg, cg_steps=5 if cg_steps is None else cg_steps)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        direction, info = _DIRECTIONS[method](model, theta, batch, **kwargs)
        info["nonfinite"] = not (np.isfinite(direction).all() and np.isfinite(info["loss_after"]).all()
                                 and np.isfinite(info.get("loss_before", 0.0)).all())
    return direction, info


def meta_gradients(thetas, model, batch, *, inner_lr, inner_steps, reg=None, cg_steps=None):
    """Several methods' directions at once, each from its own θ: {method: θ (P,)} → {method: (direction, info)},
    each equal (to rounding) to `meta_gradient(method, model, θ, batch, …, query_before=False, kept_bytes=False)`.

    MAML, FOMAML and Reptile share one inner pass: their θ are stacked along a leading axis, (S, 1, P) against the
    T tasks, adapted together, and each takes its `TASK_RULES` entry from its slice. This needs a model whose leading
    axes broadcast (the toy models); it costs the NumPy calls of one method instead of three (Part 8's trajectories
    advance the methods in lock-step). iMAML solves its own inner problem, through `meta_gradient`.
    info: loss_after (T,), phi (T, P), task_directions (T, P), nonfinite.
    """
    out = {m: meta_gradient(m, model, theta, batch, inner_lr=inner_lr, inner_steps=inner_steps, reg=reg,
                            cg_steps=cg_steps, query_before=False, kept_bytes=False)
           for m, theta in thetas.items() if m not in TASK_RULES}
    shared = [m for m in thetas if m in TASK_RULES]
    if not shared:
        return out
    theta = np.stack([np.asarray(thetas[m], dtype=float) for m in shared])[:, None, :]
    if theta.shape[-1] != model.size:
        raise ValueError(f"theta has shape {theta.shape[2:]}, expected ({model.size},)")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        inner, g, info = _adapt_and_query(model, theta, batch, inner_lr, inner_steps, False, query_before=False,
                                          kept_bytes=False, keep_hvps="maml" in shared)
        for i, m in enumerate(shared):
            per_task = TASK_RULES[m](theta, inner, g, inner_lr)[i]
            direction = task_mean(per_task)
            nonfinite = not (np.isfinite(direction).all() and np.isfinite(info["loss_after"][i]).all())
            out[m] = direction, {"loss_after": info["loss_after"][i], "phi": info["phi"][i],
                                 "task_directions": per_task, "nonfinite": nonfinite}
    return out
