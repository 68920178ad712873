"""gv.data against torch.utils.data: collated container types and dtypes, error types and
messages, DataLoader argument checks, ``__getitems__`` batch fetching, dataset subclasses
honoured by the loader, random_split's fractions; every case run in both libraries."""
import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import gradviz as gv
import gradviz.utils.data as gud

LIBS = {"torch": (torch, tud), "gv": (gv, gud)}
Point = collections.namedtuple("Point", "x y")


class MyList(list):
    pass


class MyDict(dict):
    pass


def _desc(x):
    """A library-neutral picture of a (nested) result: containers' types, tensors' shapes,
    dtypes and values."""
    if isinstance(x, (torch.Tensor, gv.Tensor)):
        return ("T", tuple(x.shape), str(x.dtype).split(".")[-1], x.tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _desc(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_desc(v) for v in x])
    return (type(x).__name__, x)


def _both(fn):
    """fn(lib, data_module) in torch and in gradviz: (torch's, gv's) result or exception."""
    out = []
    for name in ("torch", "gv"):
        try:
            out.append(_desc(fn(*LIBS[name])))
        except Exception as e:  # noqa: BLE001 - the exception is the result compared
            out.append(e)
    return out


def _same_error(fn, match):
    """Both raise; gradviz's error is an instance of torch's type, both messages match."""
    want, got = _both(fn)
    assert isinstance(want, Exception) and isinstance(got, type(want)), (want, got)
    assert match in str(want) and match in str(got), (str(want), str(got))


def _tds(lib, n=6):
    t, d = lib
    return d.TensorDataset(t.arange(n * 2, dtype=t.float32).reshape(n, 2), t.arange(n))


@pytest.mark.parametrize("batch", [
    [MyDict(a=1), MyDict(a=2)],
    [collections.OrderedDict(a=1.5, b="s"), collections.OrderedDict(a=2.5, b="t")],
    [MyList([1, 2.0]), MyList([3, 4.0])],
    [["a", "b"], ["c", "d"]],                       # strings inside a sample: a tuple
    [(np.float32(1), "x"), (np.float32(2), "y")],
    [np.str_("a"), np.str_("b")],
    [1, 2.5],                                       # torch.tensor: float32
    [True, 2],                                      # torch.tensor: int64
    [np.array(1.5), np.array(2.5)],
    [Point(1, np.zeros(2, np.int32)), Point(2, np.ones(2, np.int32))],
])
def test_default_collate_containers_and_dtypes_as_torch(batch):
    want, got = _both(lambda t, d: d.default_collate(batch))
    assert got == want


@pytest.mark.parametrize("make,exc,match", [
    (lambda t: [t.ones(2), t.zeros(3)], RuntimeError,
     "stack expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1"),
    (lambda t: [np.ones(2), np.zeros(3)], RuntimeError, "stack expects each tensor"),
    (lambda t: [np.array(["a"]), np.array(["b"])], TypeError,
     "batch must contain tensors, numpy arrays, numbers, dicts or lists; found <U1"),
    (lambda t: [None, None], TypeError, "found <class 'NoneType'>"),
    (lambda t: [object(), object()], TypeError, "found <class 'object'>"),
    (lambda t: [t.ones(2), 2.0], TypeError, "expected Tensor as element 1 in argument 0"),
])
def test_default_collate_errors_as_torch(make, exc, match):
    _same_error(lambda t, d: d.default_collate(make(t)), match)
    with pytest.raises(exc):
        gud.default_collate(make(gv))


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
    (dict(num_workers=1, prefetch_factor=-1), "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(multiprocessing_context="spawn"), "multiprocessing_context can only be used"),
    (dict(batch_size=0), "batch_size should be a positive integer value, but got batch_size=0"),
    (dict(batch_size=2.0), "batch_size should be a positive integer value"),
])
def test_loader_argument_checks_as_torch(kwargs, match):
    _same_error(lambda t, d: d.DataLoader(_tds((t, d)), **kwargs), match)


def test_loader_unknown_keyword_attributes_and_frozen_fields_as_torch():
    _same_error(lambda t, d: d.DataLoader(_tds((t, d)), foo=1), "unexpected keyword argument")
    attrs = ("num_workers", "timeout", "worker_init_fn", "prefetch_factor", "pin_memory",
             "pin_memory_device", "in_order", "persistent_workers", "multiprocessing_context")
    for kwargs in (dict(), dict(num_workers=2, persistent_workers=True, pin_memory=True)):
        want, got = _both(lambda t, d: [getattr(d.DataLoader(_tds((t, d)), **kwargs), a)
                                        for a in attrs])
        assert got == want
    for name in ("batch_size", "dataset", "sampler"):
        _same_error(lambda t, d: setattr(d.DataLoader(_tds((t, d))), name, None),
                    f"{name} attribute should not be set after DataLoader is initialized")
    loader = gud.DataLoader(_tds((gv, gud)))
    loader.num_workers = 3   # not a frozen field, as torch
    assert loader.num_workers == 3


def test_loader_in_process_workers_and_iterator_len():
    """num_workers > 0 gives the same batches (gradviz emulates the workers in this process:
    worker_init_fn runs once per worker, see test_loader_workers.py); the iterator has len()
    as torch's."""
    calls = []
    want, got = _both(lambda t, d: list(d.DataLoader(_tds((t, d)), batch_size=4,
                                                     num_workers=2 if t is gv else 0,
                                                     worker_init_fn=calls.append)))
    assert got == want and calls == [0, 1] and gud.get_worker_info() is None
    want, got = _both(lambda t, d: len(iter(d.DataLoader(_tds((t, d)), batch_size=4))))
    assert got == want == ("int", 2)


