"""DataLoader: batches from samplers (shuffling from gradviz's seeded generator) or from an
IterableDataset's stream; default_collate / default_convert as torch's; ``num_workers > 0``
emulates torch's worker processes in this process (see ``DataLoader``)."""
import collections.abc
import copy
import math

import numpy as np

from ..engine import random as _random
from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .workers import WorkerInfo, get_worker_info  # noqa: F401  (torch's names, re-exported)
from .workers import _map_fetcher, _stream_fetcher, _Worker

_COLLATE_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                "lists; found {}")


class CollateError(GradvizError, TypeError):
    """default_collate met an element it cannot batch (a TypeError too, as torch's)."""


def _is_text(data):
    """str and bytes, NumPy's str_/bytes_ included (torch leaves them unconverted)."""
    return isinstance(data, (str, bytes))


def _numeric_array(arr):
    """Whether NumPy array ``arr`` holds numbers (torch refuses strings and objects)."""
    return arr.dtype.kind not in "OUSV"


def default_convert(data):
    """Turn NumPy arrays and scalars into tensors, recursing into dicts, namedtuples, tuples
    (which become lists, as torch) and lists; anything else is returned unchanged. The
    DataLoader's conversion when ``batch_size=None``."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return Tensor._wrap(data) if _numeric_array(data) else data
    if isinstance(data, np.generic) and not _is_text(data):
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(data[k]) for k in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not _is_text(data):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, items):
    """``items`` in a container of ``like``'s type where it can be made (as torch)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(items)
            return clone
        return type(like)(items)
    except TypeError:
        return items


