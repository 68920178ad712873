"""Samplers (torch.utils.data.sampler's shapes): index orders a DataLoader batches.

Random samplers draw from ``generator`` (a NumPy Generator) or, when it is None, from
gradviz's generator at iteration time, so ``gv.manual_seed`` makes each epoch repeatable.
"""
import numpy as np

from ..engine.random import generator as _default_generator
from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError


def _positive_int(x):
    return isinstance(x, int) and not isinstance(x, bool) and x > 0


class Sampler:
    """Base class: ``__iter__`` yields dataset indices; ``__len__`` is optional."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    # Built-in samplers define ``_index_array()``: one pass as an int64 array, which lets
    # BatchSampler and DataLoader slice instead of looping in Python.
    _index_array = None


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation (repeated for ``num_samples`` > n), or draws with replacement."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if not _positive_int(self.num_samples):
            raise ArgumentError("num_samples should be a positive integer value, but got "
                                f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        """How many indices one pass yields (len(data_source) unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self):
        n, k = len(self.data_source), self.num_samples
        rng = self.generator if self.generator is not None else _default_generator()
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=np.int64)
        parts = [rng.permutation(n) for _ in range(k // n)]
        if k % n:
            parts.append(rng.permutation(n)[:k % n])
        return np.concatenate(parts).astype(np.int64)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, without replacement."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        rng = self.generator if self.generator is not None else _default_generator()
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _positive_int(num_samples):
            raise ArgumentError("num_samples should be a positive integer value, but got "
                                f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ArgumentError("replacement should be a boolean value, but got "
                                f"replacement={replacement}")
        w = weights.numpy() if isinstance(weights, Tensor) else np.asarray(weights)
        if w.ndim != 1:
            raise ArgumentError("weights should be a 1d sequence but given weights have "
                                f"shape {tuple(w.shape)}")
        self.weights = Tensor._wrap(w.astype(np.float64))
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _index_array(self):
        w = self.weights.numpy()
        if not np.isfinite(w).all():   # torch.multinomial's messages
            raise GradvizError("invalid multinomial distribution (encountering probability "
                               "entry = infinity or NaN)")
        if (w < 0).any():
            raise GradvizError("invalid multinomial distribution (encountering probability "
                               "entry < 0)")
        if w.sum() <= 0:
            raise GradvizError("invalid multinomial distribution (sum of probabilities <= 0)")
        n, k = len(w), self.num_samples
        if not self.replacement and k > n:
            raise GradvizError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement (num_samples={k}, {n} weights)")
        rng = self.generator if self.generator is not None else _default_generator()
        if self.replacement:
            return rng.choice(n, size=k, p=w / w.sum()).astype(np.int64)
        # as torch.multinomial: zero-weight indices come last, once the others are used up
        live = np.flatnonzero(w)
        first = rng.choice(live, size=min(k, len(live)), replace=False, p=w[live] / w.sum())
        rest = rng.permutation(np.flatnonzero(w == 0))[:k - len(first)]
        return np.concatenate([first, rest]).astype(np.int64)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size`` (last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not _positive_int(batch_size):
            raise ArgumentError("batch_size should be a positive integer value, but got "
                                f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ArgumentError(f"drop_last should be a boolean value, but got "
                                f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _chunks(self):
        """The batches as int64 arrays, sliced from one array when the sampler is one of
        gradviz's; lists of whatever a custom sampler yields otherwise."""
        if getattr(self.sampler, "_index_array", None) is not None:
            order = self.sampler._index_array()
            stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
            for start in range(0, stop, self.batch_size):
                yield order[start:start + self.batch_size]
            return
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self):
        for idx in self._chunks():
            yield idx.tolist() if isinstance(idx, np.ndarray) else idx

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
