"""gv.data: datasets, DataLoader, random_split, toy sets, digits, MNIST and CIFAR-10 readers."""
import gzip
import struct

import numpy as np
import pytest

import gradviz as gv
from gradviz.data import (CIFAR10, MNIST, DataLoader, DatasetNotFoundError, Subset,
                          TensorDataset, random_split)


def _ds(n=10):
    return TensorDataset(gv.arange(n * 2, dtype=gv.float32).reshape(n, 2), gv.arange(n))


def test_tensor_dataset_items_and_errors():
    ds = _ds()
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3 and len(ds) == 10
    with pytest.raises(gv.GradvizError):
        TensorDataset(gv.zeros(3), gv.zeros(4))


@pytest.mark.parametrize("drop_last,sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_loader_batches_in_order(drop_last, sizes):
    dl = DataLoader(_ds(), batch_size=4, drop_last=drop_last)
    batches = list(dl)
    assert [len(b[1]) for b in batches] == sizes and len(dl) == len(sizes)
    x, y = batches[0]
    assert x.shape == (4, 2) and x.dtype == gv.float32 and y.dtype == gv.int64
    assert np.concatenate([b[1].numpy() for b in batches]).tolist() == list(range(sum(sizes)))


def test_shuffle_follows_manual_seed():
    def epoch():
        return np.concatenate([y.numpy() for _, y in DataLoader(_ds(), batch_size=3,
                                                                 shuffle=True)])
    gv.manual_seed(7)
    a, a2 = epoch(), epoch()
    gv.manual_seed(7)
    b = epoch()
    assert a.tolist() == b.tolist() and sorted(a.tolist()) == list(range(10))
    assert a.tolist() != a2.tolist()  # a new order each epoch


def test_fast_path_equals_item_path():
    ds = _ds(9)
    fast = list(DataLoader(ds, batch_size=4))
    slow = list(DataLoader(ds, batch_size=4, collate_fn=gv.data.default_collate))
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert fx.tolist() == sx.tolist() and fy.tolist() == sy.tolist()


class _Dicts(gv.data.Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.full(3, i, np.float32), "n": i, "f": i / 2, "pair": (gv.tensor(i), i)}


def test_collate_dicts_numbers_tuples():
    batch = next(iter(DataLoader(_Dicts(), batch_size=5)))
    assert batch["x"].shape == (5, 3) and batch["x"].dtype == gv.float32
    assert batch["n"].dtype == gv.int64 and batch["f"].dtype == gv.float64
    assert batch["pair"][0].tolist() == [0, 1, 2, 3, 4]
    assert [d["n"] for d in DataLoader(_Dicts(), batch_size=None)] == list(range(5))


def test_random_split_lengths_and_fractions():
    ds = _ds(10)
    gv.manual_seed(0)
    a, b = random_split(ds, [7, 3])
    assert isinstance(a, Subset) and (len(a), len(b)) == (7, 3)
    assert sorted(a.indices + b.indices) == list(range(10))
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(_ds(11), [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]
    with pytest.raises(gv.GradvizError):
        random_split(ds, [3, 3])
    gv.manual_seed(0)
    assert random_split(ds, [7, 3])[0].indices == a.indices
    x, y = next(iter(DataLoader(a, batch_size=7)))  # Subset keeps the fast batch path
    assert y.tolist() == a.indices and x.shape == (7, 2)


@pytest.mark.parametrize("name", ["spiral", "circles", "moons", "xor", "gaussians"])
def test_toy_sets(name):
    fn = getattr(gv.data, name)
    X, y = fn(n=101, noise=0.0, seed=1)
    assert X.shape == (101, 2) and X.dtype == gv.float32
    assert y.shape == (101,) and y.dtype == gv.int64
    assert set(y.tolist()) == {0, 1}
    X2, y2 = fn(n=101, noise=0.0, seed=1)
    assert np.array_equal(X.numpy(), X2.numpy()) and np.array_equal(y.numpy(), y2.numpy())
    Xn, _ = fn(n=101, noise=0.3, seed=1)
    assert not np.allclose(Xn.numpy(), X.numpy())
    ds = fn(n=50, dataset=True)
    assert len(ds) == 50 and ds[0][0].shape == (2,)
    assert len(TensorDataset(*fn(n=20))) == 20


def test_toy_shapes_are_what_their_names_say():
    X, y = gv.data.circles(n=400, seed=0)
    r = np.hypot(*X.numpy().T)
    assert r[y.numpy() == 1].max() <= 2.5 < 3.5 <= r[y.numpy() == 0].min()
    X, y = gv.data.xor(n=400, seed=0)
    assert ((X.numpy().prod(1) >= 0) == (y.numpy() == 1)).all()
    X, y = gv.data.gaussians(n=400, seed=0)
    assert X.numpy()[y.numpy() == 1].mean() > 1.5 > -1.5 > X.numpy()[y.numpy() == 0].mean()
    X, y = gv.data.spiral(n=300, classes=3, seed=0)
    assert np.bincount(y.numpy()).tolist() == [100, 100, 100]


def test_digits_offline():
    Xtr, ytr = gv.data.digits("train")
    Xte, yte = gv.data.digits("test")
    assert Xtr.shape == (1437, 64) and Xte.shape == (360, 64)
    assert Xtr.dtype == gv.float32 and ytr.dtype == gv.int64
    assert 0.0 <= Xtr.numpy().min() and Xtr.numpy().max() == 1.0
    assert set(ytr.tolist()) == set(range(10))
    assert np.array_equal(gv.data.digits("train")[1].numpy(), ytr.numpy())  # fixed split
    img, label = gv.data.Digits("test")[0]
    assert img.shape == (1, 8, 8) and label.item() == yte[0].item()
    with pytest.raises(gv.GradvizError):
        gv.data.digits("valid")


def _write_idx(path, arr, gz=False):
    code = {np.uint8: 0x08}[arr.dtype.type]
    head = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = head + arr.tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reader(tmp_path, gz):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    sfx = ".gz" if gz else ""
    _write_idx(tmp_path / f"t10k-images-idx3-ubyte{sfx}", imgs, gz)
    _write_idx(tmp_path / f"t10k-labels-idx1-ubyte{sfx}", labels, gz)
    ds = MNIST(tmp_path, train=False)
    assert len(ds) == 5 and ds.data.shape == (5, 28, 28) and ds.targets.tolist() == [3, 1, 4, 1, 5]
    img, label = ds[2]
    assert img.shape == (1, 28, 28) and img.dtype == gv.float32 and label == 4
    np.testing.assert_allclose(img.numpy()[0], imgs[2] / 255.0, rtol=1e-6)
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert x.shape == (5, 1, 28, 28) and y.tolist() == [3, 1, 4, 1, 5]
    np.testing.assert_allclose(x.numpy()[2], img.numpy())
    with pytest.raises(DatasetNotFoundError, match="train-images-idx3-ubyte"):
        MNIST(tmp_path, train=True)


def test_mnist_missing_and_bad_files(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        MNIST(tmp_path / "nowhere")
    msg = str(err.value)
    assert "train-labels-idx1-ubyte" in msg and "nowhere" in msg
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, gv.GradvizError)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"not idx at all")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"junk")
    with pytest.raises(gv.GradvizError, match="IDX"):
        MNIST(tmp_path)


