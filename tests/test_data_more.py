"""gv.data samplers, IterableDataset/ChainDataset/StackDataset, DataLoader's sampler and
batch_sampler arguments, default_convert: against torch.utils.data where deterministic."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import gradviz as gv
import gradviz.utils.data as gud
from gradviz.data import (BatchSampler, ChainDataset, DataLoader, IterableDataset,
                          RandomSampler, SequentialSampler, StackDataset, SubsetRandomSampler,
                          TensorDataset, WeightedRandomSampler)


def _pair(n=10):
    """The same dataset in gradviz and in torch."""
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    return (TensorDataset(gv.tensor(x), gv.tensor(y)),
            tud.TensorDataset(torch.tensor(x), torch.tensor(y)))


def _rows(batches):
    """The label batches of a loader over _pair as lists."""
    return [b[1].tolist() for b in batches]


def test_names_exported_under_torch_path():
    for name in ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                 "WeightedRandomSampler", "BatchSampler", "IterableDataset", "ChainDataset",
                 "StackDataset", "get_worker_info", "default_collate", "default_convert"]:
        assert getattr(gud, name) is getattr(gv.data, name)
    assert gud.get_worker_info() is None and tud.get_worker_info() is None


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True),
                                        (2, 5, False), (2, 5, True), (7, 1, False)])
def test_sequential_and_batch_sampler_as_torch(n, bs, drop):
    seq, tseq = SequentialSampler(range(n)), tud.SequentialSampler(range(n))
    assert list(seq) == list(tseq) and len(seq) == len(tseq)
    b, tb = BatchSampler(seq, bs, drop), tud.BatchSampler(tseq, bs, drop)
    assert list(b) == list(tb) and len(b) == len(tb)
    plain = BatchSampler(list(range(n)), bs, drop)  # any iterable with a length
    assert list(plain) == list(tb) and len(plain) == len(tb)


@pytest.mark.parametrize("kwargs", [dict(batch_size=0, drop_last=False),
                                    dict(batch_size=True, drop_last=False),
                                    dict(batch_size=2, drop_last=1)])
def test_batch_sampler_errors(kwargs):
    with pytest.raises(ValueError) as t:
        tud.BatchSampler(range(4), **kwargs)
    with pytest.raises(gv.GradvizError) as g:
        BatchSampler(range(4), **kwargs)
    assert isinstance(g.value, ValueError) and str(g.value).split(",")[0] == \
        str(t.value).split(",")[0]


def test_random_sampler_permutation_and_seed():
    gv.manual_seed(3)
    a, a2 = list(RandomSampler(range(20))), list(RandomSampler(range(20)))
    gv.manual_seed(3)
    assert list(RandomSampler(range(20))) == a and sorted(a) == list(range(20)) and a != a2
    s = RandomSampler(range(5), num_samples=12)
    out = list(s)
    assert len(s) == len(out) == 12
    assert sorted(out[:5]) == sorted(out[5:10]) == list(range(5)) and len(set(out[10:])) == 2
    r = RandomSampler(range(4), replacement=True, num_samples=400)
    draws = list(r)
    assert len(draws) == 400 and set(draws) == {0, 1, 2, 3}
    g1 = list(RandomSampler(range(9), generator=np.random.default_rng(5)))
    assert g1 == list(RandomSampler(range(9), generator=np.random.default_rng(5)))
    assert len(RandomSampler(range(6))) == len(tud.RandomSampler(range(6))) == 6


def test_random_sampler_errors_as_torch():
    with pytest.raises(TypeError):
        tud.RandomSampler(range(3), replacement=1)
    with pytest.raises(TypeError):
        RandomSampler(range(3), replacement=1)
    for bad in (0, -2, 2.5):
        with pytest.raises(ValueError):
            tud.RandomSampler(range(3), num_samples=bad)
        with pytest.raises(gv.GradvizError, match="num_samples should be a positive"):
            RandomSampler(range(3), num_samples=bad)


def test_subset_random_sampler():
    idx = [3, 7, 11, 20]
    gv.manual_seed(0)
    s = SubsetRandomSampler(idx)
    a = list(s)
    assert sorted(a) == idx and len(s) == 4
    gv.manual_seed(0)
    assert list(SubsetRandomSampler(idx)) == a
    gen = list(SubsetRandomSampler(idx, generator=np.random.default_rng(1)))
    assert gen == list(SubsetRandomSampler(idx, generator=np.random.default_rng(1)))


def test_weighted_random_sampler_frequencies():
    w = [1.0, 2.0, 0.0, 5.0]
    gv.manual_seed(0)
    s = WeightedRandomSampler(w, 8000)
    draws = np.array(list(s))
    assert len(s) == len(draws) == 8000
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 8000, [1 / 8, 2 / 8, 0, 5 / 8],
                               atol=0.02)
    gv.manual_seed(0)
    assert np.array_equal(np.array(list(WeightedRandomSampler(gv.tensor(w), 8000))), draws)
    no_rep = list(WeightedRandomSampler(w, 3, replacement=False))
    assert sorted(no_rep) == [0, 1, 3]
    assert list(WeightedRandomSampler(w, 4, replacement=False))[3] == 2  # zero weight last
    assert list(tud.WeightedRandomSampler(w, 4, replacement=False))[3] == 2
    with pytest.raises(gv.GradvizError):
        list(WeightedRandomSampler(w, 5, replacement=False))
    with pytest.raises(RuntimeError):
        list(tud.WeightedRandomSampler(w, 5, replacement=False))


@pytest.mark.parametrize("args", [([1.0, 2.0], 0), ([1.0, 2.0], 2.0), ([[1.0, 2.0]], 2)])
def test_weighted_random_sampler_errors(args):
    with pytest.raises(ValueError):
        tud.WeightedRandomSampler(*args)
    with pytest.raises(ValueError):
        WeightedRandomSampler(*args)
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0], 1, replacement="yes")


@pytest.mark.parametrize("drop", [False, True])
def test_loader_with_sampler_and_batch_sampler(drop):
    ds, tds = _pair(10)
    order = [9, 2, 4, 4, 0, 7, 1]
    got = DataLoader(ds, batch_size=3, sampler=order, drop_last=drop)
    want = tud.DataLoader(tds, batch_size=3, sampler=order, drop_last=drop)
    assert _rows(got) == _rows(want) and len(got) == len(want)
    bs = [[1, 2], [5], [9, 8, 7]]
    got, want = DataLoader(ds, batch_sampler=bs), tud.DataLoader(tds, batch_sampler=bs)
    assert _rows(got) == _rows(want) and len(got) == len(want) == 3
    b = BatchSampler(SequentialSampler(ds), 4, drop)
    got = DataLoader(ds, batch_sampler=b)
    want = tud.DataLoader(tds, batch_sampler=tud.BatchSampler(tud.SequentialSampler(tds), 4,
                                                              drop))
    assert _rows(got) == _rows(want) and len(got) == len(want)
    x, _ = next(iter(got))
    assert x.shape == (4, 2) and x.dtype == gv.float32


def test_loader_shuffle_generator_and_default_samplers():
    ds, _ = _pair(12)
    a = DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(4))
    b = DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(4))
    assert _rows(a) == _rows(b) and sorted(sum(_rows(a), [])) == list(range(12))
    assert isinstance(a.sampler, RandomSampler) and isinstance(a.batch_sampler, BatchSampler)
    plain = DataLoader(ds, batch_size=5)
    assert isinstance(plain.sampler, SequentialSampler) and len(plain) == 3
    assert DataLoader(ds, batch_size=5, sampler=RandomSampler(ds, num_samples=30)).__len__() \
        == len(tud.DataLoader(_pair(12)[1], batch_size=5,
                              sampler=tud.RandomSampler(range(12), num_samples=30))) == 6


@pytest.mark.parametrize("kwargs", [dict(sampler=[0, 1], shuffle=True),
                                    dict(batch_sampler=[[0]], batch_size=2),
                                    dict(batch_sampler=[[0]], shuffle=True),
                                    dict(batch_sampler=[[0]], sampler=[0]),
                                    dict(batch_sampler=[[0]], drop_last=True),
                                    dict(batch_size=None, drop_last=True)])
def test_loader_mutual_exclusion_errors(kwargs):
    ds, tds = _pair(4)
    with pytest.raises(ValueError) as t:
        tud.DataLoader(tds, **kwargs)
    with pytest.raises(gv.GradvizError) as g:
        DataLoader(ds, **kwargs)
    assert isinstance(g.value, ValueError) and str(g.value) == str(t.value)


class _Stream(IterableDataset):
    def __init__(self, n, lib):
        self.n, self.lib = n, lib

    def __iter__(self):
        for i in range(self.n):
            yield self.lib.tensor([i, i * 10]), i


class _TStream(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for i in range(self.n):
            yield torch.tensor([i, i * 10]), i


class _Sized(_Stream):
    def __len__(self):
        return self.n


class _TSized(_TStream):
    def __len__(self):
        return self.n


@pytest.mark.parametrize("bs,drop", [(3, False), (3, True), (1, False), (None, False)])
def test_iterable_dataset_batches_as_torch(bs, drop):
    got = list(DataLoader(_Stream(7, gv), batch_size=bs, drop_last=drop))
    want = list(tud.DataLoader(_TStream(7), batch_size=bs, drop_last=drop))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is type(w) is list and len(g) == len(w) == 2
        assert g[0].tolist() == w[0].tolist()
        assert (g[1].tolist() if bs else g[1]) == (w[1].tolist() if bs else w[1])
    sized = DataLoader(_Sized(7, gv), batch_size=bs, drop_last=drop)
    assert len(sized) == len(tud.DataLoader(_TSized(7), batch_size=bs, drop_last=drop))


def test_iterable_dataset_refusals_and_len():
    with pytest.raises(TypeError):
        len(tud.DataLoader(_TStream(3), batch_size=2))
    with pytest.raises(TypeError):
        len(DataLoader(_Stream(3, gv), batch_size=2))
    for kwargs in (dict(shuffle=True), dict(sampler=[0, 1]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError) as t:
            tud.DataLoader(_TStream(3), **kwargs)
        with pytest.raises(gv.GradvizError) as g:
            DataLoader(_Stream(3, gv), **kwargs)
        assert str(g.value).split(", but")[0] == str(t.value).split(", but")[0]
    DataLoader(_Stream(3, gv), shuffle=False)  # an explicit False is allowed, as torch


def test_chain_dataset_as_torch():
    chain = ChainDataset([_Sized(2, gv), _Sized(3, gv)])
    tchain = tud.ChainDataset([_TSized(2), _TSized(3)])
    assert [i for _, i in chain] == [i for _, i in tchain] == [0, 1, 0, 1, 2]
    assert len(chain) == len(tchain) == 5
    assert [i for _, i in _Sized(1, gv) + _Sized(2, gv)] == [0, 0, 1]
    assert _rows(DataLoader(chain, batch_size=2)) == _rows(tud.DataLoader(tchain, batch_size=2))
    with pytest.raises(AssertionError):
        list(ChainDataset([[1, 2]]))
    with pytest.raises(AssertionError):
        gv.data.ConcatDataset([_Sized(2, gv)])


def test_stack_dataset_tuple_and_dict():
    ds, tds = _pair(5)
    a = StackDataset(ds, list(range(100, 105)))
    ta = tud.StackDataset(tds, list(range(100, 105)))
    (x, y), z = a[2]
    assert len(a) == len(ta) == 5 and z == ta[2][1] == 102 and y.item() == 2
    d = StackDataset(img=ds, n=list(range(5)))
    assert set(d[1]) == {"img", "n"} and d[1]["n"] == 1
    got = next(iter(DataLoader(d, batch_size=5)))
    want = next(iter(tud.DataLoader(tud.StackDataset(img=tds, n=list(range(5))), batch_size=5)))
    assert got["n"].tolist() == want["n"].tolist() and got["img"][0].shape == (5, 2)
    for args, kwargs in [((), {}), ((ds,), {"n": ds}), ((ds, [1, 2]), {})]:
        with pytest.raises(ValueError) as t:
            tud.StackDataset(*[tds if x is ds else x for x in args],
                             **{k: tds for k in kwargs})
        with pytest.raises(gv.GradvizError) as g:
            StackDataset(*args, **kwargs)
        assert str(g.value).replace(" ", "") == str(t.value).replace(" ", "")


Point = collections.namedtuple("Point", "x y")


def test_default_convert_as_torch():
    sample = {"a": np.arange(3), "b": (np.float32(1.5), 2), "p": Point(np.ones(2), "s"),
              "l": [np.zeros(1)], "s": np.array(["x"])}
    got, want = gv.data.default_convert(sample), tud.default_convert(sample)
    assert isinstance(got["a"], gv.Tensor) and got["a"].tolist() == want["a"].tolist()
    assert got["a"].dtype == gv.int64
    assert type(got["b"]) is type(want["b"]) is list and got["b"][1] == 2
    assert isinstance(got["b"][0], gv.Tensor) and got["b"][0].dtype == gv.float32
    assert type(got["p"]) is Point and isinstance(got["p"].x, gv.Tensor) and got["p"].y == "s"
    assert isinstance(got["l"][0], gv.Tensor) and isinstance(got["s"], np.ndarray)
    t = gv.tensor([1.0])
    assert gv.data.default_convert(t) is t and gv.data.default_convert(3) == 3


def test_default_collate_structures_as_torch():
    batch = [Point(np.float64(i), (i, float(i))) for i in range(3)]
    got, want = gv.data.default_collate(batch), tud.default_collate(batch)
    assert type(got) is type(want) is Point
    assert got.x.tolist() == want.x.tolist() and got.x.dtype == gv.float64
    assert type(got.y) is type(want.y) is list
    assert got.y[0].dtype == gv.int64 and got.y[1].dtype == gv.float64
    loader = DataLoader([np.arange(2) * i for i in range(3)], batch_size=None)
    assert [b.tolist() for b in loader] == [b.tolist() for b in tud.DataLoader(
        [np.arange(2) * i for i in range(3)], batch_size=None)]
    assert isinstance(next(iter(loader)), gv.Tensor)
