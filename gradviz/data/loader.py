"""DataLoader: batches, shuffling from gradviz's seeded generator, default collation."""
import collections.abc
import math

import numpy as np

from ..engine.random import generator as _default_generator
from ..engine.tensor import Tensor
from ..errors import GradvizError


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
    """Iterate over ``dataset`` in batches (torch.utils.data.DataLoader's common arguments).

    ``shuffle=True`` draws a new order each epoch from gradviz's generator, so
    ``gv.manual_seed`` makes it repeatable. Loading runs in this process: ``num_workers``
    and ``pin_memory`` are accepted for compatibility and ignored.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 generator=None, **_ignored):
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise GradvizError(f"batch_size should be a positive integer, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise GradvizError("sampler option is mutually exclusive with shuffle")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.generator = generator

    def _order(self):
        if self.sampler is not None:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if self.shuffle:
            rng = self.generator if self.generator is not None else _default_generator()
            return rng.permutation(n)
        return np.arange(n)

    def _batches(self):
        if self.batch_sampler is not None:
            for b in self.batch_sampler:
                yield np.asarray(list(b), dtype=np.int64)
            return
        order = self._order()
        bs = self.batch_size
        stop = len(order) - len(order) % bs if self.drop_last else len(order)
        for start in range(0, stop, bs):
            yield order[start:start + bs]

    def __iter__(self):
        ds = self.dataset
        if self.batch_size is None and self.batch_sampler is None:
            for i in self._order():
                item = ds[int(i)]
                yield self.collate_fn(item) if self.collate_fn is not None else item
            return
        fast = self.collate_fn is None and getattr(ds, "_get_batch", None)
        collate = self.collate_fn or default_collate
        for idx in self._batches():
            if fast:
                yield fast(idx)
            else:
                yield collate([ds[int(i)] for i in idx])

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
