"""F.conv*, F.conv_transpose*, F.*pool*: argument handling in torch's terms over the ops."""
import math
import numbers

from ..engine.backend import xp_of
from ..engine.tensor import Tensor
from ..errors import GradvizError, ShapeError
from . import ops as O
from .ops.pool import pool_geometry


def ntuple(value, n, name):
    """``value`` as a tuple of n ints (an int is repeated)."""
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise GradvizError(f"expected {name} to be a single integer or a list of {n} "
                           f"integers, got {list(value)}")
    return value


def _batched(input, n, what):
    """(input with a batch axis, whether one was added)."""
    if not isinstance(input, Tensor):
        raise GradvizError(f"{what}(): argument 'input' must be a Tensor, "
                           f"not {type(input).__name__}")
    if input.ndim == n + 2:
        return input, False
    if input.ndim == n + 1:
        return input.unsqueeze(0), True
    raise ShapeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {what}, "
                     f"but got input of size: {list(input.shape)}")


def _conv_padding(padding, n, k, stride, dilation):
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise GradvizError("padding='same' is not supported for strided convolutions")
            pads = []
            for kk, d in zip(k, dilation):
                total = d * (kk - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise GradvizError(f"Invalid padding string {padding!r}, should be one of "
                           "{'valid', 'same'}")
    return tuple((p, p) for p in ntuple(padding, n, "padding"))


def _conv(input, weight, bias, stride, padding, dilation, groups, n):
    what = f"conv{n}d"
    x, unbatched = _batched(input, n, what)
    if weight.ndim != n + 2:
        raise ShapeError(f"{what}: expected a {n + 2}-D weight, got shape {list(weight.shape)}")
    stride = ntuple(stride, n, "stride")
    dilation = ntuple(dilation, n, "dilation")
    k = tuple(weight.shape[2:])
    pads = _conv_padding(padding, n, k, stride, dilation)
    if groups < 1 or weight.shape[0] % groups:
        raise GradvizError(f"{what}: out_channels ({weight.shape[0]}) must be divisible by "
                           f"groups ({groups})")
    if x.shape[1] != weight.shape[1] * groups:
        raise ShapeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                         f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, "
                         f"but got {x.shape[1]} channels instead")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ShapeError(f"{what}: bias should have shape ({weight.shape[0]},), "
                         f"got {list(bias.shape)}")
    for i in range(n):
        if x.shape[2 + i] + sum(pads[i]) < dilation[i] * (k[i] - 1) + 1:
            raise ShapeError(f"Calculated padded input size per channel: "
                             f"({x.shape[2 + i] + sum(pads[i])}). Kernel size: "
                             f"({dilation[i] * (k[i] - 1) + 1}). Kernel size can't be greater "
                             "than actual input size")
    _dtypes(what, x, weight, bias)
    out = O.Conv.apply(x, weight, bias, stride=stride, padding=pads, dilation=dilation,
                       groups=int(groups))
    return out.squeeze(0) if unbatched else out


def _dtypes(what, *ts):
    kinds = {t._data.dtype for t in ts if t is not None}
    if len(kinds) > 1:
        raise GradvizError(f"{what}: input, weight and bias must have the same dtype, got "
                           + ", ".join(str(t.dtype) for t in ts if t is not None))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over (N, C, L)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over (N, C, H, W)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation) over (N, C, D, H, W)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, n):
    what = f"conv_transpose{n}d"
    x, unbatched = _batched(input, n, what)
    if weight.ndim != n + 2:
        raise ShapeError(f"{what}: expected a {n + 2}-D weight, got shape {list(weight.shape)}")
    stride = ntuple(stride, n, "stride")
    padding = ntuple(padding, n, "padding")
    output_padding = ntuple(output_padding, n, "output_padding")
    dilation = ntuple(dilation, n, "dilation")
    if x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ShapeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                         f"input{list(x.shape)} to have {weight.shape[0]} channels, but got "
                         f"{x.shape[1]} channels instead")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d):
            raise GradvizError("output padding must be smaller than either stride or dilation, "
                               f"but got output_padding={list(output_padding)}, "
                               f"stride={list(stride)}, dilation={list(dilation)}")
    k = weight.shape[2:]
    for i in range(n):
        size = (x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) \
            + output_padding[i] + 1
        if size <= 0:
            raise ShapeError(f"{what}: output size {size} is too small")
    if bias is not None and tuple(bias.shape) != (weight.shape[1] * groups,):
        raise ShapeError(f"{what}: bias should have shape ({weight.shape[1] * groups},)")
    _dtypes(what, x, weight, bias)
    out = O.ConvTranspose.apply(x, weight, bias, stride=stride, padding=padding,
                                output_padding=output_padding, dilation=dilation,
                                groups=int(groups))
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-D transposed convolution."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution")."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """3-D transposed convolution."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 3)


