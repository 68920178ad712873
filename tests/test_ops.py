"""Table-driven op test: every Function class against torch, and by finite differences.

Rows come from every ``tests/op_table*.py`` module (``ROWS``). For each row and
each drawn case: forward values, dtypes, shapes and requires_grad must match
torch in float32 and float64 (SECURITY.md tolerances), gradients too, and in
float64 a random-direction central finite difference must agree with backward.
``GV_OP_EXAMPLES`` sets the number of hypothesis examples per row.
"""
import importlib
import os
import pkgutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from op_table import T, X, Z, draw, input_dtype

import gradviz as gv
from gradviz.engine.custom import Function as CustomFunction
from gradviz.engine.function import Function

MODULES = sorted(p.stem for p in Path(__file__).parent.glob("op_table*.py"))
ROWS = [row for m in MODULES for row in importlib.import_module(m).ROWS]
EXAMPLES = int(os.environ.get("GV_OP_EXAMPLES", "12"))
TOL = {"float32": ((1e-6, 1e-4), (1e-5, 1e-3)), "float64": ((1e-7, 1e-7), (1e-7, 1e-7))}
FD_EPS = 1e-6


def _import_all(pkg_name):
    """Import a package and all its submodules (so every Function subclass exists)."""
    try:
        pkg = importlib.import_module(pkg_name)
    except ModuleNotFoundError:
        return
    for info in pkgutil.walk_packages(getattr(pkg, "__path__", []), pkg_name + "."):
        importlib.import_module(info.name)


def all_function_classes():
    """Every public Function subclass defined inside gradviz (user custom ops excluded)."""
    for pkg in ("gradviz.engine", "gradviz.nn"):
        _import_all(pkg)
    found, stack = set(), [Function]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    # private bases (``_Pointwise``) are not ops; user custom ops live outside gradviz
    return {c for c in found if c.__module__.startswith("gradviz.")
            and not c.__name__.startswith("_") and c is not CustomFunction}


def test_every_function_class_has_a_row():
    covered = {cls for row in ROWS for cls in row.fns}
    missing = sorted(c.__module__ + "." + c.__qualname__
                     for c in all_function_classes() - covered)
    assert not missing, f"Function classes with no op-table row: {missing}"


def test_row_names_are_unique():
    names = [r.name for r in ROWS]
    assert len(names) == len(set(names))


# ---- the per-row check --------------------------------------------------------------------
def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _tname(t):
    return str(t.dtype).replace("torch.", "")


def _seed(rng, t):
    """A backward seed for torch output ``t`` (complex for a complex output)."""
    s = rng.standard_normal(t.shape)
    return np.asarray(s + 1j * rng.standard_normal(t.shape)) if t.is_complex() else s


def _build(raw, dt, grad):
    gargs, targs, pairs = [], [], []
    for spec, val in raw:
        if isinstance(spec, (X, Z)):
            arr = val.astype(input_dtype(spec, dt))
            g = gv.from_numpy(arr.copy())
            t = torch.from_numpy(arr.copy())
            if grad:
                g.requires_grad_()
                t.requires_grad_()
            pairs.append((g, t))
        elif isinstance(spec, T):
            g, t = gv.from_numpy(np.array(val)), torch.from_numpy(np.array(val))
        else:
            g = t = val
        gargs.append(g)
        targs.append(t)
    return gargs, targs, pairs


def _close(a, b, tol, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch {b.shape}"
    if a.dtype.kind == "c" or b.dtype.kind == "c":   # compare (real, imag) pairs
        a, b = (np.stack([np.real(v), np.imag(v)], -1) for v in (a, b))
    if a.dtype.kind in "biu" or b.dtype.kind in "biu":
        assert np.array_equal(a, b), f"{what}: {a} != torch {b}"
        return
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), atol=tol[0],
                               rtol=tol[1], equal_nan=True, err_msg=what)


def _check_forward(row, gouts, touts, dt):
    assert len(gouts) == len(touts), f"{len(gouts)} outputs, torch gives {len(touts)}"
    tol = row.tol.get(dt, TOL[dt][0])
    for i, (g, t) in enumerate(zip(gouts, touts)):
        assert isinstance(g, gv.Tensor), f"output {i} is {type(g).__name__}, not a Tensor"
        assert tuple(g.shape) == tuple(t.shape), f"output {i}: shape {g.shape} != {t.shape}"
        assert g.dtype.name == _tname(t), f"output {i}: dtype {g.dtype} != torch {t.dtype}"
        assert g.requires_grad == t.requires_grad, f"output {i}: requires_grad differs"
        _close(g.detach().numpy(), t.detach().numpy(), tol, f"{row.name} output {i} ({dt})")