def _getitems_ds(d):
    class Batched(d.Dataset):
        def __getitem__(self, i):
            return ("single", i)

        def __getitems__(self, indices):
            return [("batched", i) for i in indices]

        def __len__(self):
            return 5
    return Batched()


def test_loader_fetches_through_getitems_as_torch():
    ident = lambda b: b  # noqa: E731
    for wrap in (lambda d, ds: ds, lambda d, ds: d.Subset(ds, [4, 0, 2])):
        want, got = _both(lambda t, d: list(d.DataLoader(wrap(d, _getitems_ds(d)),
                                                         batch_size=2, collate_fn=ident)))
        assert got == want and want[1][0][1][0][1][0] == ("str", "batched")
    want, got = _both(lambda t, d: d.StackDataset(a=_getitems_ds(d), b=range(5))
                      .__getitems__([3, 1]))
    assert got == want
    want, got = _both(lambda t, d: list(d.DataLoader(
        d.StackDataset(range(3), _tds((t, d), 3)), batch_size=2)))
    assert got == want


def _doubling_tds(t, d):
    class Doubled(d.TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y
    return Doubled(t.arange(8.).reshape(4, 2), t.arange(4))


def test_dataset_subclass_overrides_reach_the_loader_as_torch():
    for wrap in (lambda d, ds: ds, lambda d, ds: d.Subset(ds, [3, 0, 1])):
        want, got = _both(lambda t, d: list(d.DataLoader(wrap(d, _doubling_tds(t, d)),
                                                         batch_size=3)))
        assert got == want

    def subset_without_getitems(t, d):
        class Neg(d.Subset):
            def __getitem__(self, i):
                return -1
        return Neg(_tds((t, d)), [1])
    _same_error(subset_without_getitems, "overrides __getitem__ but not __getitems__")


def test_subset_and_concat_details_as_torch():
    want, got = _both(lambda t, d: type(d.Subset(range(9), range(2, 5)).indices).__name__)
    assert got == want == ("str", "range")
    for idx in (np.array([3, 1]), "tensor", range(2, 5)):
        want, got = _both(lambda t, d: list(d.DataLoader(
            d.Subset(_tds((t, d)), t.tensor([3, 1]) if isinstance(idx, str) else idx),
            batch_size=2)))
        assert got == want
    _same_error(lambda t, d: d.Subset(range(3), [0]).nothing,
                "'Subset' object has no attribute 'nothing'")
    want, got = _both(lambda t, d: d.ConcatDataset([range(2), range(3)]).cumulative_sizes)
    assert got == want == ("list", [("int", 2), ("int", 5)])
    _same_error(lambda t, d: d.ConcatDataset([range(2), range(3)])[-6],
                "absolute value of index should not exceed dataset length")
    _same_error(lambda t, d: d.ConcatDataset([]), "datasets should not be an empty iterable")
    _same_error(lambda t, d: d.TensorDataset(t.zeros(3), t.zeros(4)),
                "Size mismatch between tensors")
    _same_error(lambda t, d: d.TensorDataset(t.tensor(1.)),
                "Dimension specified as 0 but tensor has no dimensions")
    want, got = _both(lambda t, d: len(d.TensorDataset().tensors))
    assert got == want
    _same_error(lambda t, d: d.Dataset()[0], "Subclasses of Dataset should implement")


@pytest.mark.parametrize("n", [0, 1, 7, 11, 13])
@pytest.mark.parametrize("lengths", [[0.1, 0.2, 0.3, 0.4], [1 / 3] * 3, [0.5, 0.5],
                                     [0.9, 0.1], [1], [0, 1], [0.25] * 4])
def test_random_split_fraction_lengths_and_empty_warning_as_torch(n, lengths):
    lengths_of = lambda t, d: [len(s) for s in d.random_split(range(n), lengths)]  # noqa
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        want, got = _both(lengths_of)
    assert got == want
    said = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    empty = [k for _, k in want[1]].count(0)
    assert len(said) == 2 * empty and said[:empty] == said[empty:]   # torch's, then gv's


@pytest.mark.parametrize("lengths,match", [
    ([3, 8], "Sum of input lengths does not equal the length of the input dataset!"),
    ([0.3, 0.3], "Sum of input lengths does not equal the length of the input dataset!"),
    ([-0.5, 1.5], "Fraction at index 0 is not between 0 and 1"),
])
def test_random_split_errors_as_torch(lengths, match):
    _same_error(lambda t, d: d.random_split(range(10), lengths), match)
    with pytest.raises(gv.GradvizError):
        gud.random_split(range(10), lengths)


@pytest.mark.parametrize("weights,match", [
    ([0.1, -0.9, 0.3], "invalid multinomial distribution (encountering probability entry < 0)"),
    ([0.0, 0.0], "invalid multinomial distribution (sum of probabilities <= 0)"),
    ([1.0, float("inf")], "invalid multinomial distribution (encountering probability entry "
                          "= infinity or NaN)"),
])
def test_weighted_sampler_errors_as_torch(weights, match):
    _same_error(lambda t, d: list(d.WeightedRandomSampler(weights, 4)), match)


def test_iterable_loader_samplers_and_batch_size_check_as_torch():
    def stream(d):
        class Stream(d.IterableDataset):
            def __iter__(self):
                return iter(range(5))
        return Stream()
    want, got = _both(lambda t, d: [type(d.DataLoader(stream(d), batch_size=b).sampler)
                                    .__name__ for b in (2, None)]
                      + [type(d.DataLoader(stream(d), batch_size=2).batch_sampler).__name__])
    assert got == want
    _same_error(lambda t, d: d.DataLoader(stream(d), batch_size=0),
                "batch_size should be a positive integer value")
