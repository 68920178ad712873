"""Datasets (torch.utils.data shapes): Dataset, IterableDataset, TensorDataset, Subset,
ConcatDataset, ChainDataset, StackDataset, random_split."""
import bisect
import math

import numpy as np

from ..engine.random import generator as _default_generator
from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError


class Dataset:
    """A map-style dataset: ``__getitem__(i)`` and ``__len__``.

    Subclasses may also define ``_get_batch(indices)`` returning an already collated
    batch for an integer array of indices; DataLoader then skips the per-item loop.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream-style dataset: ``__iter__`` yields samples; DataLoader batches them in order.

    ``__len__`` is optional (``len()`` of a DataLoader over one without it is a TypeError).
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several IterableDatasets streamed one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class StackDataset(Dataset):
    """Item i is ``(a[i], b[i], ...)`` for ``StackDataset(a, b)`` or ``{"x": a[i], ...}``
    for ``StackDataset(x=a, ...)``; all datasets have the same length."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ArgumentError("Supported either ``tuple``- (via ``args``) or ``dict``- (via "
                                "``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ArgumentError("At least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            raise ArgumentError("Size mismatch between datasets")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


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
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise AssertionError("ConcatDataset does not support IterableDataset")
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
