"""Op table rows: shape ops, joining and splitting, indexing, copies and casts."""
import numpy as np
import torch
from hypothesis import strategies as st
from op_table import SHAPES, SHAPES_ND, C, Case, OpRow, T, X, fixed

import gradviz as gv
from gradviz.engine import ops as O


def _put(z, key, x):
    """torch: ``z[key] = x`` (differentiable in x), returning z."""
    z[key] = x
    return z


@st.composite
def reshape_cases(draw):
    """A shape and a compatible target (with or without a -1)."""
    shape = draw(SHAPES)
    n = int(np.prod(shape, dtype=np.int64))
    target = draw(st.sampled_from([(-1,), (n,), (1, n), (n, 1, -1), tuple(reversed(shape)),
                                   (1,) + tuple(shape), ()] if n == 1 else
                                  [(-1,), (n,), (1, n), (n, 1, -1), tuple(reversed(shape)),
                                   (1,) + tuple(shape)]))
    return Case([X(shape), C(target)])


@st.composite
def two_dims(draw, shapes=SHAPES_ND):
    """A shape and two dims in range (negatives included)."""
    shape = draw(shapes)
    nd = len(shape)
    return Case([X(shape), C(draw(st.integers(-nd, nd - 1))), C(draw(st.integers(-nd, nd - 1)))])


@st.composite
def permute_cases(draw):
    """A shape and a permutation of its dims."""
    shape = draw(SHAPES)
    return Case([X(shape), C(tuple(draw(st.permutations(range(len(shape))))))])


@st.composite
def flatten_cases(draw):
    """flatten(start_dim, end_dim) with start ≤ end."""
    shape = draw(SHAPES_ND)
    nd = len(shape)
    s = draw(st.integers(0, nd - 1))
    e = draw(st.integers(s, nd - 1))
    return Case([X(shape)], {"start_dim": s, "end_dim": e - nd if draw(st.booleans()) else e})


@st.composite
def squeeze_cases(draw):
    """squeeze() or squeeze(dim) on shapes with size-1 dims."""
    shape = draw(SHAPES)
    nd = len(shape)
    if nd == 0 or draw(st.booleans()):
        return Case([X(shape)])
    return Case([X(shape), C(draw(st.integers(-nd, nd - 1)))])


@st.composite
def unsqueeze_cases(draw):
    """unsqueeze(dim) with dim in [-ndim-1, ndim]."""
    shape = draw(SHAPES)
    nd = len(shape)
    return Case([X(shape), C(draw(st.integers(-nd - 1, nd)))])


@st.composite
def expand_cases(draw):
    """A shape with size-1 dims and a bigger shape it broadcasts to (-1 keeps a dim)."""
    shape = draw(SHAPES)
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    target = [draw(st.integers(1, 3)) if s == 1 else draw(st.sampled_from([s, -1]))
              for s in shape]
    return Case([X(shape), C(tuple(lead) + tuple(target))])


@st.composite
def repeat_cases(draw):
    """repeat(*sizes) with at least ndim sizes."""
    shape = draw(SHAPES)
    reps = draw(st.lists(st.integers(1, 3), min_size=max(len(shape), 1), max_size=len(shape) + 1))
    return Case([X(shape), C(tuple(reps))])


@st.composite
def cat_cases(draw):
    """2-3 inputs of one shape except along ``dim``."""
    shape = list(draw(SHAPES_ND))
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        s[dim] = draw(st.integers(1, 3))
        xs.append(X(tuple(s)))
    return Case(xs, {"dim": dim})


@st.composite
def stack_cases(draw):
    """1-3 inputs of the same shape and a new dim."""
    shape = draw(SHAPES)
    nd = len(shape)
    n = draw(st.integers(1, 3))
    return Case([X(shape) for _ in range(n)], {"dim": draw(st.integers(-nd - 1, nd))})


@st.composite
def split_cases(draw):
    """split(size or sizes, dim) and chunk(n, dim)."""
    shape = draw(SHAPES_ND)
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    n = shape[dim]
    if draw(st.booleans()):
        arg = draw(st.integers(1, n + 1))
    else:
        cut = sorted(draw(st.lists(st.integers(0, n), max_size=2)))
        bounds = [0] + cut + [n]
        arg = [b - a for a, b in zip(bounds, bounds[1:])]
    return Case([X(shape), C(arg)], {"dim": dim})


