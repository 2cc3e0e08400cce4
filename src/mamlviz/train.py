"""Meta-training in chunks: run N updates, draw, run the next N (the browser's lab), pause, resume, reset.

    trainer = MetaTrainer("maml", MLP(), TrainConfig(outer_lr=0.01), seed=0)
    report = trainer.run(50)          # 50 outer updates, then a held-out evaluation
    report["eval"]["median"][1]       # held-out median MSE after one adaptation step
    trainer.reset()                   # back to the initial θ (same seed)

In the browser, run chunks of 25–50 updates and draw between them; a held-out evaluation of the default 100 tasks
costs about as much as 20–30 updates, so pass `evaluate=False` to most chunks or use a lighter
`TrainConfig(eval_tasks=25, eval_query=25)`.

Nothing runs between calls, so "pause" is simply not calling `run` again; the state (θ, optimiser, random
stream, curves) stays inside the trainer. Tasks are resampled every update from the trainer's own Generator;
held-out tasks are fixed by `config.eval_seed`, the same for every method and every reset.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from mamlviz import optim, sine
from mamlviz.meta import inner_sgd, meta_gradient, proximal_descent


@dataclass(frozen=True)
class MethodSettings:
    """A method's inner procedure: α, k and, for iMAML, λ and the CG iterations (None for the other methods)."""

    inner_lr: float              # α
    inner_steps: int             # k
    reg: float | None = None     # λ of the proximal term (λ/2)‖φ − θ‖² (iMAML only)
    cg_steps: int | None = None  # CG iterations for the implicit meta-gradient (iMAML only)

    def to_dict(self):
        return asdict(self)


# The per-method defaults of the trainer, `mamlviz train`, `mamlviz bench` and the text (Parts 3–8).
# iMAML and Reptile: chosen by the runs of bench/compare_methods.py (numbers in src/mamlviz/data/README.md).
METHOD_SETTINGS = {
    "pretrained": MethodSettings(inner_lr=0.01, inner_steps=0),      # joint training: MAML with k = 0
    "maml": MethodSettings(inner_lr=0.01, inner_steps=1),
    "fomaml": MethodSettings(inner_lr=0.01, inner_steps=1),
    "reptile": MethodSettings(inner_lr=0.01, inner_steps=5),
    "imaml": MethodSettings(inner_lr=0.01, inner_steps=10, reg=100.0, cg_steps=5),   # α = 1/λ: the step cap
}


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of meta-training (defaults: the MAML paper's sine setup, with Adam at 0.01).

    inner_lr, inner_steps, reg and cg_steps left at None take the method's values from METHOD_SETTINGS."""

    n_tasks: int = 25            # meta-batch size
    n_support: int = 10          # K support points per task
    n_query: int = 10            # query points per task
    inner_lr: float | None = None    # α
    inner_steps: int | None = None   # k
    outer_lr: float = 0.01       # β
    optimizer: str = "adam"      # "adam" or "sgd"
    reg: float | None = None     # λ (iMAML only)
    cg_steps: int | None = None  # CG iterations (iMAML only)
    eval_tasks: int = 100        # held-out tasks
    eval_support: int = 10       # K of the held-out adaptation
    eval_query: int = 50         # query points per held-out task, over the whole x range
    eval_steps: int = 10         # evaluate after m = 0 … eval_steps adaptation steps
    eval_lr: float = 0.01        # α of the held-out adaptation
    eval_seed: int = 20170703    # fixes the held-out tasks
    max_loss: float = 1e6        # a training loss above this (or non-finite) counts as divergence

    def for_method(self, method):
        """This config with every inner setting left at None filled from METHOD_SETTINGS[method]."""
        defaults = METHOD_SETTINGS[method].to_dict()
        return replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})

    def settings(self):
        """The inner procedure of this (filled) config as MethodSettings."""
        return MethodSettings(self.inner_lr, self.inner_steps, self.reg, self.cg_steps)

    def to_dict(self):
        return asdict(self)


