"""A FAKE CuPy for tests without a GPU: NumPy arrays marked as living "on cuda:0".

This is not a GPU and proves nothing about CUDA kernels or speed. It checks the
device-generic code paths: an op that drops a cuda array to plain NumPy, mixes a
host ndarray into a cuda op (CuPy raises TypeError there), calls a ``numpy.``
function on cuda data (CuPy would copy or fail), or uses ``ufunc.at`` beyond what CuPy has
(add/maximum/minimum on real dtypes) fails loudly, as it would on CuPy.
Names CuPy lacks (``cupy.astype``, ``cupy.put_along_axis``, ``ndarray.resize``…) raise
AttributeError as on CuPy: the fake only offers the names in tests/cupy_names.json, those
every supported CuPy version has (scripts/cupy_names.py writes it from real CuPy wheels).
``install(monkeypatch)`` makes ``device="cuda"`` map to it.
"""
import collections
import inspect
import json
import re
import sys
import types
from pathlib import Path

import numpy as np

_CUPY = json.loads((Path(__file__).with_name("cupy_names.json")).read_text())
NAMES = {k: frozenset(v) for k, v in _CUPY["names"].items()}
VERSIONS = ", ".join(_CUPY["versions"])
_P = inspect.Parameter
_KINDS = (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD, _P.VAR_POSITIONAL, _P.KEYWORD_ONLY,
          _P.VAR_KEYWORD)   # as the ints scripts/cupy_names.py wrote


def _signature(params):
    return inspect.Signature([_P(name, _KINDS[kind], default=None if has_default else _P.empty)
                              for name, kind, has_default in params])


SIGNATURES = {k: [_signature(s) for s in sigs] for k, sigs in _CUPY["signatures"].items()}
UFUNC_KEYWORDS = {"out", "dtype", "casting"}   # all a cupy.ufunc call takes
AT_UFUNCS = {"add", "maximum", "minimum"}      # ufunc.at as CuPy 13+ has it, for these dtypes:
AT_DTYPES = {np.dtype(t) for t in ("int32", "int64", "float16", "float32", "float64", "uint32",
                                   "uint64")}


def _ufunc_at(ufunc, a, key, value):
    """``ufunc.at`` with CuPy's limits (no complex or bool, no multiply.at)."""
    if ufunc.__name__ not in AT_UFUNCS:
        raise TypeError(f"fake cupy: {ufunc.__name__}.at is not in CuPy")
    if a.dtype not in AT_DTYPES:
        raise TypeError(f"fake cupy: cupy.{ufunc.__name__}.at only supports "
                        f"{sorted(map(str, AT_DTYPES))} as data type, not {a.dtype}")
    ufunc.at(_unwrap(a), _unwrap(key), _unwrap(value))


def _missing(owner, name):
    return AttributeError(f"{owner} has no attribute {name!r} "
                          f"(fake cupy: not in every CuPy of {VERSIONS})")


SYNCS = collections.Counter()   # host reads of fake device values, by how (tests clear it)


class FakeCudaArray(np.ndarray):
    """An ndarray that claims to be on cuda:0 (has ``__cuda_array_interface__``, ``.get()``)."""

    device = types.SimpleNamespace(id=0)

    def __getattribute__(self, name):
        if name[0] != "_" and name not in NAMES["ndarray"]:
            raise _missing("'cupy.ndarray' object", name)
        return super().__getattribute__(name)

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (0, False), "version": 3}

    def get(self):
        """Copy to the host (a plain ndarray), as cupy.ndarray.get()."""
        SYNCS["get"] += 1
        return np.array(self.view(np.ndarray))

    def _host_read(name):   # noqa: N805 - makes the methods below
        def read(self, *args):
            SYNCS[name] += 1   # on CuPy: a device -> host copy that waits for the GPU
            return getattr(np.ndarray, name)(self.view(np.ndarray), *args)
        read.__name__ = name
        return read

    __bool__, __int__, __float__, __index__, item, tolist = map(
        _host_read, ("__bool__", "__int__", "__float__", "__index__", "item", "tolist"))

    def __getitem__(self, key):  # CuPy gives 0-d arrays, never scalars
        return _wrap(super().__getitem__(_unwrap(key)))

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kw):
        if method == "at":
            return _ufunc_at(ufunc, *inputs)
        args = [_unwrap(a) for a in inputs]
        if out is not None:
            kw["out"] = tuple(_unwrap(o) for o in out)
        res = getattr(ufunc, method)(*args, **kw)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(res)

    def __array_function__(self, func, types_, args, kwargs):
        raise TypeError(f"fake cupy: numpy.{func.__name__} called on a cuda array "
                        "(CuPy would copy to the host or fail; use ctx.xp)")


