"""MNIST and CIFAR-10 read from their official local files (IDX and CIFAR binary; never pickle).

Nothing is downloaded: put the files in place yourself (the error message says where).
Items are ``(image, label)`` with the image a float32 tensor scaled to [0, 1] (as
torchvision's ``ToTensor``) unless ``transform`` is given, which then receives the uint8
image tensor.
"""
import gzip
import os

import numpy as np

from ..engine.tensor import Tensor
from ..errors import GradvizError
from .dataset import Dataset


class DatasetNotFoundError(GradvizError, FileNotFoundError):
    """A dataset's files are not where gradviz looked for them."""


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
               0x0E: ">f8"}


def read_idx(path):
    """An IDX file (optionally .gz) as a NumPy array (big-endian header, as LeCun's format)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise GradvizError(f"{path} is not an IDX file (bad magic number)")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    dims = np.frombuffer(raw, ">u4", ndim, 4).astype(np.int64)
    offset = 4 + 4 * ndim
    count = int(np.prod(dims))
    if len(raw) - offset < count * dtype.itemsize:
        raise GradvizError(f"{path} is truncated: header says {tuple(dims)}")
    arr = np.frombuffer(raw, dtype, count, offset).reshape(tuple(dims))
    return arr.astype(dtype.newbyteorder("="))


def _find(root, dirs, name):
    for d in dirs:
        for suffix in ("", ".gz"):
            p = os.path.join(root, d, name + suffix)
            if os.path.isfile(p):
                return p
    return None


class _ImageFiles(Dataset):
    """Shared item access for the file-backed image datasets."""

    def __len__(self):
        return len(self.targets)

    def _image(self, arr):
        return Tensor._wrap(arr.astype(np.float32) / np.float32(255.0))

    def __getitem__(self, index):
        img = self._chw(self.data._data[index])
        img = self.transform(Tensor._wrap(img)) if self.transform else self._image(img)
        target = int(self.targets._data[index])
        if self.target_transform:
            target = self.target_transform(target)
        return img, target

    def __getattr__(self, name):
        if name == "_get_batch" and not self.__dict__.get("transform") \
                and not self.__dict__.get("target_transform"):
            return lambda idx: [self._image(self._chw(self.data._data[idx])),
                                Tensor._wrap(self.targets._data[idx])]
        raise AttributeError(name)


class MNIST(_ImageFiles):
    """MNIST from the four IDX files in ``root`` (or ``root/MNIST/raw``, torchvision's layout).

    ``data`` is uint8 (N, 28, 28), ``targets`` int64 (N,); items are (1, 28, 28) images.
    """

    classes = [str(i) for i in range(10)]
    files = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        if download:
            raise GradvizError("gradviz does not download datasets: fetch the MNIST IDX "
                               "files yourself (see the error of MNIST(root) for the names)")
        self.root, self.train = os.fspath(root), train
        self.transform, self.target_transform = transform, target_transform
        dirs = ("", os.path.join("MNIST", "raw"), "MNIST", "raw")
        names = self.files[bool(train)]
        paths = [_find(self.root, dirs, n) for n in names]
        if None in paths:
            missing = [n for n, p in zip(names, paths) if p is None]
            raise DatasetNotFoundError(
                f"MNIST ({'train' if train else 'test'}) files not found: {', '.join(missing)} "
                f"(optionally .gz). Put the official IDX files from "
                f"http://yann.lecun.com/exdb/mnist/ in {os.path.abspath(self.root)} "
                f"(or {os.path.join(os.path.abspath(self.root), 'MNIST', 'raw')}).")
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise GradvizError(f"MNIST files disagree: images {images.shape}, labels "
                               f"{labels.shape}")
        self.data = Tensor._wrap(np.ascontiguousarray(images, dtype=np.uint8))
        self.targets = Tensor._wrap(labels.astype(np.int64))

    @staticmethod
    def _chw(img):
        return img[..., None, :, :]


class CIFAR10(_ImageFiles):
    """CIFAR-10 from the binary version (``cifar-10-batches-bin/data_batch_1.bin`` ...
    ``test_batch.bin``) in ``root``: each record is 1 label byte + 3072 bytes of R, G, B planes.

    ``data`` is uint8 (N, 32, 32, 3) (HWC, as torchvision), ``targets`` int64; items are
    (3, 32, 32) images.
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck"]
    base_folder = "cifar-10-batches-bin"
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        if download:
            raise GradvizError("gradviz does not download datasets: fetch the CIFAR-10 binary "
                               "version yourself (see the error of CIFAR10(root) for the names)")
        self.root, self.train = os.fspath(root), train
        self.transform, self.target_transform = transform, target_transform
        names = self.train_list if train else self.test_list
        dirs = (self.base_folder, "")
        paths = [_find(self.root, dirs, n) for n in names]
        if None in paths:
            missing = [n for n, p in zip(names, paths) if p is None]
            raise DatasetNotFoundError(
                f"CIFAR-10 ({'train' if train else 'test'}) files not found: "
                f"{', '.join(missing)}. Download the binary version (cifar-10-binary.tar.gz) "
                f"from https://www.cs.toronto.edu/~kriz/cifar.html and extract it so that "
                f"{os.path.join(os.path.abspath(self.root), self.base_folder)} holds "
                f"{', '.join(names)}.")
        records = []
        for p in paths:
            opener = gzip.open if p.endswith(".gz") else open
            with opener(p, "rb") as f:
                raw = np.frombuffer(f.read(), np.uint8)
            if raw.size % 3073:
                raise GradvizError(f"{p} is not a CIFAR-10 binary batch: its size is not a "
                                   "multiple of 3073 bytes")
            records.append(raw.reshape(-1, 3073))
        rec = np.concatenate(records)
        self.targets = Tensor._wrap(rec[:, 0].astype(np.int64))
        self.data = Tensor._wrap(np.ascontiguousarray(
            rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)))

    @staticmethod
    def _chw(img):
        return np.ascontiguousarray(np.moveaxis(img, -1, -3))
