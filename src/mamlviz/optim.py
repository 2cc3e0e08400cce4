"""Outer (meta) optimisers: θ ← θ − β·direction (SGD) and Adam. Each returns a new θ; its state lives inside."""

from __future__ import annotations

import numpy as np


class SGD:
    """θ ← θ − β·d."""

    def __init__(self, lr):
        self.lr = lr

    def reset(self):
        pass

    def step(self, theta, direction):
        return theta - self.lr * direction

    def state(self):
        return {}

    def load_state(self, state):
        pass


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1): m ← β₁m + (1−β₁)d, v ← β₂v + (1−β₂)d², θ ← θ − β·m̂/(√v̂ + ε)."""

    def __init__(self, lr, betas=(0.9, 0.999), eps=1e-8):
        self.lr, self.betas, self.eps = lr, betas, eps
        self.reset()

    def reset(self):
        self.m = self.v = None
        self.t = 0

    def step(self, theta, direction):
        b1, b2 = self.betas
        if self.m is None:
            self.m, self.v = np.zeros_like(theta), np.zeros_like(theta)
        self.t += 1
        self.m = b1 * self.m + (1.0 - b1) * direction
        self.v = b2 * self.v + (1.0 - b2) * direction * direction
        step = self.lr * np.sqrt(1.0 - b2 ** self.t) / (1.0 - b1 ** self.t)   # bias corrections folded in
        return theta - step * self.m / (np.sqrt(self.v) + self.eps)

    def state(self):
        return {"m": self.m, "v": self.v, "t": self.t}

    def load_state(self, state):
        self.m, self.v, self.t = state["m"], state["v"], state["t"]


def make(name, lr):
    """An optimiser by name: "adam" or "sgd"."""
    if name == "adam":
        return Adam(lr)
    if name == "sgd":
        return SGD(lr)
    raise ValueError(f"unknown optimiser {name!r}; expected 'adam' or 'sgd'")