def _unwrap(a):
    """Host view of a fake cuda array; plain ndarrays are refused as CuPy refuses them."""
    if isinstance(a, FakeCudaArray):
        return a.view(np.ndarray)
    if isinstance(a, np.ndarray):
        raise TypeError(f"fake cupy: Unsupported type {type(a)} (a host array in a cuda op)")
    if isinstance(a, (list, tuple)):
        return type(a)(_unwrap(x) for x in a)
    return a


def _wrap(r):
    if isinstance(r, np.ndarray):
        return r.view(FakeCudaArray)
    if isinstance(r, np.generic) and not isinstance(r, (np.str_, np.bytes_)):
        return np.asarray(r).view(FakeCudaArray)  # CuPy reductions give 0-d arrays
    if isinstance(r, tuple):
        return tuple(_wrap(x) for x in r)
    if isinstance(r, list):
        return [_wrap(x) for x in r]
    return r


def _host_in(a):
    return a.get() if isinstance(a, FakeCudaArray) else a


class _Fn:
    """A numpy function or ufunc seen through CuPy's rules (device arrays in and out; the
    arguments must fit CuPy's signature of the function)."""

    def __init__(self, fn, qualname="cupy.?"):
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "fn")
        self.qualname = qualname

    def _check_call(self, args, kw):
        if isinstance(self.fn, np.ufunc) and not UFUNC_KEYWORDS.issuperset(kw):
            raise TypeError(f"fake cupy: {self.qualname} takes no {sorted(set(kw) - UFUNC_KEYWORDS)}"
                            " (a cupy.ufunc takes out, dtype, casting)")
        for sig in SIGNATURES.get(self.qualname, ()):
            try:
                sig.bind(*args, **kw)
            except TypeError as exc:
                raise TypeError(f"fake cupy: {self.qualname}{sig}: {exc}") from None

    def __call__(self, *args, **kw):
        self._check_call(args, kw)
        args = [_unwrap(a) for a in args]
        kw = {k: _unwrap(v) for k, v in kw.items()}
        return _wrap(self.fn(*args, **kw))

    def __getattr__(self, name):  # ufunc.reduce / .accumulate / .outer
        if isinstance(self.fn, np.ufunc) and name not in NAMES["ufunc"]:
            raise _missing("'cupy.ufunc' object", name)
        if name == "at":
            return lambda a, key, value: _ufunc_at(self.fn, a, key, value)
        return _Fn(getattr(self.fn, name), f"{self.qualname}.{name}")


class _Namespace(types.ModuleType):
    """numpy (or one of its submodules) with CuPy's device rules."""

    def __init__(self, name, host):
        super().__init__(name)
        self._host = host

    def __getattr__(self, name):
        if self.__name__ in NAMES and name not in NAMES[self.__name__]:
            raise _missing(f"module {self.__name__!r}", name)
        obj = getattr(self._host, name)
        if isinstance(obj, types.ModuleType):
            return _Namespace(f"{self.__name__}.{name}", obj)
        if isinstance(obj, type) or not callable(obj):
            return obj
        return _Fn(obj, f"{self.__name__}.{name}")


class _Device:
    def __init__(self, index=0):
        self.id = index

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        """Nothing queued on a fake device."""


def _asarray(a, dtype=None, copy=None):
    """Host → fake device (the explicit transfer CuPy allows); no copy when already there."""
    if isinstance(a, FakeCudaArray) and dtype is None and not copy:
        return a
    return np.array(a.view(np.ndarray) if isinstance(a, FakeCudaArray) else a,
                    dtype=dtype).view(FakeCudaArray)