class MetaTrainer:
    """Meta-train `model` with `method` ("maml", "fomaml", "reptile", "imaml", or "pretrained" = maml with k = 0).

    run(n_updates) → report:
        iteration      outer updates done so far
        train_loss     mean query loss after adaptation, one per update of this chunk
        eval           {"steps": [0 … m], "median": [...], "mean": [...]}: held-out MSE after m steps (or None)
        diverged       True once an update went non-finite or above max_loss; θ is then rolled back to the last
                       good value, the trainer stops, and `message` says why (reset() to start again)
        message, seconds
    """

    def __init__(self, method, model, config=None, seed=0):
        if method not in METHOD_SETTINGS:
            raise ValueError(f"unknown method {method!r}; expected one of {tuple(METHOD_SETTINGS)}")
        config = (config or TrainConfig()).for_method(method)
        if method == "pretrained":
            method, config = "maml", replace(config, inner_steps=0)
        self.method, self.model, self.config, self.seed = method, model, config, seed
        eval_rng = np.random.default_rng(config.eval_seed)
        self.eval_batch = sine.sample(eval_rng, config.eval_tasks, config.eval_support, config.eval_query)
        self.reset()

    def reset(self):
        """Back to the initial θ of this seed, a fresh optimiser and empty curves."""
        self.rng = np.random.default_rng(self.seed)
        self.theta = self.model.init(self.rng)
        self.optimizer = optim.make(self.config.optimizer, self.config.outer_lr)
        self.iteration = 0
        self.train_curve = []            # mean query loss after adaptation, per update
        self.eval_curve = []             # (iteration, median MSE after 0 … m steps)
        self.diverged = False
        self.message = None

    def step(self):
        """One outer update; returns the mean query loss after adaptation, or None on divergence."""
        c = self.config
        batch = sine.sample(self.rng, c.n_tasks, c.n_support, c.n_query)
        direction, info = meta_gradient(self.method, self.model, self.theta, batch, inner_lr=c.inner_lr,
                                        inner_steps=c.inner_steps, reg=c.reg, cg_steps=c.cg_steps,
                                        query_before=False, kept_bytes=False)
        loss = float(info["loss_after"].mean())
        if info["nonfinite"] or not loss < c.max_loss:
            return self._diverge(f"training loss {loss:.3g} at update {self.iteration + 1}")
        with np.errstate(over="ignore", invalid="ignore"):
            theta = self.optimizer.step(self.theta, direction)
        if not np.isfinite(theta).all():
            return self._diverge(f"non-finite parameters at update {self.iteration + 1}")
        self.theta = theta
        self.iteration += 1
        self.train_curve.append(loss)
        return loss

    def _diverge(self, why):
        self.diverged = True
        self.message = f"Diverged: {why}; θ kept at the last good value (update {self.iteration}). " \
                       "Lower the learning rates and reset."
        return None

    def run(self, n_updates, evaluate=True):
        """Advance by up to `n_updates` outer updates (fewer if training diverges), then evaluate held-out."""
        start = time.perf_counter()
        losses = []
        for _ in range(int(n_updates)):
            if self.diverged:
                break
            loss = self.step()
            if loss is not None:
                losses.append(loss)
        ev = self.evaluate() if evaluate else None
        if ev is not None:
            self.eval_curve.append((self.iteration, ev["median"]))
        return {"iteration": self.iteration, "train_loss": losses, "eval": ev, "diverged": self.diverged,
                "message": self.message, "seconds": time.perf_counter() - start}

    def evaluate(self, theta=None):
        """Held-out MSE after m = 0 … eval_steps SGD steps (α = eval_lr) on each task's support set."""
        return evaluate(self.model, self.theta if theta is None else theta, self.eval_batch,
                        steps=self.config.eval_steps, lr=self.config.eval_lr)

    def evaluate_own(self, theta=None):
        """Held-out MSE after this method's own inner procedure (see `evaluate_own`)."""
        return evaluate_own(self.model, self.theta if theta is None else theta, self.eval_batch,
                            self.config.settings())


