"""``gv.save`` / ``gv.load``: tensors, state dicts and optimizer state in a file that cannot
run code when read.

The file is a NumPy ``.npz`` archive: one entry per tensor (plain numeric arrays) plus
``__gradviz__``, the UTF-8 JSON of the object's structure (dicts with their key types,
lists, tuples, numbers, strings, None). It is read back with ``allow_pickle=False``, so a
file holding a pickle — a ``torch.save`` file, say — is refused, never executed.
"""
import io
import json
import math
import os
import zipfile
from collections import OrderedDict

import numpy as np

from .engine.backend import as_device, move
from .engine.tensor import Tensor
from .errors import GradvizError

FORMAT = "gradviz-save"
VERSION = 1
_STRUCT = "__gradviz__"
_MAX_DEPTH = 200


class _Writer:
    def __init__(self):
        self.arrays = {}

    def enc(self, obj, depth=0):
        if depth > _MAX_DEPTH:
            raise GradvizError("gv.save: object nested too deeply (or a reference cycle)")
        if isinstance(obj, Tensor):
            return self._array(move(obj._data, as_device("cpu")), "tensor",
                               requires_grad=bool(obj.requires_grad))
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


class _Reader:
    def __init__(self, npz, device):
        self.npz = npz
        self.device = device

    def arr(self, key):
        if not isinstance(key, str) or key == _STRUCT or key not in self.npz.files:
            raise GradvizError(f"gv.load: the file refers to a missing array {key!r}")
        try:
            return self.npz[key]
        except ValueError as exc:  # object arrays need pickle: refused
            raise GradvizError(f"gv.load refused array {key!r}: {exc}") from None

    def dec(self, node, depth=0):
        if depth > _MAX_DEPTH:
            raise GradvizError("gv.load: structure nested too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.dec(v, depth + 1) for v in node]
        if not isinstance(node, dict):
            raise GradvizError(f"gv.load: unexpected entry {type(node).__name__}")
        if "tensor" in node:
            a = self.arr(node["tensor"])
            if self.device is not None:
                a = move(a, self.device)
            t = Tensor._wrap(a)
            if node.get("requires_grad"):
                t.requires_grad_(True)
            return t
        if "ndarray" in node:
            return self.arr(node["ndarray"])
        if "float" in node:
            return float(node["float"])
        if "tuple" in node:
            return tuple(self.dec(v, depth + 1) for v in node["tuple"])
        if "dict" in node:
            out = OrderedDict() if node.get("ordered") else {}
            for pair in node["dict"]:
                k = self.dec(pair[0], depth + 1)
                if isinstance(k, list):
                    raise GradvizError("gv.load: a dict key cannot be a list")
                out[k] = self.dec(pair[1], depth + 1)
            return out
        if "dtype" in node:
            from .engine import dtypes
            return dtypes.to_dtype(node["dtype"])
        raise GradvizError(f"gv.load: unknown entry {sorted(node)}")


def load(f, map_location=None, weights_only=True, **_ignored):
    """Read what ``gv.save`` wrote. Files holding pickled data are refused with an error.

    ``map_location`` ("cpu", "cuda", a device) puts the tensors on that device;
    ``weights_only`` is accepted for torch compatibility (loading never runs code).
    """
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    else:
        data = f.read()
    name = f if isinstance(f, (str, os.PathLike)) else "the file"
    if data[:1] == b"\x80":  # the PROTO opcode every pickle since protocol 2 starts with
        raise GradvizError(f"gv.load refused {name}: it is a Python pickle, which could run "
                           "code when loaded; gradviz only reads files written by gv.save")
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise GradvizError(f"gv.load refused {name}: not a gv.save file ({exc})") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise GradvizError(f"gv.load refused {name}: not a gv.save file (a bare .npy array)")
    with npz:
        if _STRUCT not in npz.files:
            hint = " (it looks like a torch.save file, which holds a pickle)" if any(
                n.endswith("data.pkl") for n in npz.zip.namelist()) else ""
            raise GradvizError(f"gv.load refused {name}: not a gv.save file{hint}")
        try:
            structure = json.loads(bytes(npz[_STRUCT]).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise GradvizError(f"gv.load: corrupt structure entry in {name}: {exc}") from None
        if not isinstance(structure, dict) or structure.get("format") != FORMAT:
            raise GradvizError(f"gv.load refused {name}: not a gv.save file")
        if structure.get("version", 0) > VERSION:
            raise GradvizError(f"gv.load: {name} was written by a newer gradviz (format "
                               f"version {structure.get('version')})")
        device = as_device(map_location) if isinstance(map_location, str) or (
            map_location is not None and not callable(map_location)) else None
        return _Reader(npz, device).dec(structure.get("obj"))