# ---- pooling -----------------------------------------------------------------------------------
def _pool_args(kernel_size, stride, padding, n, dilation=1):
    k = ntuple(kernel_size, n, "kernel_size")
    s = k if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) \
        else ntuple(stride, n, "stride")
    p = ntuple(padding, n, "padding")
    d = ntuple(dilation, n, "dilation")
    for kk, pp, dd in zip(k, p, d):
        if pp > (dd * (kk - 1) + 1) // 2:
            raise GradvizError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pp}, kernel_size={kk} and dilation={dd}")
    if any(v <= 0 for v in k + s + d):
        raise GradvizError("kernel_size, stride and dilation must be greater than zero")
    return k, s, p, d


def _check_pool_size(x, k, s, p, d, ceil_mode):
    """torch refuses a pooling whose output would have an empty spatial axis."""
    o, _ = pool_geometry(x.shape[2:], k, s, p, d, ceil_mode)
    if any(v < 1 for v in o):
        size = "x".join(str(v) for v in (x.shape[1],) + tuple(x.shape[2:]))
        out = "x".join(str(v) for v in (x.shape[1],) + tuple(o))
        raise ShapeError(f"Given input size: ({size}). Calculated output size: ({out}). "
                         "Output size is too small")


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, n):
    x, unbatched = _batched(input, n, f"max_pool{n}d")
    k, s, p, d = _pool_args(kernel_size, stride, padding, n, dilation)
    if any(pp > kk // 2 for kk, pp in zip(k, p)):  # torch's kernels check the undilated size too
        raise GradvizError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"padding={list(p)} and kernel_size={list(k)}")
    _check_pool_size(x, k, s, p, d, ceil_mode)
    attrs = {"kernel_size": k, "stride": s, "padding": p, "dilation": d,
             "ceil_mode": bool(ceil_mode)}
    out = O.MaxPool.apply(x, **attrs)
    if return_indices:
        fn = out.grad_fn
        if fn is None:  # no graph node kept the window offsets: find them again
            fn = O.MaxPool()
            fn.xp = xp_of(x._data)
            fn.forward(x._data, **attrs)
        indices = Tensor._wrap(fn.flat_indices())
        if unbatched:
            return out.squeeze(0), indices.squeeze(0)
        return out, indices
    return out.squeeze(0) if unbatched else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, L)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, H, W)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, D, H, W)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def _unpool_size(x, k, s, p, output_size, n):
    """torch's _unpool_output_size: the default size, or a checked ``output_size``."""
    default = [(x.shape[x.ndim - n + i] - 1) * s[i] + k[i] - 2 * p[i] for i in range(n)]
    if output_size is None:
        return tuple(default)
    output_size = [int(v) for v in output_size]
    if len(output_size) == n + 2:
        output_size = output_size[2:]
    if len(output_size) != n:
        raise GradvizError(f"output_size should be a sequence containing {n} or {n + 2} "
                           f"elements, but it has a length of '{len(output_size)}'")
    for i in range(n):
        lo, hi = default[i] - s[i], default[i] + s[i]
        if not lo < output_size[i] < hi:
            raise GradvizError(f'invalid output_size "{output_size}" (dim {i} must be between '
                               f"{lo} and {hi})")
    return tuple(output_size)


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, n):
    what = f"max_unpool{n}d"
    _batched(input, n, what)  # checks the input's type and rank
    if not isinstance(indices, Tensor) or indices._data.dtype.kind not in "iu":
        raise GradvizError(f"{what}: elements in indices should be type int64 but got: "
                           f"{getattr(indices, 'dtype', type(indices).__name__)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ShapeError(f"{what}: Expected shape of indices to be same as that of the input "
                         f"tensor ({list(input.shape)}) but got indices tensor with shape: "
                         f"{list(indices.shape)}")
    k = ntuple(kernel_size, n, "kernel_size")
    s = k if stride is None else ntuple(stride, n, "stride")
    p = ntuple(padding, n, "padding")
    size = _unpool_size(input, k, s, p, output_size, n)
    if any(v <= 0 for v in size):
        raise GradvizError(f"{what}: output size {list(size)} must be positive")
    plane = math.prod(size)
    idx = indices._data
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= plane):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise GradvizError(f"Found an invalid max index: {bad} (output volumes are of size "
                           + "x".join(map(str, size)) + ")")
    return O.MaxUnpool.apply(input, indices, output_size=size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool1d: input values placed at ``indices`` of a zero (N, C, L_out)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool2d: input values placed at ``indices`` of a zero (N, C, H, W)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max_pool3d: input values placed at ``indices`` of a zero (N, C, D, H, W)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, n):
    x, unbatched = _batched(input, n, f"avg_pool{n}d")
    k, s, p, _ = _pool_args(kernel_size, stride, padding, n)
    if divisor_override is not None and divisor_override == 0:
        raise GradvizError("divisor must be not zero")
    _check_pool_size(x, k, s, p, (1,) * n, ceil_mode)
    if n == 3 and any(size < kk for size, kk in zip(x.shape[2:], k)):
        # torch's avg_pool3d kernel compares the unpadded input with the kernel
        raise ShapeError("input image (T: {} H: {} W: {}) smaller than kernel size "
                         "(kT: {} kH: {} kW: {})".format(*x.shape[2:], *k))
    out = O.AvgPool.apply(x, kernel_size=k, stride=s, padding=p, ceil_mode=bool(ceil_mode),
                          count_include_pad=bool(count_include_pad),
                          divisor_override=divisor_override)
    return out.squeeze(0) if unbatched else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over sliding windows of (N, C, L)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, H, W)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, D, H, W)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 3)