class _ElementwiseKernel:
    """``cupy.ElementwiseKernel`` run on the host: the CUDA body is executed statement by
    statement as NumPy on the whole arrays. Only the subset gradviz writes: ``T x = …;`` and
    ``bool x = …;`` declarations, assignments, ``cond ? a : b`` as a whole right-hand side,
    ``||``, arithmetic and sqrt/exp/tanh; parameters of placeholder types (T, I, ...). Array
    arguments of one placeholder must share a dtype; scalars are cast to it, as CuPy casts
    them; outputs are in-out, updated in place. This checks a kernel's math and arguments, not
    its CUDA: only a real GPU compiles the body."""

    _FUNCTIONS = {"sqrt": np.sqrt, "exp": np.exp, "tanh": np.tanh, "where": np.where}

    def __init__(self, in_params, out_params, operation, name="kernel"):
        self.ins, self.outs = _params(in_params), _params(out_params)
        if "{" in operation or "&&" in operation:
            raise NotImplementedError(f"fake cupy: {name}: a body beyond the fake's subset")
        self.statements = [_statement(st) for st in operation.split(";") if st.strip()]
        self.name = name

    def __call__(self, *args):
        params = self.ins + self.outs
        if len(args) != len(params):
            raise TypeError(f"fake cupy: {self.name} takes {len(params)} arguments (outputs "
                            f"given: in-out), not {len(args)}")
        types_ = {}
        for (kind, _), a in zip(params, args):
            if isinstance(a, np.ndarray):
                types_.setdefault(kind, set()).add(a.dtype)
        if any(len(d) != 1 for d in types_.values()):
            raise TypeError(f"fake cupy: {self.name}: placeholder types {types_}")
        env = dict(self._FUNCTIONS)
        for (kind, name), a in zip(params, args):
            env[name] = _unwrap(a) if isinstance(a, np.ndarray) else \
                next(iter(types_[kind])).type(a)
        for st in self.statements:
            exec(st, {"__builtins__": {}}, env)   # the body's arithmetic, nothing else
        for (_, name), a in zip(self.outs, args[len(self.ins):]):
            _unwrap(a)[...] = env[name]


def _params(spec):
    """(placeholder, name) pairs of ``"T a, I b"``: one-letter placeholder types only."""
    pairs = [tuple(item.split()) for item in spec.split(",")]
    for kind, name in pairs:
        if len(kind) != 1 or not kind.isupper():
            raise NotImplementedError(f"fake cupy: parameter type {kind!r}")
        if name == "i" or name.startswith("_"):   # CuPy's loop index and its own names
            raise ValueError(f"fake cupy: {name!r} is reserved in an ElementwiseKernel")
    return pairs


def _statement(st):
    """One CUDA statement of the subset as Python."""
    st = re.sub(r"^(?:[A-Z]|bool|float|double)\s+(?=\w+\s*=)", "", st.strip())
    st = st.replace("||", "|")
    ternary = re.fullmatch(r"(\w+) = (.+?) \? (.+?) : (.+)", st)
    return f"{ternary[1]} = where({ternary[2]}, {ternary[3]}, {ternary[4]})" if ternary else st


def _special():
    from scipy import special
    return special


def make():
    """A fresh fake ``cupy`` module and its ``cupyx``."""
    cp = _Namespace("cupy", np)
    cp.__name__ = "cupy"
    cp.ndarray = FakeCudaArray
    cp.asarray = _asarray
    cp.array = lambda a, dtype=None, copy=True: _asarray(a, dtype, copy)
    cp.asnumpy = _host_in
    cp.ElementwiseKernel = _ElementwiseKernel
    cp.fuse = lambda *a, **k: (a[0] if a and callable(a[0]) else (lambda f: f))
    cp.cuda = types.SimpleNamespace(
        Device=_Device, runtime=types.SimpleNamespace(
            getDeviceCount=lambda: 1, getDeviceProperties=lambda i: {"name": b"FAKE (numpy)"}),
        Stream=types.SimpleNamespace(null=_Device()))
    cp.random = _Namespace("cupy.random", np.random)
    cp.random.random = lambda size=None, dtype=float: _wrap(np.random.random(size).astype(dtype))
    cpx = types.ModuleType("cupyx")
    cpx.scipy = types.ModuleType("cupyx.scipy")
    cpx.scipy.special = _Namespace("cupyx.scipy.special", _special())
    cpx.scipy.special.polygamma = _polygamma
    return cp, cpx


def _polygamma(n, x):
    """cupyx's polygamma: ``n`` must be an array (it calls ``cupy.where(n == 0, ...)``)."""
    if not isinstance(n, FakeCudaArray):
        raise AttributeError(f"fake cupy: polygamma(n={n!r}): {type(n).__name__!r} object has "
                             "no attribute 'astype'")
    return _wrap(_special().polygamma(_unwrap(n), _unwrap(x)))


def install(monkeypatch):
    """Route ``device="cuda"`` to the fake for one test; returns the fake module."""
    from gradviz.engine import backend
    cp, cpx = make()
    monkeypatch.setattr(backend, "_cupy", cp)
    monkeypatch.setitem(sys.modules, "cupyx", cpx)
    monkeypatch.setitem(sys.modules, "cupyx.scipy", cpx.scipy)
    monkeypatch.setitem(sys.modules, "cupyx.scipy.special", cpx.scipy.special)
    return cp