def evaluate(model, theta, batch, *, steps=10, lr=0.01):
    """Query MSE of every task after m = 0 … steps adaptation steps from θ, all tasks and steps vectorised.

    Returns {"steps": [0 … steps], "median": [...], "mean": [...], "mse": array (steps + 1, T)}; non-finite
    MSEs (a diverging adaptation) are reported as inf.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        path = inner_sgd(model, theta, batch.xs, batch.ys, lr=lr, steps=steps, keep_path=True).path
        t = batch.xq.shape[0]
        phis = np.concatenate([np.broadcast_to(p, (t, model.size)) for p in path])
        xq = np.broadcast_to(batch.xq, (len(path),) + batch.xq.shape).reshape((-1,) + batch.xq.shape[1:])
        yq = np.broadcast_to(batch.yq, (len(path),) + batch.yq.shape).reshape((-1,) + batch.yq.shape[1:])
        mse = model.loss(phis, xq, yq).reshape(len(path), t)
    mse = np.where(np.isfinite(mse), mse, np.inf)
    return {"steps": list(range(len(path))), "median": np.median(mse, axis=1).tolist(),
            "mean": mse.mean(axis=1).tolist(), "mse": mse}


def adapt(model, theta, x, y, settings):
    """A method's own inner procedure from θ on (x, y): k SGD steps at α, or, when λ is set, iMAML's
    `proximal_descent` (k steps of length at most α)."""
    if settings.reg is None:
        return inner_sgd(model, theta, x, y, lr=settings.inner_lr, steps=settings.inner_steps).phi
    return proximal_descent(model, theta, x, y, reg=settings.reg, steps=settings.inner_steps,
                            max_lr=settings.inner_lr).phi


def proximal_residual(model, theta, phi, x, y, reg):
    """‖∇L^tr(φ) + λ(φ − θ)‖ / ‖∇L^tr(θ)‖ per task: 0 when φ solves iMAML's inner problem, 1 for φ = θ."""
    g_phi = model.loss_grad(phi, x, y)[1]
    g_theta = model.loss_grad(np.broadcast_to(theta, g_phi.shape), x, y)[1]
    return np.linalg.norm(g_phi + reg * (phi - theta), axis=-1) / np.linalg.norm(g_theta, axis=-1)


def evaluate_own(model, theta, batch, settings):
    """Query MSE per task after the method's own inner procedure (`adapt`), with its median; for iMAML also the
    median relative inner-solve residual (`proximal_residual`), else None."""
    t = batch.xs.shape[0]
    theta_t = np.broadcast_to(theta, (t, model.size))
    with np.errstate(over="ignore", invalid="ignore"):
        phi = adapt(model, theta_t, batch.xs, batch.ys, settings)
        mse = model.loss(phi, batch.xq, batch.yq)
        residual = (float(np.median(proximal_residual(model, theta_t, phi, batch.xs, batch.ys, settings.reg)))
                    if settings.reg is not None else None)
    mse = np.where(np.isfinite(mse), mse, np.inf)
    return {"median": float(np.median(mse)), "mean": float(mse.mean()), "mse": mse, "residual": residual}


def train(method, model, config, seed, iterations, *, eval_every=500, progress=None):
    """Run a whole training (what `mamlviz train` does): chunks of `eval_every` updates, each followed by a
    held-out evaluation passed to `progress(report)` if given. Returns the trainer (θ and curves inside)."""
    trainer = MetaTrainer(method, model, config, seed)
    while trainer.iteration < iterations and not trainer.diverged:
        report = trainer.run(min(eval_every, iterations - trainer.iteration))
        if progress is not None:
            progress(report)
    return trainer