def _check_case(row, case, seed):
    rng = np.random.default_rng(seed)
    raw = [(a, draw(rng, a)) for a in case.args]
    for dt in row.dtypes:
        gargs, targs, pairs = _build(raw, dt, row.grad)
        traced = dt == "float64"
        if traced:
            with gv.trace.record() as rec:
                gout = row.gv(*gargs, **case.kw)
            ops = {e["op"] for e in rec.events if e["type"] == "op"}
            for cls in row.fns:
                assert cls.__name__ in ops, f"row {row.name} never ran {cls.__name__}: {ops}"
        else:
            gout = row.gv(*gargs, **case.kw)
        tout = row.th(*targs, **case.kw)
        gouts, touts = _outputs(gout), _outputs(tout)
        _check_forward(row, gouts, touts, dt)
        if not row.grad:
            continue
        wrng = np.random.default_rng(seed + 1)
        seeds = [_seed(wrng, t) for t in touts]
        live = [i for i, t in enumerate(touts) if t.requires_grad]
        if not live:
            continue
        torch.autograd.backward([touts[i] for i in live],
                                [torch.from_numpy(seeds[i].astype(_tname(touts[i])))
                                 for i in live])
        gv.autograd.backward([gouts[i] for i in live],
                             [gv.from_numpy(seeds[i].astype(_tname(touts[i]))) for i in live])
        gtol = row.tol.get(dt, TOL[dt][1])
        for k, (g, t) in enumerate(pairs):
            if t.grad is None:
                assert g.grad is None or not np.any(g.grad.numpy()), f"input {k}: grad not None"
                continue
            assert g.grad is not None, f"{row.name}: input {k} got no grad ({dt})"
            assert g.grad.dtype.name == _tname(t.grad), f"input {k}: grad dtype {g.grad.dtype}"
            _close(g.grad.numpy(), t.grad.numpy(), gtol, f"{row.name} grad of input {k} ({dt})")
        if row.fd and dt == "float64":
            _finite_difference(row, case, raw, pairs, [seeds[i] for i in live], live, rng)


def _finite_difference(row, case, raw, pairs, seeds, live, rng):
    """<grad, v> from backward against (f(x + eps v) - f(x - eps v)) / 2 eps, per input."""
    xs = [i for i, (spec, _) in enumerate(raw) if isinstance(spec, (X, Z))]
    for k, pos in enumerate(xs):
        v = rng.standard_normal(raw[pos][1].shape)
        if isinstance(raw[pos][0], Z):   # a direction in the real and imaginary parts
            v = v + 1j * rng.standard_normal(v.shape)
        grad = pairs[k][0].grad
        # torch's complex gradient is dL/dRe + i dL/dIm: <grad, v> = Re(sum(conj(grad) v))
        analytic = float(np.real(np.sum(np.conj(grad.numpy()) * v))) if grad is not None \
            else 0.0
        f = []
        for sign in (1.0, -1.0):
            args = []
            for i, (spec, val) in enumerate(raw):
                if isinstance(spec, (X, Z)):
                    arr = val + sign * FD_EPS * v if i == pos else val
                    args.append(gv.from_numpy(np.array(arr, dtype=np.result_type(
                        arr, np.float64))))
                elif isinstance(spec, T):
                    args.append(gv.from_numpy(np.array(val)))
                else:
                    args.append(val)
            with gv.no_grad():
                outs = _outputs(row.gv(*args, **case.kw))
            f.append(sum(float(np.real(np.sum(outs[i].numpy() * np.conj(s))))
                         for i, s in zip(live, seeds)))
        if not np.isfinite(f).all():   # no difference quotient of a NaN value (a mean over
            continue                   # nothing): its gradient was compared with torch's
        numeric = (f[0] - f[1]) / (2 * FD_EPS)
        scale = 1.0 + abs(f[0]) + abs(analytic)
        assert abs(numeric - analytic) <= 1e-6 * scale, (
            f"{row.name}: finite difference {numeric!r} != backward {analytic!r} for input {k}")


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_op_matches_torch(row):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=row.cases, seed=st.integers(0, 2 ** 31))
    def check(case, seed):
        _check_case(row, case, seed)

    check()

