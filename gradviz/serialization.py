"""``gv.save`` / ``gv.load``: tensors, state dicts and optimizer state in a file that cannot
run code when read.

The file is a NumPy ``.npz`` archive: one entry per tensor (plain numeric arrays) plus
``__gradviz__``, the UTF-8 JSON of the object's structure (dicts with their key types,
lists, tuples, numbers, strings, None). It is read back without NumPy's loader: every
archive entry's size is checked against the array its header claims before anything is
allocated, only plain numeric dtypes are accepted, and a file holding a pickle (a
``torch.save`` file, say) is refused, never executed.
"""
import io
import json
import math
import os
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from .engine.backend import as_device, device as Device, move
from .engine.tensor import Tensor
from .errors import GradvizError

FORMAT = "gradviz-save"
VERSION = 1
_STRUCT = "__gradviz__"
_MAX_DEPTH = 200
_MAX_RATIO = 64          # deflate of real tensors gives ~1.1x; zeros give ~1000x (a zip bomb)
_CHUNK = 1 << 22
# what a damaged archive raises while it is read (zipfile, zlib and NumPy's header parser)
_CORRUPT = (ValueError, TypeError, KeyError, OverflowError, OSError, EOFError, SyntaxError,
            zipfile.BadZipFile, zlib.error, NotImplementedError)


class _Writer:
    def __init__(self):
        self.arrays = {}

    def enc(self, obj, depth=0):
        if depth > _MAX_DEPTH:
            raise GradvizError("gv.save: object nested too deeply (or a reference cycle)")
        if isinstance(obj, Tensor):
            extra = {} if obj.device.type == "cpu" else {"device": str(obj.device)}
            # the saved device is what a dict or callable map_location is matched against
            return self._array(move(obj._data, as_device("cpu")), "tensor",
                               requires_grad=bool(obj.requires_grad), **extra)
        if isinstance(obj, np.ndarray):
            return self._array(obj, "ndarray")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, np.integer)):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            x = float(obj)
            return x if math.isfinite(x) else {"float": repr(x)}
        if isinstance(obj, dict):
            items = [[self.enc(k, depth + 1), self.enc(v, depth + 1)] for k, v in obj.items()]
            return {"dict": items, "ordered": isinstance(obj, OrderedDict)}
        if isinstance(obj, tuple):
            return {"tuple": [self.enc(v, depth + 1) for v in obj]}
        if isinstance(obj, list):
            return [self.enc(v, depth + 1) for v in obj]
        from .engine.dtypes import dtype as gv_dtype
        if isinstance(obj, gv_dtype):
            return {"dtype": obj.name}
        raise GradvizError(f"gv.save cannot store a {type(obj).__name__}: only tensors, NumPy "
                           "arrays, numbers, strings, None and dicts/lists/tuples of them "
                           "(save model.state_dict(), not the model)")

    def _array(self, arr, kind, **extra):
        if arr.dtype.kind not in "biuf":
            raise GradvizError(f"gv.save cannot store arrays of dtype {arr.dtype}")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        return {kind: key, **extra}


def save(obj, f):
    """Write ``obj`` (a tensor, or nested dicts/lists/tuples of tensors and numbers) to ``f``
    (a path or a binary file object)."""
    w = _Writer()
    structure = {"format": FORMAT, "version": VERSION, "obj": w.enc(obj)}
    blob = json.dumps(structure, allow_nan=False).encode("utf-8")
    arrays = dict(w.arrays)
    arrays[_STRUCT] = np.frombuffer(blob, dtype=np.uint8)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:  # np.savez would append ".npz" to a bare path
            np.savez(fh, **arrays)
    else:
        np.savez(f, **arrays)


