"""DataLoader(num_workers=k) against torch's real worker processes: gradviz emulates the k
workers in-process (no pickle), so the batches, their order, which worker made each batch,
get_worker_info(), worker_init_fn and the workers' seeds follow torch's. The datasets are
module-level classes (a mixin per behaviour, one subclass per library) so torch can hand
them to its workers; each torch run is a few tiny batches."""
import functools
import inspect
import random

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from torch.utils.data._utils.worker import WorkerInfo as TorchWorkerInfo
from torch.utils.data._utils.worker import _generate_state

import gradviz as gv
import gradviz.utils.data as gud
from gradviz.data.workers import WorkerInfo, _numpy_worker_seed

# torch warns when num_workers exceeds the machine's cores (3 workers on 2 cores here)
pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")


def _desc(x):
    """A library-neutral picture of a (nested) batch."""
    if isinstance(x, (torch.Tensor, gv.Tensor)):
        return ("T", str(x.dtype).split(".")[-1], x.tolist())
    if isinstance(x, (list, tuple)):
        return [_desc(v) for v in x]
    return x


def _vals(x):
    """A described tensor's values, or [x] for an unbatched value."""
    return x[2] if isinstance(x, tuple) else [x]


def _run(loader, epochs=1):
    """Every batch of ``epochs`` passes, described."""
    return [[_desc(b) for b in loader] for _ in range(epochs)]


def _wid(info):
    return -1 if info is None else info.id


class _Items:
    """Map-style: item i is (i, worker id, num_workers, the tag worker_init_fn put on this
    worker's copy, how many items this copy has fetched)."""

    def __init__(self, n):
        self.n, self.fetched = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = self.worker_info()
        self.fetched += 1
        return [i, _wid(info), 0 if info is None else info.num_workers,
                getattr(self, "tag", -1), self.fetched]


class TorchItems(_Items, tud.Dataset):
    worker_info = staticmethod(tud.get_worker_info)


class GvItems(_Items, gud.Dataset):
    worker_info = staticmethod(gud.get_worker_info)


class _Sharded:
    """torch's documented IterableDataset example: range(start, end), split across workers
    with get_worker_info()."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = self.worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per_worker = -(-(self.end - self.start) // info.num_workers)
        lo = self.start + info.id * per_worker
        return iter(range(lo, min(lo + per_worker, self.end)))


class TorchSharded(_Sharded, tud.IterableDataset):
    worker_info = staticmethod(tud.get_worker_info)


class GvSharded(_Sharded, gud.IterableDataset):
    worker_info = staticmethod(gud.get_worker_info)


class _Unsharded:
    """An IterableDataset that ignores the workers (each one yields all of it); with
    ``lens`` worker i yields ``lens[i]`` items, so workers run out at different times."""

    def __init__(self, n, lens=None):
        self.n, self.lens = n, lens

    def __iter__(self):   # a generator: its body runs at each next(), in the worker
        info = self.worker_info()
        n = self.n if self.lens is None or info is None else self.lens[info.id]
        for j in range(n):
            yield [_wid(info), j]


class TorchUnsharded(_Unsharded, tud.IterableDataset):
    worker_info = staticmethod(tud.get_worker_info)


class GvUnsharded(_Unsharded, gud.IterableDataset):
    worker_info = staticmethod(gud.get_worker_info)


class _Draws:
    """Map-style: what a worker sees of its seeds; every check holds in torch's workers."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info, lib = self.worker_info(), self.lib
        fresh = lib.rand(2, generator=lib.Generator().manual_seed(info.seed)).tolist()
        py, np_draw = random.random(), np.random.rand()
        base = info.seed - info.id
        return [info.id, info.seed, base, lib.initial_seed() == info.seed,
                lib.rand(2).tolist() == fresh if info.id == i % 2 and i < 2 else None,
                py, np_draw,
                py == random.Random(info.seed).random() if i < 2 else None,
                np_draw == np.random.RandomState(_generate_state(base, info.id)).rand()
                if i < 2 else None]


class TorchDraws(_Draws, tud.Dataset):
    worker_info, lib = staticmethod(tud.get_worker_info), torch


class GvDraws(_Draws, gud.Dataset):
    worker_info, lib = staticmethod(gud.get_worker_info), gv


class _Repr:
    """Map-style: item i is repr(get_worker_info()) with its seed blanked out."""

    def __repr__(self):
        return "<Repr dataset>"

    def __len__(self):
        return 2

    def __getitem__(self, i):
        info = self.worker_info()
        return repr(info).replace(f"seed={info.seed},", "seed=S,")


class TorchRepr(_Repr, tud.Dataset):
    worker_info = staticmethod(tud.get_worker_info)


class GvRepr(_Repr, gud.Dataset):
    worker_info = staticmethod(gud.get_worker_info)


LIBS = {"torch": (torch, tud, TorchItems, TorchSharded, TorchUnsharded),
        "gv": (gv, gud, GvItems, GvSharded, GvUnsharded)}


def _tag_init(get_info, worker_id):
    """A worker_init_fn: tags this worker's dataset copy and counts its calls there."""
    info = get_info()
    assert info.id == worker_id
    info.dataset.tag = 100 * (worker_id + 1) + getattr(info.dataset, "tag", 0)


