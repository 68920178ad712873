"""The 8x8 handwritten digits (UCI "Optical Recognition of Handwritten Digits", 1797 images,
as bundled with scikit-learn; CC BY 4.0), shipped inside gradviz and read offline.

Stored as ``digits.npz`` (uint8 ``images`` (1797, 8, 8) with values 0..16, uint8 ``labels``)
and read with ``allow_pickle=False``.
"""
import os

import numpy as np

from ..engine.tensor import Tensor
from ..errors import GradvizError
from .dataset import TensorDataset

_PATH = os.path.join(os.path.dirname(__file__), "digits.npz")
N_TEST = 360  # the last 20 % of a fixed shuffle is the test split
_SPLIT_SEED = 0
_cache = None


def _load():
    global _cache
    if _cache is None:
        with np.load(_PATH, allow_pickle=False) as f:
            images, labels = f["images"], f["labels"]
        order = np.random.default_rng(_SPLIT_SEED).permutation(len(labels))
        _cache = images[order], labels[order].astype(np.int64)
    return _cache


def digits(split="train", flatten=True, normalize=True):
    """``(X, y)`` for ``split`` "train" (1437), "test" (360) or "all" (1797).

    X is float32, values scaled to [0, 1] (``normalize=False`` keeps 0..16), shaped (n, 64)
    or, with ``flatten=False``, (n, 1, 8, 8) for convolutions; y is int64 in 0..9. The split
    is the same on every machine and run.
    """
    images, labels = _load()
    if split == "train":
        sl = slice(0, len(labels) - N_TEST)
    elif split == "test":
        sl = slice(len(labels) - N_TEST, None)
    elif split == "all":
        sl = slice(None)
    else:
        raise GradvizError(f"digits split must be 'train', 'test' or 'all', got {split!r}")
    x = images[sl].astype(np.float32)
    if normalize:
        x /= 16.0
    x = x.reshape(len(x), 64) if flatten else x.reshape(len(x), 1, 8, 8)
    return Tensor._wrap(np.ascontiguousarray(x)), Tensor._wrap(labels[sl].copy())


class Digits(TensorDataset):
    """The shipped digits as a dataset of ``(image, label)``; see :func:`digits`."""

    classes = list(range(10))

    def __init__(self, split="train", flatten=False, normalize=True):
        x, y = digits(split, flatten=flatten, normalize=normalize)
        super().__init__(x, y)
        self.data, self.targets = x, y