def _rebuild_sequence(like, items):
    """``items`` in a sequence of ``like``'s type where it can be made (as torch)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def _stack(batch):
    """Stack same-shaped tensors into a new leading dim (torch.stack's checks)."""
    first = batch[0]
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise CollateError(f"expected Tensor as element {i} in argument 0, but got "
                               f"{type(t).__name__}")
        if t.shape != first.shape:
            raise GradvizError("stack expects each tensor to be equal size, but got "
                               f"{list(first.shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    if any(t.requires_grad for t in batch):
        from ..engine.functional import stack
        return stack(batch)
    from ..engine.backend import xp_of
    return Tensor._wrap(xp_of(first._data).stack([t._data for t in batch]))


def default_collate(batch):
    """Stack a list of samples into a batch as torch does: tensors and arrays are stacked,
    Python ints/floats/bools become int64/float64/bool tensors, tuples and lists are
    collated field by field (tuples give a list, as torch), dicts key by key."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if not _numeric_array(elem):
            raise CollateError(_COLLATE_ERR.format(elem.dtype))
        return _stack([Tensor._wrap(np.asarray(b)) for b in batch])
    if _is_text(elem):   # str, bytes, numpy.str_: the batch as it came (a tuple when nested)
        return batch
    if isinstance(elem, np.generic):
        return Tensor._wrap(np.asarray(batch))
    if isinstance(elem, float):
        return Tensor._wrap(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):   # bools too; torch.tensor(batch): a float among ints -> float32
        from ..engine.creation import tensor
        return tensor(list(batch))
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {k: default_collate([d[k] for d in batch]) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise GradvizError("each element in list of batch should be of equal size")
        columns = [default_collate(s) for s in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild_sequence(elem, columns)
    raise CollateError(_COLLATE_ERR.format(type(elem)))


class _InfiniteConstantSampler(Sampler):
    """The sampler of a DataLoader over an IterableDataset: None forever (as torch's)."""

    def __iter__(self):
        while True:
            yield None


class _DataLoaderIter:
    """One pass over a DataLoader: an iterator with ``len()`` (torch's iterator has one)."""

    def __init__(self, loader, batches):
        self._loader, self._batches = loader, batches

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self):
        return len(self._loader)


# attributes fixed once a DataLoader is built (torch raises on setting them)
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
           "persistent_workers")


class DataLoader:
    """Iterate over ``dataset`` in batches (torch.utils.data.DataLoader's arguments and
    checks).

    Map-style datasets are indexed by ``sampler`` (default: SequentialSampler, or
    RandomSampler with ``generator`` when ``shuffle``) grouped by ``batch_sampler``
    (default: BatchSampler(sampler, batch_size, drop_last)); a dataset with
    ``__getitems__`` is asked for each batch at once, as torch does. An IterableDataset is
    streamed and cut into batches of ``batch_size``. ``shuffle=True`` draws a new order each
    epoch from gradviz's generator, so ``gv.manual_seed`` makes it repeatable.

    ``num_workers=k > 0`` emulates torch's k worker processes in this process (gradviz
    sends nothing to other processes), so a script gives torch's batches in torch's order:
    each worker has a shallow copy of the dataset (its own attributes, shared data) and a
    WorkerInfo that ``get_worker_info()`` returns while its code runs (``__getitem__``,
    ``__iter__``, ``collate_fn``, ``worker_init_fn``, called once per worker per pass, or
    once with ``persistent_workers``). Map-style batches go to the workers in turn and come
    back in sampler order, as with ``num_workers=0``. Over an IterableDataset each worker
    iterates its own copy (so the data comes k times unless ``__iter__`` shards it by
    ``get_worker_info()``); batches are taken from the workers in turn, one that is
    exhausted dropping out. Each pass (only the first with ``persistent_workers``) draws a
    base seed from ``generator`` or the default generator (with ``num_workers=0`` too, as
    torch, so shuffling is the same for any k); worker i's seed is base seed + i: while
    it runs, gradviz's default generator and Python's ``random`` are seeded with it and
    NumPy's global RNG as torch seeds it, the caller's states being put back after (values
    differ from torch's: another generator). Unlike torch's, the workers' code runs in this
    process: what it does to objects it shares with the caller is seen by the caller, and
    another thread drawing random numbers meanwhile draws from the worker's stream; each
    batch costs a few hundred microseconds more to swap the random states. Nothing arrives
    out of order in one process, so ``in_order=False`` gives the same order;
    ``prefetch_factor``, ``timeout``, ``multiprocessing_context`` and ``pin_memory`` are
    checked as torch checks them and otherwise have no effect.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, multiprocessing_context=None, generator=None,
                 *, prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ArgumentError("num_workers option should be non-negative; use "
                                "num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ArgumentError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ArgumentError("prefetch_factor option could only be specified in "
                                "multiprocessing. let num_workers > 0 to enable "
                                "multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ArgumentError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ArgumentError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ArgumentError("multiprocessing_context can only be used with multi-process "
                                "loading (num_workers > 0), but got num_workers=0")
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
        elif batch_size is None and drop_last:
            raise ArgumentError("batch_size=None option disables auto-batching and is "
                                "mutually exclusive with drop_last")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = (RandomSampler(dataset, generator=generator) if shuffle
                           else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:   # checks batch_size as torch
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.persistent_workers = persistent_workers
        self._iterator = self._workers = None
        self._auto_collation = batch_sampler is not None
        # the _get_batch fast path stands in for default_collate only when none was passed
        self._default_collate = collate_fn is None and self._auto_collation
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, name, value):
        if name in _FROZEN and self.__dict__.get("_initialized", False):
            raise ArgumentError(f"{name} attribute should not be set after "
                                f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def _base_seed(self):
        """A draw from the loader's generator (or the default one), as torch's iterator makes
        for its workers' seeds, whatever ``num_workers``."""
        rng = self.generator if self.generator is not None else _random.generator()
        return int(rng.integers(0, 2 ** 63))

    def __iter__(self):
        if not self.num_workers:
            self._base_seed()   # drawn and unused, as torch's single-process iterator does
            return _DataLoaderIter(self, self._batches())
        if not self.persistent_workers:
            return _DataLoaderIter(self, self._worker_batches(self._start_workers()))
        if self._iterator is None:   # persistent workers: started once, resumed each pass
            self._iterator = _DataLoaderIter(self, None)
            self._workers = self._start_workers()
        else:
            for worker in self._workers:
                worker.resume(self)
        self._iterator._batches = self._worker_batches(self._workers)
        return self._iterator

    def _start_workers(self):
        base_seed = self._base_seed()
        return [_Worker(self, i, base_seed) for i in range(self.num_workers)]

    def _indices(self):
        """What the map-style fetcher is given, batch by batch."""
        if self.batch_sampler is None:
            return self.sampler
        if type(self.batch_sampler).__iter__ is BatchSampler.__iter__:
            return self.batch_sampler._chunks()
        return self.batch_sampler

    def _batches(self):
        if isinstance(self.dataset, IterableDataset):
            fetch = _stream_fetcher(self.dataset, self)
            while True:
                try:
                    batch = fetch(None)
                except StopIteration:
                    return
                yield batch
        fetch = _map_fetcher(self.dataset, self)
        for idx in self._indices():
            yield fetch(idx)

    def _worker_batches(self, workers):
        """torch's order: batches go to the workers in turn and come back in that order; an
        IterableDataset's worker leaves the turn when its copy is exhausted."""
        if isinstance(self.dataset, IterableDataset):
            live = list(workers)
            while live:
                for worker in list(live):
                    try:
                        batch = worker.batch(None)
                    except StopIteration:
                        live.remove(worker)
                        continue
                    yield batch
            return
        for i, idx in enumerate(self._indices()):
            yield workers[i % len(workers)].batch(idx)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)