def _failing_init(worker_id):
    random.random()
    np.random.rand()
    raise ValueError(f"init failed in {worker_id}")


def _collate_with_worker(get_info, batch):
    return [batch, get_info().id]


def _both(make, epochs=1):
    """(torch's, gradviz's) batches of the loader make(lib, data, Items, Sharded, Unsharded)
    gives."""
    return tuple(_run(make(*LIBS[name]), epochs) for name in ("torch", "gv"))


def test_numpy_worker_seed_is_torchs():
    for base in (0, 1, 2 ** 32 + 5, 5828152418854602874, 2 ** 63 - 1):
        for wid in (0, 1, 7):
            assert _numpy_worker_seed(base, wid) == _generate_state(base, wid)


def test_in_order_argument_exists_in_torch():
    param = inspect.signature(tud.DataLoader).parameters["in_order"]
    assert param.default is True and param.kind is inspect.Parameter.KEYWORD_ONLY
    gparam = inspect.signature(gud.DataLoader).parameters["in_order"]
    assert gparam.default is True and gparam.kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize("k,batch_size,drop_last", [(2, 3, False), (3, 2, True),
                                                    (3, None, False)])
def test_map_style_batches_go_round_robin(k, batch_size, drop_last):
    """Batch j is made by worker j % k; the order is the sampler's, as with num_workers=0."""
    want, got = _both(lambda t, d, items, *_: d.DataLoader(items(7), batch_size=batch_size,
                                                           drop_last=drop_last, num_workers=k))
    assert got == want
    single = _run(gud.DataLoader(GvItems(7), batch_size=batch_size, drop_last=drop_last))
    assert [_vals(b[0]) for b in got[0]] == [_vals(b[0]) for b in single[0]]
    assert [_vals(b[1])[0] for b in got[0]] == [i % k for i in range(len(got[0]))]


def test_in_order_false_keeps_the_order():
    want, got = _both(lambda t, d, items, *_: d.DataLoader(items(6), batch_size=2,
                                                           num_workers=2, in_order=False))
    # torch may hand back out of order batches; the emulation's are always in order
    assert sorted(map(str, got[0])) == sorted(map(str, want[0]))
    assert got == _run(gud.DataLoader(GvItems(6), batch_size=2, num_workers=2))


@pytest.mark.parametrize("persistent", [False, True])
def test_worker_init_fn_and_dataset_copies_per_epoch(persistent):
    """worker_init_fn runs once per worker before it fetches (once in all with persistent
    workers), on the worker's own dataset copy; the caller's dataset is untouched."""
    datasets = {}

    def make(t, d, items, *_):
        datasets[t.__name__] = ds = items(5)
        return d.DataLoader(ds, batch_size=2, num_workers=2, persistent_workers=persistent,
                            worker_init_fn=functools.partial(_tag_init, d.get_worker_info))
    want, got = _both(make, epochs=2)
    assert got == want
    assert [_vals(b[3])[0] for b in got[1]] == [100, 200, 100]   # once per pass or in all
    assert [_vals(b[4]) for b in got[1]] == ([[4, 5], [3, 4], [6]] if persistent
                                         else [[1, 2], [1, 2], [3]])
    assert not hasattr(datasets["gradviz"], "tag") and datasets["gradviz"].fetched == 0
    assert gud.get_worker_info() is None


def test_persistent_workers_reuse_the_iterator_as_torch():
    def same(t, d, items, *_):
        loader = d.DataLoader(items(3), num_workers=2, persistent_workers=True)
        first = iter(loader)
        next(first)
        return [iter(loader) is first, len(list(first))]
    assert same(*LIBS["torch"]) == same(*LIBS["gv"]) == [True, 3]


def test_collate_fn_runs_in_the_worker():
    want, got = _both(lambda t, d, items, *_: d.DataLoader(
        items(5), batch_size=2, num_workers=2,
        collate_fn=functools.partial(_collate_with_worker, d.get_worker_info)))
    assert got == want and [b[1] for b in got[0]] == [0, 1, 0]


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("batch_size,drop_last", [(None, False), (2, False), (2, True)])
def test_sharded_iterable_dataset_as_torch(k, batch_size, drop_last):
    want, got = _both(lambda t, d, _, sharded, __: d.DataLoader(
        sharded(3, 10), batch_size=batch_size, drop_last=drop_last, num_workers=k))
    assert got == want
    flat = [x for b in got[0] for x in _vals(b)]
    assert sorted(flat) == list(range(3, 10)) or drop_last   # each item once


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("batch_size,drop_last", [(None, False), (2, False), (2, True)])
def test_unsharded_iterable_dataset_is_duplicated_as_torch(k, batch_size, drop_last):
    want, got = _both(lambda t, d, _, __, unsharded: d.DataLoader(
        unsharded(3), batch_size=batch_size, drop_last=drop_last, num_workers=k))
    assert got == want
    if not drop_last:
        items = len(got[0]) if batch_size is None else sum(len(b[0][2]) for b in got[0])
        assert items == 3 * k