def test_cifar10_reader(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    planes = rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    labels = np.array([9, 0, 3, 7], np.uint8)
    rec = np.concatenate([labels[:, None], planes.reshape(4, -1)], 1)
    (folder / "test_batch.bin").write_bytes(rec.tobytes())
    ds = CIFAR10(tmp_path, train=False)
    assert len(ds) == 4 and ds.data.shape == (4, 32, 32, 3)
    img, label = ds[1]
    assert label == 0 and img.shape == (3, 32, 32)
    np.testing.assert_allclose(img.numpy(), planes[1] / 255.0, rtol=1e-6)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 3, 32, 32) and y.tolist() == [9, 0, 3, 7]
    np.testing.assert_allclose(x.numpy(), planes / 255.0, rtol=1e-6)
    with pytest.raises(DatasetNotFoundError, match="data_batch_1.bin"):
        CIFAR10(tmp_path, train=True)
    (folder / "test_batch.bin").write_bytes(b"x" * 100)
    with pytest.raises(gv.GradvizError, match="3073"):
        CIFAR10(tmp_path, train=False)


def test_transforms_are_applied(tmp_path):
    imgs = np.zeros((2, 28, 28), np.uint8)
    _write_idx(tmp_path / "train-images-idx3-ubyte", imgs)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([1, 2], np.uint8))
    ds = MNIST(tmp_path, transform=lambda t: t.float() + 1, target_transform=lambda y: y * 10)
    img, label = ds[1]
    assert img.numpy().max() == 1.0 and label == 20
    x, y = next(iter(DataLoader(ds, batch_size=2)))
    assert y.tolist() == [10, 20]