def _sum_pool(input, kernel_size, stride, padding, ceil_mode, n):
    x, unbatched = _batched(input, n, f"sum_pool{n}d")
    k, s, p, _ = _pool_args(kernel_size, stride, padding, n)
    out = O.SumPool.apply(x, kernel_size=k, stride=s, padding=p, ceil_mode=bool(ceil_mode))
    return out.squeeze(0) if unbatched else out


def sum_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False):
    """(gv) Sum over sliding windows of (N, C, L): avg_pool1d times the window size."""
    return _sum_pool(input, kernel_size, stride, padding, ceil_mode, 1)


def sum_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False):
    """(gv) Sum over sliding windows of (N, C, H, W): avg_pool2d times the window size."""
    return _sum_pool(input, kernel_size, stride, padding, ceil_mode, 2)


def sum_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False):
    """(gv) Sum over sliding windows of (N, C, D, H, W): avg_pool3d times the window size."""
    return _sum_pool(input, kernel_size, stride, padding, ceil_mode, 3)


def adaptive_size(input, output_size, n, what):
    """The output size of adaptive pooling as n ints (None keeps the input's size), after
    torch's checks of the input's rank and sizes."""
    if not isinstance(input, Tensor) or input.ndim not in (n + 1, n + 2):
        raise ShapeError(f"{what}(): Expected {n + 1}D or {n + 2}D tensor, "
                         f"but got {list(getattr(input, 'shape', []))}")
    for d in range(1, input.ndim):
        if input.shape[d] == 0:
            raise ShapeError(f"{what}(): Expected input to have non-zero size for non-batch "
                             f"dimensions, but input has sizes {list(input.shape)} with "
                             f"dimension {d} being empty")
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size,) * n
    output_size = tuple(output_size)
    if len(output_size) != n:
        raise GradvizError(f"{what}: output_size must have {n} entries")
    spatial = input.shape[input.ndim - n:]
    size = tuple(int(s if o is None else o) for o, s in zip(output_size, spatial))
    if any(o < 0 for o in size):
        raise GradvizError(f"{what}: elements of output_size must be greater than or equal "
                           f"to 0 but received {size}")
    return size


def _adaptive(input, output_size, n):
    size = adaptive_size(input, output_size, n, f"adaptive_avg_pool{n}d")
    return O.AdaptiveAvgPool.apply(input, output_size=size)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a given output length."""
    return _adaptive(input, output_size, 1)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a given (H, W) (None keeps that size)."""
    return _adaptive(input, output_size, 2)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a given (D, H, W)."""
    return _adaptive(input, output_size, 3)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of (N, C, H, W) input as columns (N, C*kh*kw, L): im2col."""
    x, unbatched = _batched(input, 2, "unfold")
    args = [ntuple(v, 2, name) for v, name in ((kernel_size, "kernel_size"),
                                              (dilation, "dilation"), (padding, "padding"),
                                              (stride, "stride"))]
    k, d, p, s = args
    if any((x.shape[2 + i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 < 1
           for i in range(2)):
        raise ShapeError(f"unfold: the kernel {k} with dilation {d} and padding {p} does not "
                         f"fit the input of spatial size {tuple(x.shape[2:])}")
    out = O.Unfold.apply(x, kernel_size=k, dilation=d, padding=p, stride=s)
    return out[0] if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns (N, C*kh*kw, L) back into (N, C, *output_size): col2im (the adjoint of
    unfold; overlapping blocks add up)."""
    cols, unbatched = _batched(input, 1, "fold")
    size, k, d, p, s = (ntuple(v, 2, name) for v, name in (
        (output_size, "output_size"), (kernel_size, "kernel_size"), (dilation, "dilation"),
        (padding, "padding"), (stride, "stride")))
    blocks = math.prod(out for out in (
        (size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)))
    if cols.shape[1] % (k[0] * k[1]) or cols.shape[2] != blocks:
        raise ShapeError(f"fold: expected input of shape (N, C*{k[0] * k[1]}, {blocks}), got "
                         f"{tuple(input.shape)}")
    out = O.Fold.apply(cols, output_size=size, kernel_size=k, dilation=d, padding=p, stride=s)
    return out[0] if unbatched else out
