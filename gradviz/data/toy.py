"""Toy 2-D classification sets, drawn as TensorFlow Playground draws them.

Each function returns ``(X, y)``: X float32 of shape (n, 2), y int64 of shape (n,)
(class 1 is Playground's "positive" orange/blue label, class 0 the other), shuffled.
``noise`` is Playground's noise slider as a fraction (its 0–50 % is 0.0–0.5); ``seed``
gives a private generator, otherwise ``gv.manual_seed`` decides. ``dataset=True``
returns a TensorDataset instead of the pair.
"""
import math

import numpy as np

from ..engine.random import generator as _default_generator
from ..engine.tensor import Tensor
from ..errors import GradvizError
from .dataset import TensorDataset


def _rng(seed):
    return _default_generator() if seed is None else np.random.default_rng(seed)


def _counts(n, classes):
    if n < classes:
        raise GradvizError(f"n={n} is too small for {classes} classes")
    return [n // classes + (1 if c < n % classes else 0) for c in range(classes)]


def _finish(xs, ys, rng, dataset):
    X = np.concatenate(xs).astype(np.float32)
    y = np.concatenate(ys).astype(np.int64)
    perm = rng.permutation(len(y))
    X, y = Tensor._wrap(np.ascontiguousarray(X[perm])), Tensor._wrap(y[perm])
    return TensorDataset(X, y) if dataset else (X, y)


def spiral(n=200, noise=0.0, classes=2, seed=None, dataset=False):
    """Interleaved spiral arms, one per class (Playground's spiral when classes=2)."""
    rng = _rng(seed)
    xs, ys = [], []
    for c, k in enumerate(_counts(n, classes)):
        i = np.arange(k) / k
        r = 5 * i
        t = 1.75 * i * 2 * math.pi + 2 * math.pi * c / classes
        pts = np.stack([r * np.sin(t), r * np.cos(t)], 1)
        xs.append(pts + rng.uniform(-1, 1, pts.shape) * noise)
        # Playground: the first arm (deltaT = 0) is the positive class
        ys.append(np.full(k, (1 - c) if classes == 2 else c))
    return _finish(xs, ys, rng, dataset)


def circles(n=200, noise=0.0, seed=None, dataset=False):
    """A disc (class 1) inside a ring (class 0); labels follow the noisy point, as Playground."""
    rng = _rng(seed)
    radius = 5.0
    xs, ys = [], []
    for k, (lo, hi) in zip(_counts(n, 2), ((0.0, 0.5 * radius), (0.7 * radius, radius))):
        r = rng.uniform(lo, hi, k)
        a = rng.uniform(0, 2 * math.pi, k)
        pts = np.stack([r * np.sin(a), r * np.cos(a)], 1)
        pts = pts + rng.uniform(-radius, radius, pts.shape) * noise
        xs.append(pts)
        ys.append((np.hypot(pts[:, 0], pts[:, 1]) < 0.5 * radius).astype(np.int64))
    return _finish(xs, ys, rng, dataset)


def xor(n=200, noise=0.0, seed=None, dataset=False):
    """Four quadrants: class 1 where x·y ≥ 0 (Playground's exclusive-or set)."""
    rng = _rng(seed)
    pts = rng.uniform(-5, 5, (n, 2))
    pts += np.where(pts > 0, 0.3, -0.3)
    pts += rng.uniform(-5, 5, (n, 2)) * noise
    return _finish([pts], [(pts[:, 0] * pts[:, 1] >= 0).astype(np.int64)], rng, dataset)


def gaussians(n=200, noise=0.0, seed=None, dataset=False):
    """Two Gaussian blobs at (2, 2) (class 1) and (-2, -2) (class 0); noise widens them."""
    rng = _rng(seed)
    variance = 0.5 + 7.0 * noise  # Playground maps noise 0..0.5 to variance 0.5..4
    xs, ys = [], []
    for k, (center, label) in zip(_counts(n, 2), ((2.0, 1), (-2.0, 0))):
        xs.append(center + math.sqrt(variance) * rng.standard_normal((k, 2)))
        ys.append(np.full(k, label))
    return _finish(xs, ys, rng, dataset)


def moons(n=200, noise=0.0, seed=None, dataset=False):
    """Two interleaving half circles (scikit-learn's make_moons); noise is a Gaussian std."""
    rng = _rng(seed)
    n_out, n_in = _counts(n, 2)
    a_out = np.linspace(0, math.pi, n_out)
    a_in = np.linspace(0, math.pi, n_in)
    outer = np.stack([np.cos(a_out), np.sin(a_out)], 1)
    inner = np.stack([1 - np.cos(a_in), 1 - np.sin(a_in) - 0.5], 1)
    pts = np.concatenate([outer, inner])
    if noise:
        pts = pts + rng.normal(0.0, noise, pts.shape)
    return _finish([pts], [np.r_[np.zeros(n_out), np.ones(n_in)]], rng, dataset)


TOY_SETS = {"spiral": spiral, "circles": circles, "xor": xor, "gaussians": gaussians,
            "moons": moons}
