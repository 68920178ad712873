"""gv.nn.Module, Parameter and containers: torch's API, key names, hooks, and the module
scope and parameter names carried by trace events."""
import collections
import copy

import numpy as np
import pytest
import torch
import torch.nn as tnn

import gradviz as gv
from gradviz import nn
from gradviz.errors import GradvizError
from gradviz.trace.hooks import HOOKS


class Net(nn.Module):
    """A small model with a nested child, a buffer and a shared parameterless module."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        self.head = nn.Linear(8, 2)
        self.register_buffer("scale", gv.ones(2))
        self.register_buffer("tmp", gv.zeros(1), persistent=False)

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


class TNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = tnn.Sequential(tnn.Linear(4, 8), tnn.ReLU())
        self.head = tnn.Linear(8, 2)
        self.register_buffer("scale", torch.ones(2))
        self.register_buffer("tmp", torch.zeros(1), persistent=False)

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(gv.zeros(2, 3))
    assert isinstance(p, gv.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(gv.zeros(2), requires_grad=False).requires_grad
    t = gv.zeros(3)
    assert nn.Parameter(t)._data is t._data  # shares memory, as torch


def test_names_iteration_and_state_dict_keys_match_torch():
    g, t = Net(), TNet()
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in g.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in g.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in g.named_children()] == [n for n, _ in t.named_children()]
    assert list(g.state_dict()) == list(t.state_dict())
    assert len(list(g.parameters())) == 4 and len(list(g.children())) == 2
    assert len(list(g.modules())) == 5 and len(list(g.buffers())) == 2
    assert repr(g).replace("Net", "X") == repr(t).replace("TNet", "X")
    sd = g.state_dict()
    assert isinstance(sd, collections.OrderedDict)
    assert not sd["head.weight"].requires_grad
    assert sd["head.weight"]._data is g.head.weight._data


def test_torch_state_dict_loads_and_gives_same_outputs_and_grads():
    g, t = Net(), TNet()
    g.load_state_dict({k: gv.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    gy, ty = g(gv.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), atol=1e-6, rtol=1e-5)
    gy.sum().backward()
    ty.sum().backward()
    tp = dict(t.named_parameters())
    for name, p in g.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), atol=1e-5, rtol=1e-4)


def test_load_state_dict_strict_and_errors():
    g = Net()
    sd = g.state_dict()
    del sd["head.bias"]
    sd["extra"] = gv.zeros(1)
    with pytest.raises(GradvizError, match='Missing key.*"head.bias".*\n.*Unexpected.*"extra"'):
        g.load_state_dict(sd)
    res = g.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["head.bias"] and res.unexpected_keys == ["extra"]
    with pytest.raises(GradvizError, match="size mismatch for head.weight"):
        g.load_state_dict({**g.state_dict(), "head.weight": gv.zeros(3, 3)})


def test_train_eval_zero_grad_apply_and_requires_grad():
    g = Net()
    assert g.training and g.encoder[0].training
    g.eval()
    assert not g.training and not g.encoder[1].training
    g.train()
    assert g.head.training
    g(gv.randn(3, 4)).sum().backward()
    assert all(p.grad is not None for p in g.parameters())
    g.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in g.parameters())
    g.zero_grad()
    assert all(p.grad is None for p in g.parameters())
    seen = []
    assert g.apply(lambda m: seen.append(type(m).__name__)) is g
    assert seen == ["Linear", "ReLU", "Sequential", "Linear", "Net"]
    g.requires_grad_(False)
    assert not any(p.requires_grad for p in g.parameters())


def test_to_changes_dtype_in_place_and_keeps_identity():
    g = Net()
    w = g.head.weight
    assert g.to(gv.float64) is g
    assert g.head.weight is w and w.dtype == gv.float64 and g.scale.dtype == gv.float64
    g.float()
    assert w.dtype == gv.float32
    bn = nn.BatchNorm1d(2).double()
    assert bn.num_batches_tracked.dtype == gv.int64
    with pytest.raises(GradvizError):
        g.to(gv.int64)


def test_setattr_registration_and_errors():
    m = nn.Module()
    m.w = nn.Parameter(gv.zeros(2))
    m.sub = nn.Linear(2, 2)
    m.plain = 3
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    m.w = None
    assert m.w is None and [n for n, _ in m.named_parameters()] == ["sub.weight", "sub.bias"]
    with pytest.raises(GradvizError):
        m.register_parameter("a.b", nn.Parameter(gv.zeros(1)))
    with pytest.raises(GradvizError):
        m.register_parameter("q", gv.zeros(1))
    with pytest.raises(AttributeError):
        _ = m.missing
    del m.sub
    assert list(m.named_children()) == []
    m.add_module("x", nn.ReLU())
    assert m.get_submodule("x") is m.x
    with pytest.raises(NotImplementedError):
        m(gv.zeros(1))


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and isinstance(seq[1:], nn.Sequential)
    assert seq(gv.zeros(4, 2)).shape == (4, 1)
    od = nn.Sequential(collections.OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(od.state_dict()) == ["fc.weight", "fc.bias"]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.append(nn.Linear(1, 2))
    assert len(ml) == 4 and len(list(ml.parameters())) == 8
    assert list(ml.state_dict())[-1] == "3.bias"
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and "a" in md
    assert list(md.state_dict()) == ["a.weight", "a.bias"]
    pl = nn.ParameterList([nn.Parameter(gv.zeros(1)), gv.ones(2)])
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"] and pl[1].requires_grad
    pd = nn.ParameterDict({"x": nn.Parameter(gv.zeros(1))})
    assert list(pd.state_dict()) == ["x"]


def test_forward_hooks_and_handles():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(gv.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(
        lin.bias.detach().numpy() + 1, (3, 2)), rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    h2.remove()
    lin(gv.ones(3, 2))
    assert calls == [(3, 2)]


def test_full_backward_hook_sees_grads_like_torch():
    g, t = nn.Linear(3, 2), tnn.Linear(3, 2)
    g.load_state_dict({k: gv.tensor(v.numpy()) for k, v in t.state_dict().items()})
    seen = {}

    def ghook(m, gin, gout):
        seen["gv"] = (gin[0].numpy().copy(), gout[0].numpy().copy())
        return (gin[0] * 2,)

    def thook(m, gin, gout):
        seen["th"] = (gin[0].numpy().copy(), gout[0].numpy().copy())
        return (gin[0] * 2,)

    handle = g.register_full_backward_hook(ghook)
    t.register_full_backward_hook(thook)
    x = np.arange(6.0).reshape(2, 3).astype(np.float32)
    gx, tx = gv.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g(gx) ** 2).sum().backward()
    (t(tx) ** 2).sum().backward()
    for a, b in zip(seen["gv"], seen["th"]):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5)
    handle.remove()
    seen.clear()
    g(gx).sum().backward()
    assert "gv" not in seen


def test_deepcopy_gives_independent_parameters():
    g = Net()
    c = copy.deepcopy(g)
    assert isinstance(c.head.weight, nn.Parameter)
    c.head.weight._data.fill(0.0)
    assert g.head.weight.numpy(force=True).any()


# ---- module scope and parameter names in events ----------------------------------------------
def test_op_events_carry_module_paths_and_params_their_names():
    model = nn.Sequential(collections.OrderedDict([("encoder", Net()), ("out", nn.Tanh())]))
    with gv.trace.record() as rec:
        model(gv.randn(2, 4))
    ops = [(e["op"], e["module"]) for e in rec.events if e["type"] == "op"]
    assert ops == [("Linear", "encoder.encoder.0"), ("Relu", "encoder.encoder.1"),
                   ("Linear", "encoder.head"), ("Mul", "encoder"), ("Tanh", "out")]
    leaves = {e["name"] for e in rec.events if e["type"] == "leaf"}
    assert {"encoder.encoder.0.weight", "encoder.encoder.0.bias", "encoder.head.weight",
            "encoder.head.bias"} <= leaves
    assert model.encoder.head.weight._name == "encoder.head.weight"
    assert HOOKS.module_stack == []


def test_root_contributes_nothing_and_ops_outside_modules_have_none():
    lin = nn.Linear(2, 2)
    with gv.trace.record() as rec:
        y = lin(gv.randn(1, 2))
        (y * 2).sum()
    mods = [e["module"] for e in rec.events if e["type"] == "op"]
    assert mods == [None, None, None]
    assert lin.weight._name == "weight"


def test_scope_stack_is_clean_after_an_error_and_costs_nothing_when_off():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(2, 2)

        def forward(self, x):
            return self.inner(x)

    m = Bad()
    with gv.trace.record(), pytest.raises(GradvizError):
        m(gv.zeros(1, 3))
    assert HOOKS.module_stack == []
    m(gv.zeros(1, 2))  # not listening: no scope work, no names needed
    assert HOOKS.module_stack == []


def test_module_added_later_gets_named_on_next_traced_call():
    seq = nn.Sequential(nn.Linear(2, 2))
    with gv.trace.record():
        seq(gv.zeros(1, 2))
    seq.append(nn.Linear(2, 1))
    with gv.trace.record() as rec:
        seq(gv.zeros(1, 2))
    assert [e["module"] for e in rec.events if e["type"] == "op"] == ["0", "1"]
    assert seq[1].weight._name == "1.weight"
