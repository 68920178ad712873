"""Datasets (torch.utils.data shapes): Dataset, IterableDataset, TensorDataset, Subset,
ConcatDataset, ChainDataset, StackDataset, random_split."""
import bisect
import itertools
import math
import warnings

import numpy as np

from ..engine.random import generator as _default_generator
from ..engine.tensor import Tensor
from ..errors import ArgumentError, DimError, GradvizError


class DatasetAssertionError(GradvizError, AssertionError):
    """A dataset built from parts that do not fit (torch asserts there, so this is an
    AssertionError too)."""


class Dataset:
    """A map-style dataset: ``__getitem__(i)`` and ``__len__``.

    Subclasses may also define ``_get_batch(indices)`` returning an already collated
    batch for an integer array of indices; DataLoader then skips the per-item loop.
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

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
                raise DatasetAssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise DatasetAssertionError("ChainDataset only supports IterableDataset")
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

    def __getitems__(self, indices):
        """Items at ``indices`` as a list, each part fetched batched where it can be (what
        DataLoader calls, as torch's)."""
        parts = self.datasets.items() if isinstance(self.datasets, dict) \
            else enumerate(self.datasets)
        columns = {}
        for key, d in parts:
            if callable(getattr(d, "__getitems__", None)):
                got = d.__getitems__(indices)
                if len(got) != len(indices):
                    raise ArgumentError("Nested dataset's output size mismatch. Expected "
                                        f"{len(indices)}, got {len(got)}")
                columns[key] = list(got)
            else:
                columns[key] = [d[i] for i in indices]
        if isinstance(self.datasets, dict):
            return [{k: col[j] for k, col in columns.items()} for j in range(len(indices))]
        return [tuple(col[j] for col in columns.values()) for j in range(len(indices))]

    def __len__(self):
        return self._length


def fast_batch(dataset):
    """``dataset._get_batch`` where it stands for ``[dataset[i] for i in idx]`` collated:
    the class whose ``__getitem__`` is used provides it, and no subclass below that class
    changed ``__getitems__``; None otherwise (a subclass overriding ``__getitem__`` is
    then fetched item by item, so its override is honoured)."""
    mro = type(dataset).__mro__
    owner = next((c for c in mro if "__getitem__" in vars(c)), None)
    if owner is None or not ("_get_batch" in vars(owner) or "__getattr__" in vars(owner)):
        return None
    batched = next((c for c in mro if "__getitems__" in vars(c)), None)
    if batched is not None and batched is not owner and issubclass(batched, owner):
        return None
    return getattr(dataset, "_get_batch", None)


def _take(t, idx):
    """Rows ``idx`` of tensor ``t``; without graph when ``t`` needs no grad (the usual case)."""
    if t.requires_grad:
        return t[Tensor._wrap(idx)]
    return Tensor._wrap(t._data[idx])


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor: ``(x[i], y[i], ...)``."""

    def __init__(self, *tensors):
        for t in tensors:
            if not isinstance(t, Tensor):
                raise GradvizError(f"TensorDataset takes Tensors, got {type(t).__name__}")
            if t.ndim == 0:
                raise DimError("Dimension specified as 0 but tensor has no dimensions")
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise DatasetAssertionError(
                "Size mismatch between tensors: every tensor needs the same first dimension, "
                f"got {[tuple(t.shape) for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _get_batch(self, indices):
        return [_take(t, indices) for t in self.tensors]


class Subset(Dataset):
    """The items of ``dataset`` at ``indices`` (kept as given, as torch), in that order.

    A subclass that overrides ``__getitem__`` must override ``__getitems__`` too (torch's
    rule: DataLoader fetches batches through ``__getitems__``)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__. When subclassing "
                "Subset and overriding __getitem__, you must also override __getitems__ to "
                "ensure DataLoader works correctly with your custom logic. A simple "
                "implementation:\n\ndef __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]")

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        """Items at ``indices`` as a list, batched by the parent where it can (as torch)."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)

    def __getattr__(self, name):
        # the collated fast path, only where no subclass changes how items are fetched
        parent = fast_batch(self.dataset) if name == "_get_batch" else None
        if parent is not None:
            ind = self.indices
            base = np.asarray(ind.numpy() if isinstance(ind, Tensor) else ind, dtype=np.int64)
            return lambda idx: parent(base[idx])
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise DatasetAssertionError("datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise DatasetAssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    @staticmethod
    def cumsum(sequence):
        """Running totals of the datasets' lengths, as Python ints."""
        return list(itertools.accumulate(len(d) for d in sequence))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ArgumentError("absolute value of index should not exceed dataset length")
            idx += len(self)
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = 0 if d == 0 else self.cumulative_sizes[d - 1]
        return self.datasets[d][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping random Subsets of the given lengths (or fractions)."""
    n = len(dataset)
    lengths = list(lengths)
    # torch's test: lengths summing to 1 are fractions (so [1] or [0, 1] are too)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ArgumentError(f"Fraction at index {i} is not between 0 and 1")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):  # round-robin the remainder, as torch
            counts[i % len(counts)] += 1
        lengths = counts
        for i, k in enumerate(lengths):
            if k == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.", stacklevel=2)
    if sum(lengths) != n:
        raise ArgumentError(f"Sum of input lengths does not equal the length of the input "
                            f"dataset! ({sum(lengths)} != {n})")
    if any(not isinstance(k, (int, np.integer)) for k in lengths):
        raise TypeError(f"random_split: lengths must be ints or fractions summing to 1, got "
                        f"{lengths}")
    rng = generator if generator is not None else _default_generator()
    if not callable(getattr(rng, "permutation", None)):
        raise TypeError("random_split: generator should be a gv.Generator, got "
                        f"{type(rng).__name__}")
    perm = rng.permutation(n).tolist()
    out, start = [], 0
    for k in lengths:
        out.append(Subset(dataset, perm[start:start + k]))
        start += k
    return out