@st.composite
def gather_cases(draw):
    """gather(dim, index) with index no larger than input outside ``dim``."""
    shape = draw(SHAPES_ND)
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    ishape = tuple(draw(st.integers(1, s)) if i != dim % nd else draw(st.integers(1, 4))
                   for i, s in enumerate(shape))
    idx = draw(st.lists(st.integers(0, shape[dim] - 1), min_size=int(np.prod(ishape)),
                        max_size=int(np.prod(ishape))))
    return Case([X(shape), C(dim), T(np.array(idx, dtype=np.int64).reshape(ishape))])


_ANY = SHAPES.map(lambda s: Case([X(s)]))
_BASIC_KEYS = [1, -1, (1, 2), (-1, 0, 1), slice(1, 3), (slice(None, None, 2), 1), None,
               (None, 0), Ellipsis, (Ellipsis, 1), (1, Ellipsis, None), (slice(None), None, 1),
               (slice(1, None), slice(None, 2), slice(0, 3, 2)),
               (0, 0, 0), [0, 2, 0], ([1, 0], slice(None), [2, 2])]
_IDX = np.array([0, 2, 0, 3], dtype=np.int64)
_MASK = np.array([[True, False, True, True, False]] * 2 + [[False] * 5, [True] * 5])

ROWS = [
    OpRow("reshape", (O.Reshape,), lambda x, s: x.reshape(s), lambda x, s: x.reshape(s),
          reshape_cases()),
    OpRow("reshape_varargs", (O.Reshape,), lambda x: gv.reshape(x, (3, -1)),
          lambda x: torch.reshape(x, (3, -1)), fixed(Case([X((2, 3))]))),
    OpRow("view", (O.View,), lambda x, s: x.view(s), lambda x, s: x.view(s), reshape_cases()),
    OpRow("flatten", (O.Flatten,), lambda x, **k: x.flatten(**k),
          lambda x, **k: x.flatten(**k), st.one_of(flatten_cases(), fixed(Case([X(())])))),
    OpRow("unflatten", (O.Unflatten,), lambda x, d, s: x.unflatten(d, s),
          lambda x, d, s: x.unflatten(d, s),
          fixed(Case([X((6,)), C(0), C((2, 3))]), Case([X((2, 6)), C(-1), C((3, -1))]),
                Case([X((2, 4, 1)), C(1), C((1, 4, 1))]))),
    OpRow("transpose", (O.Transpose,), lambda x, a, b: x.transpose(a, b),
          lambda x, a, b: x.transpose(a, b), two_dims()),
    OpRow("transpose_T", (O.Permute,), lambda x: x.T * 1.0 if x.ndim != 2 else x.T,
          lambda x: x.permute(*range(x.ndim - 1, -1, -1)) * 1.0 if x.ndim != 2 else x.T,
          SHAPES_ND.map(lambda s: Case([X(s)]))),
    OpRow("permute", (O.Permute,), lambda x, d: x.permute(d), lambda x, d: x.permute(d),
          permute_cases()),
    OpRow("permute_fn", (O.Permute,), lambda x: gv.permute(x, (1, 0, 2)),
          lambda x: torch.permute(x, (1, 0, 2)), fixed(Case([X((2, 3, 4))]))),
    OpRow("squeeze", (O.Squeeze,), lambda x, *d: x.squeeze(*d), lambda x, *d: x.squeeze(*d),
          squeeze_cases()),
    OpRow("unsqueeze", (O.Unsqueeze,), lambda x, d: x.unsqueeze(d),
          lambda x, d: x.unsqueeze(d), unsqueeze_cases()),
    OpRow("expand", (O.Expand,), lambda x, s: x.expand(s), lambda x, s: x.expand(s),
          expand_cases()),
    OpRow("expand_as", (O.Expand,), lambda x, y: x.expand_as(y) * y,
          lambda x, y: x.expand_as(y) * y, fixed(Case([X((3, 1)), X((2, 3, 4))]))),
    OpRow("repeat", (O.Repeat,), lambda x, r: x.repeat(*r), lambda x, r: x.repeat(*r),
          repeat_cases()),
    OpRow("cat", (O.Cat,), lambda *xs, dim: gv.cat(list(xs), dim=dim),
          lambda *xs, dim: torch.cat(list(xs), dim=dim), cat_cases()),
    OpRow("stack", (O.Stack,), lambda *xs, dim: gv.stack(xs, dim=dim),
          lambda *xs, dim: torch.stack(xs, dim=dim), stack_cases()),
    OpRow("split", (O.Getitem,), lambda x, a, dim: x.split(a, dim),
          lambda x, a, dim: x.split(a, dim), split_cases()),
    OpRow("chunk", (O.Getitem,), lambda x, n: gv.chunk(x, n, 0),
          lambda x, n: torch.chunk(x, n, 0),
          fixed(Case([X((5, 2)), C(2)]), Case([X((6,)), C(3)]), Case([X((4, 3)), C(3)]),
                Case([X((1,)), C(2)]))),
    OpRow("gather", (O.Gather,), lambda x, d, i: x.gather(d, i),
          lambda x, d, i: x.gather(d, i), gather_cases()),
    OpRow("gather_fn", (O.Gather,), gv.gather, torch.gather,
          fixed(Case([X((2, 3)), C(1), T(np.array([[0, 0], [2, 1]]))]))),
    OpRow("getitem_basic", (O.Getitem,), lambda x, k: x[k], lambda x, k: x[k],
          fixed(*[Case([X((4, 5, 3)), C(k)]) for k in _BASIC_KEYS])),
    OpRow("getitem_0d", (O.Getitem,), lambda x, k: x[k], lambda x, k: x[k],
          fixed(Case([X(()), C(None)]), Case([X(()), C(Ellipsis)]), Case([X(()), C(())]))),
    OpRow("getitem_int_tensor", (O.Getitem,), lambda x, i: (x[i], x[:, i], x[i, :, i]),
          lambda x, i: (x[i], x[:, i], x[i, :, i]), fixed(Case([X((4, 4, 4)), T(_IDX)]))),
    OpRow("getitem_mask", (O.Getitem,), lambda x, m: (x[m], x[m[:, 0]], x[:, m[0]]),
          lambda x, m: (x[m], x[m[:, 0]], x[:, m[0]]), fixed(Case([X((4, 5)), T(_MASK)]))),
    OpRow("getitem_0d_tensor", (O.Getitem,), lambda x, i: x[i], lambda x, i: x[i],
          fixed(Case([X((3, 2)), T(np.array(2))]), Case([X((3,)), T(np.array(True))]))),
    OpRow("index_add", (O.IndexAdd,),
          lambda x, i: O.IndexAdd.apply(x, shape=(4, 3), key=(i._data,)) * 1.5,
          lambda x, i: torch.zeros(4, 3, dtype=x.dtype).index_put((i,), x, accumulate=True) * 1.5,
          fixed(Case([X((5, 3)), T(np.array([0, 2, 0, 3, 2]))]))),
    OpRow("index_add_basic", (O.IndexAdd,),
          lambda x: O.IndexAdd.apply(x, shape=(4, 3), key=(slice(1, 3), 1)),
          lambda x: _put(torch.zeros(4, 3, dtype=x.dtype), (slice(1, 3), 1), x),
          fixed(Case([X((2,))]))),
    OpRow("cast", (O.Cast,), lambda x: x.double() if x.dtype == gv.float32 else x.float(),
          lambda x: x.double() if x.dtype == torch.float32 else x.float(), _ANY, fd=False),
    OpRow("cast_to", (O.Cast,), lambda x: x.to(gv.float16).to(x.dtype),
          lambda x: x.to(torch.float16).to(x.dtype), fixed(Case([X((3,))])), fd=False,
          tol={"float32": (1e-3, 1e-3), "float64": (1e-3, 1e-3)}),
    OpRow("clone", (O.Clone,), lambda x: x.clone(), lambda x: x.clone(), _ANY),
    OpRow("contiguous", (O.Contiguous, O.Transpose), lambda x: x.transpose(0, 1).contiguous(),
          lambda x: x.transpose(0, 1).contiguous(), fixed(Case([X((2, 3))]),
                                                          Case([X((3, 2, 2))]))),
    OpRow("contiguous_channels_last", (O.Contiguous,),
          lambda x: x.contiguous(memory_format=gv.channels_last) * 1,
          lambda x: x.contiguous(memory_format=torch.channels_last) * 1,
          fixed(Case([X((2, 3, 4, 2))]), Case([X((1, 2, 1, 3))]))),
    OpRow("to_device_cpu", (O.ToDevice,),
          lambda x: O.ToDevice.apply(x, device=gv.device("cpu")) * 2,
          lambda x: x.to("cpu") * 2, fixed(Case([X((2, 3))]))),
]