class _Archive:
    """The ``.npy`` entries of a zip archive, read only after their sizes are checked."""

    def __init__(self, zf, total, name):
        self.zf, self.total, self.name = zf, total, name
        self.entries = {n[:-4]: n for n in zf.namelist() if n.endswith(".npy")}

    def refuse(self, what):
        raise GradvizError(f"gv.load refused {self.name}: {what}")

    def read(self, key):
        """The array stored under ``key``, after checking the entry against its header."""
        info = self.zf.getinfo(self.entries[key])
        self._check_entry(key, info)
        try:
            with self.zf.open(info) as fp:
                return self._read_npy(key, info, fp)
        except GradvizError:
            raise
        except _CORRUPT as exc:
            self.refuse(f"array {key!r} is corrupt ({exc})")

    def _check_entry(self, key, info):
        # sizes come from the zip directory, which a crafted file controls: compare them with
        # each other and with the file before one byte is inflated
        if info.flag_bits & 0x1:
            self.refuse(f"array {key!r} is encrypted")
        if info.header_offset + info.compress_size > self.total:
            self.refuse(f"array {key!r} claims {info.compress_size} bytes, more than the "
                        f"{self.total}-byte file holds (truncated?)")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                self.refuse(f"array {key!r} is damaged (stored entry of {info.compress_size} "
                            f"bytes claims {info.file_size})")
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > _MAX_RATIO * info.compress_size + 4096:
                self.refuse(f"array {key!r} would expand {info.compress_size} bytes into "
                            f"{info.file_size} (a zip bomb?); gv.save writes uncompressed "
                            "archives")
        else:
            self.refuse(f"array {key!r} uses an unsupported zip compression "
                        f"({info.compress_type})")

    def _read_npy(self, key, info, fp):
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            self.refuse(f"array {key!r} has an unsupported .npy version {version}")
        if dtype.hasobject or dtype.kind not in "biuf" or dtype.fields is not None:
            self.refuse(f"array {key!r} has dtype {dtype}: gv.save only writes numeric "
                        "arrays (object arrays would need pickle)")
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if info.file_size != fp.tell() + nbytes:
            self.refuse(f"array {key!r} claims shape {tuple(shape)} of {dtype} ({nbytes} "
                        f"bytes) but its entry holds {info.file_size - fp.tell()} bytes")
        arr = np.empty(count, dtype)
        view = memoryview(arr.view(np.uint8)) if count else memoryview(b"")
        done = 0
        while done < nbytes:   # in chunks: no second full-size copy of a large tensor
            chunk = fp.read(min(_CHUNK, nbytes - done))
            if not chunk:
                self.refuse(f"array {key!r} is truncated")
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
        fp.read(1)  # reaching the end of the entry makes zipfile check its CRC
        arr = arr.reshape(shape, order="F" if fortran else "C")
        return arr if dtype.isnative else arr.astype(dtype.newbyteorder("="))


def _location_key(spec):
    """A device spec as the string torch's map_location dicts use ("cpu", "cuda:0")."""
    try:
        return str(as_device(spec))
    except GradvizError:
        return str(spec)


class _Placer:
    """Where a loaded tensor goes: torch's ``map_location`` (None, a device, a dict from
    saved location to device, or a callable ``f(tensor, location)``)."""

    def __init__(self, map_location):
        self.mapping = self.fn = self.device = None
        if isinstance(map_location, dict):
            self.mapping = {_location_key(k): as_device(v) for k, v in map_location.items()}
        elif callable(map_location) and not isinstance(map_location, (str, Device)):
            self.fn = map_location
        elif map_location is not None:
            self.device = as_device(map_location)

    def place(self, arr, location):
        """``arr`` (loaded on the CPU, saved from ``location``) where it belongs."""
        dev = self.device
        if self.mapping is not None:
            dev = self.mapping.get(_location_key(location))
        elif self.fn is not None:
            out = self.fn(Tensor._wrap(arr), location)
            if out is None:      # torch: None means "the default place" (here the CPU)
                return arr
            if isinstance(out, Tensor):
                return out._data
            if hasattr(out, "shape") and hasattr(out, "dtype"):
                return out
            dev = as_device(out)  # a device or a device string
        return arr if dev is None else move(arr, dev)


