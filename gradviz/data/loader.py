"""DataLoader: batches from samplers (shuffling from gradviz's seeded generator) or from an
IterableDataset's stream; default_collate / default_convert as torch's."""
import collections.abc
import copy
import math

import numpy as np

from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def get_worker_info():
    """Information about the current loader worker: always None, because gradviz's
    DataLoader loads in the calling process (``num_workers`` is accepted and ignored)."""
    return None


def default_convert(data):
    """Turn NumPy arrays and scalars into tensors, recursing into dicts, namedtuples, tuples
    (which become lists, as torch) and lists; anything else is returned unchanged. The
    DataLoader's conversion when ``batch_size=None``."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OUS" else Tensor._wrap(data)
    if isinstance(data, np.generic) and data.dtype.kind not in "OUS":
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        try:
            clone = copy.copy(data)
            clone.update({k: default_convert(v) for k, v in data.items()})
            return clone
        except AttributeError:
            return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def default_collate(batch):
    """Stack a list of samples into a batch as torch does: tensors and arrays are stacked,
    Python ints/floats/bools become int64/float64/bool tensors, tuples and lists are
    collated field by field (tuples give a list, as torch), dicts key by key."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(t.requires_grad for t in batch):
            from ..engine.functional import stack
            return stack(batch)
        from ..engine.backend import xp_of
        return Tensor._wrap(xp_of(elem._data).stack([t._data for t in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUS":
            raise GradvizError(f"default_collate: arrays of dtype {elem.dtype} cannot be "
                               "batched")
        return Tensor._wrap(np.stack(batch))
    if isinstance(elem, np.generic):
        return Tensor._wrap(np.asarray(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor._wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor._wrap(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise GradvizError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise GradvizError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                       f"dicts or lists; found {type(elem).__name__}")


class DataLoader:
    """Iterate over ``dataset`` in batches (torch.utils.data.DataLoader's arguments and
    checks).

    Map-style datasets are indexed by ``sampler`` (default: SequentialSampler, or
    RandomSampler with ``generator`` when ``shuffle``) grouped by ``batch_sampler``
    (default: BatchSampler(sampler, batch_size, drop_last)). An IterableDataset is
    streamed and cut into batches of ``batch_size``. ``shuffle=True`` draws a new order each
    epoch from gradviz's generator, so ``gv.manual_seed`` makes it repeatable. Loading runs
    in this process: ``num_workers`` and ``pin_memory`` are accepted and ignored.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 generator=None, **_ignored):
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ArgumentError("DataLoader with IterableDataset: expected unspecified "
                                    f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ArgumentError("DataLoader with IterableDataset: expected unspecified "
                                    f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ArgumentError("DataLoader with IterableDataset: expected unspecified "
                                    f"batch_sampler option, but got "
                                    f"batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ArgumentError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ArgumentError("batch_sampler option is mutually exclusive with "
                                    "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ArgumentError("batch_size=None option disables auto-batching and is "
                                    "mutually exclusive with drop_last")
        elif not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ArgumentError(f"batch_size should be a positive integer, got {batch_size!r}")
        if sampler is None and not iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.generator = generator
        self._auto_collation = batch_sampler is not None or (iterable and batch_size is not None)
        # the _get_batch fast path stands in for default_collate only when none was passed
        self._default_collate = collate_fn is None and self._auto_collation
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def _iter_stream(self):
        if self.batch_size is None:
            for item in self.dataset:
                yield self.collate_fn(item)
            return
        batch = []
        for item in self.dataset:
            batch.append(item)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __iter__(self):
        ds = self.dataset
        if isinstance(ds, IterableDataset):
            yield from self._iter_stream()
            return
        if self.batch_sampler is None:
            for i in self.sampler:
                yield self.collate_fn(ds[i])
            return
        fast = self._default_collate and getattr(ds, "_get_batch", None)
        plain = type(self.batch_sampler).__iter__ is BatchSampler.__iter__
        chunks = self.batch_sampler._chunks() if plain else self.batch_sampler
        for idx in chunks:
            if isinstance(idx, np.ndarray):
                if fast:
                    yield fast(idx)
                    continue
                idx = idx.tolist()
            if fast:
                yield fast(np.asarray(list(idx), dtype=np.int64))
            else:
                yield self.collate_fn([ds[i] for i in idx])

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)
