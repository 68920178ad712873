"""grad_fn names as torch gives them (``type(t.grad_fn).__name__``): the ``torch_name`` of
Function classes whose torch node is named differently, or by the inputs' ranks and the
arguments (overload numbers); events and breakpoints keep the class name."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradviz as gv
import gradviz.nn.functional as F
from gradviz.debug import BreakpointHit


def _r(lib, *shape, pos=False, seed=0):
    a = np.random.default_rng(seed + len(shape)).uniform(0.2 if pos else -1.0, 1.0, shape)
    return lib.tensor(a, dtype=lib.float64, requires_grad=True)


def _i(lib, values):
    return lib.tensor(values, dtype=lib.int64)


# (id, fn(lib, functional) -> an output with a grad_fn); the same expression in both libraries
CASES = [
    ("log1p", lambda L, f: _r(L, 3).log1p()),
    ("mse_loss", lambda L, f: f.mse_loss(_r(L, 3), _r(L, 3, seed=1))),
    ("mse_loss_none", lambda L, f: f.mse_loss(_r(L, 3), _r(L, 3, seed=1), reduction="none")),
    ("bce", lambda L, f: f.binary_cross_entropy(_r(L, 3, pos=True) * 0.5, _r(L, 3, pos=True)
                                                 .detach() * 0.5)),
    ("bce_logits", lambda L, f: f.binary_cross_entropy_with_logits(_r(L, 3), _r(L, 3, pos=True)
                                                                  .detach() * 0.5)),
    ("nll_2d_input", lambda L, f: f.nll_loss(_r(L, 2, 3), _i(L, [0, 2]))),
    ("nll_4d_input", lambda L, f: f.nll_loss(_r(L, 2, 3, 2, 2), _i(L, np.zeros((2, 2, 2))))),
    ("matmul_dot", lambda L, f: _r(L, 3) @ _r(L, 3, seed=1)),
    ("matmul_mv", lambda L, f: _r(L, 2, 3) @ _r(L, 3)),
    ("matmul_vm", lambda L, f: _r(L, 3) @ _r(L, 3, 4)),
    ("matmul_mm", lambda L, f: _r(L, 2, 3) @ _r(L, 3, 4)),
    ("matmul_batched", lambda L, f: _r(L, 5, 2, 3) @ _r(L, 5, 3, 4)),
    ("matmul_batched_mat", lambda L, f: _r(L, 5, 2, 3) @ _r(L, 3, 4)),
    ("mm", lambda L, f: L.mm(_r(L, 2, 3), _r(L, 3, 4))),
    ("bmm", lambda L, f: L.bmm(_r(L, 5, 2, 3), _r(L, 5, 3, 4))),
    ("dot", lambda L, f: L.dot(_r(L, 3), _r(L, 3, seed=1))),
    ("mv", lambda L, f: L.mv(_r(L, 2, 3), _r(L, 3))),
    ("linear_bias", lambda L, f: f.linear(_r(L, 3, 5), _r(L, 4, 5), _r(L, 4))),
    ("linear_no_bias", lambda L, f: f.linear(_r(L, 3, 5), _r(L, 4, 5))),
    ("linear_1d", lambda L, f: f.linear(_r(L, 5), _r(L, 4, 5), _r(L, 4))),
    ("linear_3d", lambda L, f: f.linear(_r(L, 2, 3, 5), _r(L, 4, 5), _r(L, 4))),
    ("linear_3d_no_bias", lambda L, f: f.linear(_r(L, 2, 3, 5), _r(L, 4, 5))),
    ("sum_all", lambda L, f: _r(L, 3, 4).sum()),
    ("sum_dim", lambda L, f: _r(L, 3, 4).sum(0)),
    ("sum_dims_keepdim", lambda L, f: _r(L, 3, 4).sum((0, 1), keepdim=True)),
    ("mean_all", lambda L, f: _r(L, 3, 4).mean()),
    ("mean_dim", lambda L, f: _r(L, 3, 4).mean(1)),
    ("max_dim", lambda L, f: _r(L, 3, 4).max(0)[0]),
    ("min_dim", lambda L, f: _r(L, 3, 4).min(1)[0]),
    ("norm", lambda L, f: _r(L, 3, 4).norm()),
    ("norm_dim", lambda L, f: _r(L, 3, 4).norm(p=1, dim=1)),
    ("squeeze_all", lambda L, f: _r(L, 3, 1, 2, 1).squeeze()),
    ("squeeze_dim", lambda L, f: _r(L, 3, 1, 2, 1).squeeze(1)),
    ("squeeze_dims", lambda L, f: _r(L, 3, 1, 2, 1).squeeze((1, 3))),
    ("unsqueeze", lambda L, f: _r(L, 3, 2).unsqueeze(1)),
    ("reshape", lambda L, f: _r(L, 3, 4).reshape(12)),
    ("view", lambda L, f: _r(L, 3, 4).view(2, 6)),
    ("flatten", lambda L, f: _r(L, 2, 3, 4).flatten(1)),
    ("unflatten", lambda L, f: _r(L, 3, 4).unflatten(1, (2, 2))),
    ("cast", lambda L, f: _r(L, 3).float()),
    ("contiguous", lambda L, f: _r(L, 3, 4).t().contiguous()),
    ("pow_scalar", lambda L, f: _r(L, 3) ** 2),
    ("pow_tensor", lambda L, f: _r(L, 3, pos=True) ** _r(L, 3, seed=1)),
    ("rpow", lambda L, f: 2 ** _r(L, 3)),
    ("rsub", lambda L, f: 2.5 - _r(L, 3)),
    ("sub", lambda L, f: _r(L, 3) - 1),
    ("clamp", lambda L, f: _r(L, 3).clamp(-0.5, 0.5)),
    ("clamp_min_kw", lambda L, f: _r(L, 3).clamp(min=0.0)),
    ("round", lambda L, f: _r(L, 3).round()),
    ("round_decimals", lambda L, f: _r(L, 3).round(decimals=1)),
    ("div_floor", lambda L, f: L.div(_r(L, 3), _r(L, 3, pos=True), rounding_mode="floor")),
    ("div_trunc", lambda L, f: L.div(_r(L, 3), 0.3, rounding_mode="trunc")),
    ("copysign_tensor", lambda L, f: L.copysign(_r(L, 3), _r(L, 3, seed=1))),
    ("copysign_scalar", lambda L, f: L.copysign(_r(L, 3), -1.0)),
    ("fmod_tensor", lambda L, f: L.fmod(_r(L, 3), _r(L, 3, pos=True))),
    ("fmod_scalar", lambda L, f: L.fmod(_r(L, 3), 0.3)),
    ("scatter_src", lambda L, f: _r(L, 3, 4).scatter(1, _i(L, [[0], [1], [2]]), _r(L, 3, 1))),
    ("scatter_value", lambda L, f: _r(L, 3, 4).scatter(1, _i(L, [[0], [1], [2]]), 2.0)),
    ("index_int", lambda L, f: _r(L, 4, 5, 3)[0]),
    ("index_ints", lambda L, f: _r(L, 4, 5, 3)[0, 1]),
    ("index_slice", lambda L, f: _r(L, 4, 5, 3)[1:3]),
    ("index_slice_int", lambda L, f: _r(L, 4, 5, 3)[1:3, 0]),
    ("index_int_slice", lambda L, f: _r(L, 4, 5, 3)[1, 0:2]),
    ("index_full_then_int", lambda L, f: _r(L, 4, 5, 3)[:, 1]),
    ("index_step", lambda L, f: _r(L, 4, 5, 3)[::2]),
    ("index_none", lambda L, f: _r(L, 4, 5, 3)[None]),
    ("index_int_none", lambda L, f: _r(L, 4, 5, 3)[0, None]),
    ("index_none_int", lambda L, f: _r(L, 4, 5, 3)[None, 0]),
    ("index_ellipsis", lambda L, f: _r(L, 4, 5, 3)[...]),
    ("index_ellipsis_int", lambda L, f: _r(L, 4, 5, 3)[..., 0]),
    ("index_full", lambda L, f: _r(L, 4, 5, 3)[:]),
    ("index_list", lambda L, f: _r(L, 4, 5, 3)[[1, 0]]),
    ("index_tensor", lambda L, f: _r(L, 4, 5, 3)[_i(L, [1, 0])]),
    ("index_mask", lambda L, f: _r(L, 4, 5)[_r(L, 4, 5).detach() > 0]),
    ("index_0d_int_tensor", lambda L, f: _r(L, 4, 5)[_i(L, 1)]),
    ("conv1d", lambda L, f: f.conv1d(_r(L, 1, 2, 5), _r(L, 3, 2, 3))),
    ("conv2d", lambda L, f: f.conv2d(_r(L, 1, 2, 5, 5), _r(L, 3, 2, 3, 3), _r(L, 3))),
    ("conv_transpose2d", lambda L, f: f.conv_transpose2d(_r(L, 1, 3, 4, 4), _r(L, 3, 2, 3, 3))),
    ("batch_norm_train", lambda L, f: f.batch_norm(_r(L, 4, 3), None, None, training=True)),
    ("batch_norm_eval", lambda L, f: f.batch_norm(_r(L, 4, 3), L.zeros(3, dtype=L.float64),
                                                  L.ones(3, dtype=L.float64))),
    ("layer_norm", lambda L, f: f.layer_norm(_r(L, 2, 3), (3,), _r(L, 3), _r(L, 3))),
    ("pad_constant", lambda L, f: f.pad(_r(L, 2, 3), (1, 1))),
    ("pad_crop", lambda L, f: f.pad(_r(L, 2, 3), (-1, 1))),
    ("max_pool1d", lambda L, f: f.max_pool1d(_r(L, 1, 2, 8), 2)),
    ("max_pool2d", lambda L, f: f.max_pool2d(_r(L, 1, 2, 4, 4), 2)),
    ("max_pool3d", lambda L, f: f.max_pool3d(_r(L, 1, 2, 4, 4, 4), 2)),
    ("avg_pool1d", lambda L, f: f.avg_pool1d(_r(L, 1, 2, 8), 2)),
    ("avg_pool2d", lambda L, f: f.avg_pool2d(_r(L, 1, 2, 4, 4), 2)),
    ("avg_pool3d", lambda L, f: f.avg_pool3d(_r(L, 1, 2, 4, 4, 4), 2)),
    ("adaptive_avg_pool1d", lambda L, f: f.adaptive_avg_pool1d(_r(L, 1, 2, 7), 3)),
    ("adaptive_avg_pool2d", lambda L, f: f.adaptive_avg_pool2d(_r(L, 1, 2, 5, 4), 3)),
    ("adaptive_avg_pool2d_1", lambda L, f: f.adaptive_avg_pool2d(_r(L, 1, 2, 5, 4), 1)),
    ("adaptive_avg_pool3d", lambda L, f: f.adaptive_avg_pool3d(_r(L, 1, 2, 4, 4, 4), 2)),
    ("max_unpool2d", lambda L, f: f.max_unpool2d(_r(L, 1, 2, 2, 2),
                                                 _i(L, [[[[0, 3], [9, 14]]] * 2]), 2)),
    ("fold", lambda L, f: f.fold(_r(L, 1, 12, 6), (3, 4), 2)),
    ("unfold", lambda L, f: f.unfold(_r(L, 1, 2, 5, 6), 2)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_grad_fn_name_matches_torch(case):
    _, fn = case
    expected = type(fn(torch, TF).grad_fn).__name__
    out = fn(gv, F)
    assert out.grad_fn.name == expected and out.grad_fn.name() == expected
    assert repr(out).endswith(f"grad_fn=<{expected}>)")
    assert repr(out.grad_fn) == f"<{expected}>"


def test_event_op_stays_the_class_name():
    a, b = _r(gv, 2, 3), _r(gv, 3, 4)
    with gv.trace.record() as rec:
        y = a @ b
        z = y.abs().log1p().sum(0)
    ops = [e["op"] for e in rec.events if e["type"] == "op"]
    assert ops == ["Matmul", "Abs", "Log1p", "Sum"]
    assert (y.grad_fn.name, z.grad_fn.name) == ("MmBackward0", "SumBackward1")


TORCH_MM = type((torch.ones(2, 2, requires_grad=True) @ torch.ones(2, 2)).grad_fn).__name__
TORCH_DOT = type((torch.ones(2, requires_grad=True) @ torch.ones(2)).grad_fn).__name__


@pytest.mark.parametrize("op", ["mm", "matmul", "Matmul", TORCH_MM, TORCH_DOT])
def test_breakpoint_by_torch_node_name_matches_the_op(op):
    gv.debug.break_on(op=op)
    try:
        with pytest.raises(BreakpointHit):
            _r(gv, 2, 3) @ _r(gv, 3, 4)
    finally:
        gv.debug.clear()


@pytest.mark.parametrize("op", ["Log1PBackward0", "log1p", "MseLossBackward0", "mse_loss"])
def test_breakpoint_by_node_name_of_a_renamed_class(op):
    gv.debug.break_on(op=op)
    try:
        with pytest.raises(BreakpointHit):
            _r(gv, 3).log1p() if "1p" in op.lower() else F.mse_loss(_r(gv, 3), _r(gv, 3))
    finally:
        gv.debug.clear()


def test_breakpoint_by_node_name_does_not_match_other_ops():
    gv.debug.break_on(op="MmBackward0")
    try:
        _r(gv, 3).log1p().sum()   # no matmul: runs through
    finally:
        gv.debug.clear()


def _function_classes():
    from gradviz.engine.function import Function

    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)
    return sorted(set(walk(Function)), key=lambda c: c.__name__)


# a torch node name that means another gradviz op as well: no alias (it would match both)
AMBIGUOUS = {"Contiguous", "ConvTranspose", "DivRounded", "MaxDim", "MinDim", "Reshape"}


def test_every_renamed_node_is_a_breakpoint_name_for_its_op():
    """A breakpoint on the name grad_fn shows (NativeLayerNormBackward0, AddmmBackward0...)
    means the op it names, on the server's gate and in the page (same alias table)."""
    from gradviz.trace.gate import op_key
    missing = [(c.__name__, c.torch_name) for c in _function_classes()
               if isinstance(vars(c).get("torch_name"), str) and c.__name__ not in AMBIGUOUS
               and op_key(c.torch_name) != op_key(c.__name__)]
    assert not missing
    assert op_key("AddmmBackward0") == op_key("Linear")


def test_the_page_and_the_gate_share_one_alias_table():
    import re
    from pathlib import Path

    from gradviz.trace import conditions
    js = (Path(gv.__file__).parent / "static" / "js" / "format.js").read_text()
    table = js[js.index("const OP_ALIASES"):]
    table = table[:table.index("};")]
    pairs = dict(re.findall(r"(\w+):\s*\"(\w+)\"", table))
    assert pairs == conditions._OP_ALIASES