@pytest.mark.parametrize("batch_size,drop_last", [(None, False), (2, False), (2, True),
                                                  (3, False)])
def test_exhausted_workers_drop_out_of_the_turn(batch_size, drop_last):
    """Workers with 5, 1 and 3 items: the turn skips a worker once its copy ran out."""
    want, got = _both(lambda t, d, _, __, unsharded: d.DataLoader(
        unsharded(0, lens=[5, 1, 3]), batch_size=batch_size, drop_last=drop_last,
        num_workers=3))
    assert got == want


def test_worker_info_fields_and_repr_as_torch():
    want, got = _both(lambda t, d, *_: d.DataLoader(
        TorchRepr() if t is torch else GvRepr(), batch_size=None, num_workers=2))
    assert got == want and got[0][0] == ("WorkerInfo(id=0, num_workers=2, seed=S, "
                                         "dataset=<Repr dataset>, rng=None, "
                                         "worker_method='multiprocessing')")
    args = dict(id=1, num_workers=2, seed=5, dataset="d")
    assert repr(WorkerInfo(**args)) == repr(TorchWorkerInfo(**args))
    with pytest.raises(AttributeError):
        WorkerInfo(**args).id = 3
    with pytest.raises(AttributeError):
        TorchWorkerInfo(**args).id = 3


def _draw_runs(lib, data, draws, **kwargs):
    def loader():
        g = lib.Generator().manual_seed(5)
        return data.DataLoader(draws(), batch_size=None, num_workers=2, generator=g,
                               **kwargs)
    return _run(loader(), epochs=2), _run(loader(), epochs=2)


@pytest.mark.parametrize("persistent", [False, True])
def test_worker_seeds_follow_torchs_structure(persistent):
    """seed = base seed + id, base seed drawn from the loader's generator (same generator
    seed: same data); each worker's default generator and Python's random are seeded with
    its seed, NumPy's as torch seeds it; persistent workers keep their seeds and streams."""
    for lib, data, draws in ((torch, tud, TorchDraws), (gv, gud, GvDraws)):
        (a, b) = _draw_runs(lib, data, draws, persistent_workers=persistent)
        assert a == b   # the same generator seed gives the same data
        for n, epoch in enumerate(a):
            fresh = n == 0 or not persistent   # else the workers' streams go on
            assert [r[0] for r in epoch] == [0, 1, 0, 1]
            assert [r[1] - r[0] for r in epoch] == [epoch[0][2]] * 4   # seed = base + id
            assert [r[3] for r in epoch] == [True] * 4
            assert [r[4] for r in epoch] == [fresh, fresh, None, None]
            assert [r[7:] for r in epoch[:2]] == [[fresh, fresh], [fresh, fresh]]
        same_seed = a[0][0][1] == a[1][0][1]
        assert same_seed is persistent and a[0][0][5] != a[1][0][5]


def test_worker_draws_leave_the_callers_streams_alone():
    """A pass draws one base seed from the default generator (also with num_workers=0, as
    torch); the workers' draws touch neither it nor Python's and NumPy's global RNGs."""
    for lib, data, draws, items in ((torch, tud, TorchDraws, TorchItems),
                                    (gv, gud, GvDraws, GvItems)):
        def after(loader):
            lib.manual_seed(3)
            random.seed(3)
            np.random.seed(3)
            list(loader)
            return lib.rand(3).tolist(), random.random(), np.random.rand()
        quiet = after(data.DataLoader(items(4), batch_size=2))
        assert after(data.DataLoader(draws(), batch_size=None, num_workers=2)) == quiet
        lib.manual_seed(3)
        assert lib.rand(3).tolist() != quiet[0]   # the base seed was drawn
        assert quiet[1:] == (random.Random(3).random(), np.random.RandomState(3).rand())


def test_shuffle_is_the_same_for_any_num_workers():
    for lib, data, items in ((torch, tud, TorchItems), (gv, gud, GvItems)):
        def order(k):
            lib.manual_seed(11)
            return [b[0].tolist() for b in data.DataLoader(items(8), batch_size=3,
                                                           shuffle=True, num_workers=k)]
        assert order(2) == order(0)
    gv.manual_seed(11)
    assert order(2) != [[0, 1, 2], [3, 4, 5], [6, 7]]


def test_worker_errors_surface_as_torchs_type():
    """An error in a worker reaches the caller with its type (torch re-raises it there), and
    the caller's random states come back even so."""
    for lib, data, items in ((torch, tud, TorchItems), (gv, gud, GvItems)):
        random.seed(9)
        np.random.seed(9)
        loader = data.DataLoader(items(4), num_workers=2, worker_init_fn=_failing_init)
        with pytest.raises(ValueError, match="init failed in 0"):
            list(loader)
        assert (random.random(), np.random.rand()) == (random.Random(9).random(),
                                                       np.random.RandomState(9).rand())
        assert data.get_worker_info() is None


def test_single_process_loading_has_no_worker_info():
    want, got = _both(lambda t, d, items, *_: d.DataLoader(items(3), batch_size=2))
    assert got == want and {b[1][2][0] for b in got[0]} == {-1}