class _Reader:
    def __init__(self, archive, placer):
        self.archive = archive
        self.placer = placer

    def bad(self, what):
        raise GradvizError(f"gv.load: corrupt structure in {self.archive.name}: {what}")

    def arr(self, key):
        if not isinstance(key, str) or key == _STRUCT or key not in self.archive.entries:
            self.bad(f"it refers to a missing array {key!r}")
        return self.archive.read(key)

    def dec(self, node, depth=0):
        if depth > _MAX_DEPTH:
            raise GradvizError("gv.load: structure nested too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.dec(v, depth + 1) for v in node]
        if not isinstance(node, dict):
            self.bad(f"unexpected entry {type(node).__name__}")
        if "tensor" in node:
            return self._tensor(node)
        if "ndarray" in node:
            return self.arr(node["ndarray"])
        if "float" in node:
            text = node["float"]
            if not isinstance(text, str):
                self.bad(f"a float entry holds a {type(text).__name__}, not a string")
            try:
                return float(text)
            except ValueError:
                self.bad(f"{text[:40]!r} is not a float")
        if "tuple" in node:
            items = self._list(node, "tuple")
            return tuple(self.dec(v, depth + 1) for v in items)
        if "dict" in node:
            return self._dict(node, depth)
        if "dtype" in node:
            return self._dtype(node["dtype"])
        self.bad(f"unknown entry {sorted(node)}")

    def _list(self, node, tag):
        items = node[tag]
        if not isinstance(items, list):
            self.bad(f"a {tag} entry holds a {type(items).__name__}, not a list")
        return items

    def _tensor(self, node):
        rg, location = node.get("requires_grad", False), node.get("device", "cpu")
        if not isinstance(rg, bool) or not isinstance(location, str):
            self.bad("a tensor entry has a bad requires_grad or device")
        t = Tensor._wrap(self.placer.place(self.arr(node["tensor"]), location))
        if rg:
            t.requires_grad_(True)
        return t

    def _dict(self, node, depth):
        ordered = node.get("ordered", False)
        if not isinstance(ordered, bool):
            self.bad("a dict entry has a non-boolean 'ordered'")
        out = OrderedDict() if ordered else {}
        for pair in self._list(node, "dict"):
            if not isinstance(pair, list) or len(pair) != 2:
                self.bad(f"a dict item is not a [key, value] pair: {str(pair)[:40]}")
            k = self.dec(pair[0], depth + 1)
            try:
                hash(k)
            except TypeError:
                self.bad(f"a dict key cannot be a {type(k).__name__}")
            out[k] = self.dec(pair[1], depth + 1)
        return out

    def _dtype(self, name):
        from .engine import dtypes
        if not isinstance(name, str):
            self.bad(f"a dtype entry holds a {type(name).__name__}, not a name")
        try:
            return dtypes.to_dtype(name)
        except (TypeError, ValueError, SyntaxError):
            self.bad(f"unknown dtype {name[:40]!r}")


def _open_archive(data, name):
    if data[:1] == b"\x80":  # the PROTO opcode every pickle since protocol 2 starts with
        raise GradvizError(f"gv.load refused {name}: it is a Python pickle, which could run "
                           "code when loaded; gradviz only reads files written by gv.save")
    if data[:6] == b"\x93NUMPY":
        raise GradvizError(f"gv.load refused {name}: not a gv.save file (a bare .npy array)")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _CORRUPT:
        raise GradvizError(f"gv.load refused {name}: not a gv.save file (gv.save writes a zip "
                           "archive; this file is not one, or it is damaged)") from None
    return _Archive(zf, len(data), name)


def load(f, map_location=None, weights_only=True, **_ignored):
    """Read what ``gv.save`` wrote. Files holding pickled data are refused with an error.

    ``map_location`` works as torch's: ``None`` (the CPU), a device ("cpu", "cuda:1"), a dict
    from saved location to device (``{"cuda:0": "cpu"}``; tensors from other locations
    load on the CPU), or a callable ``f(tensor, location)`` returning the tensor, a device,
    or None for the CPU. ``weights_only`` is accepted for torch compatibility (loading
    never runs code).
    """
    placer = _Placer(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    name = f if isinstance(f, (str, os.PathLike)) else "the file"
    archive = _open_archive(data, name)
    with archive.zf:
        if _STRUCT not in archive.entries:
            hint = " (it looks like a torch.save file, which holds a pickle)" if any(
                n.endswith("data.pkl") for n in archive.zf.namelist()) else ""
            raise GradvizError(f"gv.load refused {name}: not a gv.save file{hint}")
        try:
            structure = json.loads(archive.read(_STRUCT).tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise GradvizError(f"gv.load: corrupt structure entry in {name}: {exc}") from None
        if not isinstance(structure, dict) or structure.get("format") != FORMAT:
            raise GradvizError(f"gv.load refused {name}: not a gv.save file")
        version = structure.get("version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise GradvizError(f"gv.load: corrupt structure in {name}: version {version!r}")
        if version > VERSION:
            raise GradvizError(f"gv.load: {name} was written by a newer gradviz (format "
                               f"version {version})")
        return _Reader(archive, placer).dec(structure.get("obj"))
