"""Helpers for gv.nn layer tests: load a torch module's state into its gradviz twin and
compare outputs and every gradient."""
import numpy as np
import torch

import gradviz as gv

F32 = ((1e-6, 1e-4), (1e-5, 1e-3))   # forward (atol, rtol), grads (atol, rtol)
F64 = ((1e-7, 1e-7), (1e-7, 1e-7))


def load_from_torch(gm, tm):
    """Copy torch module ``tm``'s state_dict into ``gm`` through gradviz tensors."""
    gm.load_state_dict({k: gv.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def _close(a, b, tol, what):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                               atol=tol[0], rtol=tol[1], err_msg=what)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def compare(gm, tm, *arrays, dtype="float64", grad_inputs=True, load=True, seed=0):
    """Run both modules on the same inputs; compare outputs, input grads and parameter grads."""
    if load:
        load_from_torch(gm, tm)
    tol = F64 if dtype == "float64" else F32
    gins, tins = [], []
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(dtype)
            g, t = gv.tensor(a, requires_grad=grad_inputs), torch.tensor(a,
                                                                       requires_grad=grad_inputs)
        else:
            g, t = gv.tensor(a), torch.tensor(a)
        gins.append(g)
        tins.append(t)
    gout, tout = _flat(gm(*gins)), _flat(tm(*tins))
    assert len(gout) == len(tout)
    rng = np.random.default_rng(seed)
    gl, tl = 0, 0
    for i, (g, t) in enumerate(zip(gout, tout)):
        assert tuple(g.shape) == tuple(t.shape), f"output {i}: {g.shape} != {tuple(t.shape)}"
        _close(g.detach().numpy(), t.detach().numpy(), tol[0], f"output {i}")
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        if t.requires_grad:
            gl = gl + (g * gv.tensor(w)).sum()
            tl = tl + (t * torch.tensor(w)).sum()
    if not isinstance(tl, int):
        gl.backward()
        tl.backward()
        for i, (g, t) in enumerate(zip(gins, tins)):
            if t.grad is not None:
                _close(g.grad.numpy(), t.grad.numpy(), tol[1], f"grad of input {i}")
        tparams = dict(tm.named_parameters())
        for name, p in gm.named_parameters():
            tp = tparams[name]
            if tp.grad is None:
                assert p.grad is None or not np.any(p.grad.numpy()), name
                continue
            _close(p.grad.numpy(), tp.grad.numpy(), tol[1], f"grad of {name}")
    return gout, tout


def twin(gv_cls, th_cls, *args, dtype="float64", **kwargs):
    """The same layer built in both libraries (torch's in ``dtype``)."""
    tm = th_cls(*args, **kwargs).to(getattr(torch, dtype))
    gm = gv_cls(*args, **kwargs).to(getattr(gv, dtype))
    return gm, tm
