"""Datasets (torch.utils.data shapes): Dataset, TensorDataset, Subset, ConcatDataset,
random_split."""
import bisect
import math

import numpy as np

from ..engine.random import generator as _default_generator
from ..engine.tensor import Tensor
from ..errors import GradvizError


class Dataset:
    """A map-style dataset: ``__getitem__(i)`` and ``__len__``.

    Subclasses may also define ``_get_batch(indices)`` returning an already collated
    batch for an integer array of indices; DataLoader then skips the per-item loop.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


def _take(t, idx):
    """Rows ``idx`` of tensor ``t``; without graph when ``t`` needs no grad (the usual case)."""
    if t.requires_grad:
        return t[Tensor._wrap(idx)]
    return Tensor._wrap(t._data[idx])


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor: ``(x[i], y[i], ...)``."""

    def __init__(self, *tensors):
        if not tensors:
            raise GradvizError("TensorDataset needs at least one tensor")
        n = tensors[0].shape[0] if tensors[0].ndim else None
        for t in tensors:
            if not isinstance(t, Tensor):
                raise GradvizError(f"TensorDataset takes Tensors, got {type(t).__name__}")
            if t.ndim == 0 or t.shape[0] != n:
                raise GradvizError("Size mismatch between tensors: every tensor needs the same "
                                   f"first dimension, got {[tuple(t.shape) for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _get_batch(self, indices):
        return [_take(t, indices) for t in self.tensors]


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)

    def __getattr__(self, name):
        if name == "_get_batch" and hasattr(self.dataset, "_get_batch"):
            base = np.asarray(self.indices, dtype=np.int64)
            return lambda idx: self.dataset._get_batch(base[idx])
        raise AttributeError(name)


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise GradvizError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise IndexError("index out of range")
            idx += len(self)
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = 0 if d == 0 else int(self.cumulative_sizes[d - 1])
        return self.datasets[d][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping random Subsets of the given lengths (or fractions)."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and \
            any(isinstance(x, float) for x in lengths):
        if any(not 0 <= f <= 1 for f in lengths):
            raise GradvizError(f"fractions must lie in [0, 1], got {lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):  # round-robin the remainder, as torch
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise GradvizError(f"Sum of input lengths ({sum(lengths)}) does not equal the length "
                           f"of the input dataset ({n})")
    rng = generator if generator is not None else _default_generator()
    perm = rng.permutation(n).tolist()
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[start:start + k]))
        start += k
    return out
