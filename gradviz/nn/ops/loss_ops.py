"""Loss ops: one fused Function per torch loss, with gradients for input and (float) target.

Every class takes ``reduction`` ('none' | 'mean' | 'sum'). Backward formulas use
only ``xp`` functions that the Tensor namespace (``tnp``) also has, and only
saved *inputs*, so that under ``create_graph=True`` they build a correct graph
(double backward, gradient penalties) for free.
"""
import numpy as np

from ...engine.backend import xp_of
from ...engine.function import Function, link_output
from ...engine.ops.util import along, shape_of, unbroadcast
from ...engine.tensor import Tensor
from ...trace.hooks import HOOKS

__all__ = ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogits",
           "KLDiv", "NLLLoss", "CrossEntropy"]


def reduce_loss(xp, loss, reduction, n=None):
    """torch's reduction of an elementwise loss (``n`` overrides the 'mean' divisor)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / (loss.size if n is None else n)


class _Pointwise(Function):
    """Base of losses that are elementwise in (input, target): subclasses give value and slopes."""

    def forward(ctx, x, y, reduction="mean", **params):
        ctx.reduction, ctx.params = reduction, params
        ctx.shapes = shape_of(x), shape_of(y)
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = ctx.value(ctx.xp, x, y, **params)
        ctx.n = ctx.divisor(loss)
        return reduce_loss(ctx.xp, loss, reduction, ctx.n)

    def divisor(ctx, loss):
        """How many elements 'mean' divides by."""
        return loss.size

    def backward(ctx, g):
        xp = ctx.xp
        x, y = ctx.saved
        nx, ny = ctx.needs_input_grad
        if ctx.reduction == "mean":
            g = g / ctx.n
        with np.errstate(divide="ignore", invalid="ignore"):
            dx, dy = ctx.slopes(xp, x, y, nx, ny, **ctx.params)
        return (unbroadcast(xp, g * dx, ctx.shapes[0]) if nx else None,
                unbroadcast(xp, g * dy, ctx.shapes[1]) if ny else None)


class MSELoss(_Pointwise):
    rule = "dx = 2 (x - y) dy / n ; dtarget = -dx"
    torch_name = "MseLossBackward0"

    def value(ctx, xp, x, y):
        d = x - y
        return d * d

    def slopes(ctx, xp, x, y, nx, ny):
        d = (x - y) * 2
        return d, -d


class L1Loss(_Pointwise):
    rule = "dx = sign(x - y) dy / n ; dtarget = -dx"

    def value(ctx, xp, x, y):
        return xp.abs(x - y)

    def slopes(ctx, xp, x, y, nx, ny):
        s = xp.sign(x - y)
        return s, -s


class SmoothL1Loss(_Pointwise):
    rule = "dx = (|d| < beta ? d / beta : sign(d)) dy / n, d = x - y ; dtarget = -dx"

    def value(ctx, xp, x, y, beta=1.0):
        a = xp.abs(x - y)
        if beta == 0:
            return a
        return xp.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta)

    def slopes(ctx, xp, x, y, nx, ny, beta=1.0):
        d = x - y
        s = xp.sign(d) if beta == 0 else xp.where(xp.abs(d) < beta, d / beta, xp.sign(d))
        return s, -s


class HuberLoss(_Pointwise):
    rule = "dx = (|d| < delta ? d : delta sign(d)) dy / n, d = x - y ; dtarget = -dx"

    def value(ctx, xp, x, y, delta=1.0):
        a = xp.abs(x - y)
        return xp.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta))

    def slopes(ctx, xp, x, y, nx, ny, delta=1.0):
        d = x - y
        s = xp.where(xp.abs(d) < delta, d, xp.sign(d) * delta)
        return s, -s


class BCELoss(_Pointwise):
    rule = "dx = w (x - y) / max(x (1 - x), 1e-12) dy / n ; dtarget = w log((1 - x) / x) dy / n"
    torch_name = "BinaryCrossEntropyBackward0"

    def value(ctx, xp, x, y, weight=None):
        # torch clamps each log at -100 so that x = 0 or 1 gives a finite loss
        loss = (y - 1) * xp.maximum(xp.log1p(-x), -100) - y * xp.maximum(xp.log(x), -100)
        return loss if weight is None else loss * weight

    def slopes(ctx, xp, x, y, nx, ny, weight=None):
        dx = (x - y) / xp.maximum(x * (1 - x), 1e-12) if nx else None
        dy = xp.log(1 - x) - xp.log(x) if ny else None
        if weight is not None:
            dx = dx * weight if nx else None
            dy = dy * weight if ny else None
        return dx, dy


def _sigmoid(xp, x):
    """Logistic sigmoid written with tanh: no overflow, and available in every xp."""
    return (xp.tanh(x * 0.5) + 1) * 0.5


def _log_sigmoid(xp, x):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|)), stable for any x."""
    return xp.minimum(x, 0) - xp.log(xp.exp(-xp.abs(x)) + 1)


class BCEWithLogits(_Pointwise):
    rule = ("dx = w ((pw y + 1 - y) sigmoid(x) - pw y) dy / n ; "
            "dtarget = w (log sigmoid(-x) - pw log sigmoid(x)) dy / n")
    torch_name = "BinaryCrossEntropyWithLogitsBackward0"

    def value(ctx, xp, x, y, weight=None, pos_weight=None):
        log_sig = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))
        if pos_weight is not None:
            log_sig = log_sig * ((pos_weight - 1) * y + 1)
        loss = (1 - y) * x - log_sig
        return loss if weight is None else loss * weight

    def slopes(ctx, xp, x, y, nx, ny, weight=None, pos_weight=None):
        dx = dy = None
        if pos_weight is None:
            if nx:
                dx = _sigmoid(xp, x) - y
            if ny:
                dy = -x
        else:
            py = y * pos_weight
            if nx:
                dx = (py + 1 - y) * _sigmoid(xp, x) - py
            if ny:
                dy = _log_sigmoid(xp, -x) - _log_sigmoid(xp, x) * pos_weight
        if weight is not None:
            dx = dx * weight if nx else None
            dy = dy * weight if ny else None
        return dx, dy


class KLDiv(_Pointwise):
    rule = ("dx = -y dy / n (log_target: -exp(y) dy / n) ; "
            "dtarget = (log y + 1 - x) dy / n (log_target: exp(y) (y - x + 1) dy / n)")

    def value(ctx, xp, x, y, log_target=False, batchmean=False):
        if log_target:
            return xp.exp(y) * (y - x)
        xlogy = xp.where(y == 0, 0, y * xp.log(xp.where(y == 0, 1, y)))
        return xlogy - y * x

    def divisor(ctx, loss):
        # 'batchmean' arrives as reduction 'mean' with the batch size as divisor
        if ctx.params.get("batchmean"):
            return loss.shape[0] if loss.ndim else 1
        return loss.size

    def slopes(ctx, xp, x, y, nx, ny, log_target=False, batchmean=False):
        if log_target:
            e = xp.exp(y)
            return (-e if nx else None), (e * (y - x + 1) if ny else None)
        dy = None
        if ny:  # torch (through xlogy) gives nan where y <= 0
            pos = y > 0
            dy = xp.where(pos, xp.log(xp.where(pos, y, 1)) + 1 - x, float("nan"))
        return (-y if nx else None), dy


# ---- class-index losses: input (N, C, d1, ...) or (C,), class dim 1 (0 when unbatched) ----------
def _batched(xp, x, target):
    """Give an unbatched (C,) input and () target a batch dim of 1."""
    if x.ndim == 1:
        return xp.reshape(x, (1,) + x.shape), xp.reshape(target, (1,) + target.shape)
    return x, target


def _class_view(shape):
    """Shape that broadcasts a (C,) vector along the class dim 1 of ``shape``."""
    return (1, shape[1]) + (1,) * (len(shape) - 2)


def _picked(xp, x, target, weight, ignore_index):
    """Where each item's target sits along dim 1 (idx), its weight (0 if ignored), the
    'mean' divisor (the summed weights of the kept targets: their count when unweighted),
    and which items are kept."""
    valid = target != ignore_index
    safe = xp.where(valid, target, 0)
    if weight is None:
        wt = valid.astype(x.dtype)
    else:
        wt = weight.astype(x.dtype)[safe] * valid
    return safe[:, None], wt, wt.sum(), valid


def _take(xp, a, idx):
    """a[n, idx[n], ...] for every item (plain fancy indexing in the common 2-D case)."""
    if a.ndim == 2:
        return a[xp.arange(a.shape[0]), idx[:, 0]]
    return xp.take_along_axis(a, idx, axis=1)[:, 0]


def _one_hot(xp, idx, shape, dtype):
    """(N, C, d...) with 1 at each item's target class."""
    classes = xp.arange(shape[1]).reshape(_class_view(shape))
    return (idx == classes).astype(dtype)


def _scatter(xp, base, idx, values):
    """``base`` with ``values`` added at the target of each item (fresh arrays are reused)."""
    if isinstance(base, Tensor):  # create_graph: one-hot product keeps the graph
        return base + _one_hot(xp_of(idx), idx, base.shape, base.dtype.name) * values
    out = base if base.base is None and getattr(base.flags, "writeable", True) else base.copy()
    out[along(idx, 1)] += values   # one target per item and position: no index repeats
    return out


def _smooth_coef(xp, x, idx, wt, valid, weight, smoothing):
    """q[n, c, ...] (loss = -sum_c q log p) for class indices with label smoothing."""
    q = _one_hot(xp, idx, x.shape, x.dtype) * ((1 - smoothing) * xp.expand_dims(wt, 1))
    spread = smoothing / x.shape[1]
    if weight is not None:
        spread = spread * weight.astype(x.dtype).reshape(_class_view(x.shape))
    return q + spread * xp.expand_dims(valid, 1).astype(x.dtype)


def _prob_coef(xp, x, target, weight, smoothing):
    """q for class-probability targets (target has the input's shape)."""
    q = target * (1 - smoothing) + smoothing / x.shape[1] if smoothing else target
    if weight is not None:
        q = q * xp.reshape(weight.astype(x.dtype), _class_view(x.shape))
    return q


def _item_grad(xp, g, reduction, loss_shape, denom, valid=None):
    """The upstream grad per item, shaped to broadcast along the class dim; 0 for the items
    ``valid`` leaves out (ignored targets), so a 'mean' over nothing (NaN) has a zero
    gradient, as torch, while a zero-weight target kept in it gets NaN, as torch."""
    if reduction == "none":
        gi = xp.expand_dims(xp.reshape(g, loss_shape), 1)
    elif reduction == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            gi = g / denom
    else:
        gi = g
    return gi if valid is None else xp.where(xp.expand_dims(valid, 1), gi, 0)


class NLLLoss(Function):
    rule = "dx[n, target_n] = -w[target_n] dy_n / n_eff (0 where target = ignore_index)"

    def forward(ctx, x, target, weight=None, ignore_index=-100, reduction="mean"):
        xp = ctx.xp
        ctx.torch_name = "NllLoss2DBackward0" if x.ndim > 2 else "NllLossBackward0"
        ctx.shape, ctx.reduction = x.shape, reduction
        x2, t2 = _batched(xp, x, target)
        idx, wt, ctx.denom, ctx.valid = _picked(xp, x2, t2, weight, ignore_index)
        ctx.idx, ctx.wt, ctx.shape2, ctx.loss_shape = idx, wt, x2.shape, t2.shape
        # gather, not sum(one_hot * x): a -inf log-probability elsewhere must not make nan
        loss = xp.where(wt != 0, -wt * _take(xp, x2, idx), 0)
        if reduction == "none":
            return xp.reshape(loss, target.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            return reduce_loss(xp, loss, reduction, ctx.denom)

    def backward(ctx, g):
        xp = ctx.xp
        gi = _item_grad(xp, g, ctx.reduction, ctx.loss_shape, ctx.denom, ctx.valid)
        zero = xp.zeros(ctx.shape2, dtype=ctx.wt.dtype)
        return xp.reshape(_scatter(xp, zero, ctx.idx, -ctx.wt[:, None] * gi),
                          ctx.shape), None


def class_indices_below(target, n_cls):
    """True when ``target`` holds integers all in [0, n_cls), checked with one reduction:
    viewed as unsigned, negative values become larger than any class count."""
    dt = target.dtype
    if dt.kind not in "iu" or not target.size:
        return False
    u = target.view(_UNSIGNED[dt.itemsize])
    # np.maximum.reduce is what ndarray.max() calls (same value), minus its Python wrapper
    return bool((np.maximum.reduce(u, None) if type(u) is np.ndarray else u.max()) < n_cls)


_UNSIGNED = {n: np.dtype(f"u{n}") for n in (1, 2, 4, 8)}  # integer itemsize -> unsigned
_ROWS = {}  # (batch size, classes) -> read-only arange(n) * classes (the first 32 seen)
_new = object.__new__


def _ce_fast_forward(ctx, xp, x, target, reduction):
    """CrossEntropy for the common case: (N, C) input, every target a valid class index, no
    weight or smoothing, 'mean' or 'sum'. The same formulas as the general path (so the same
    values) without its bookkeeping: unit weights, no masks, no error-state context."""
    n = x.shape[0]
    if xp is np:  # the ufunc reductions that max()/sum() call, minus their Python wrappers
        z = x - np.maximum.reduce(x, 1, keepdims=True)
        logp = z - np.log(np.add.reduce(np.exp(z), 1, keepdims=True))
    else:
        z = x - x.max(axis=1, keepdims=True)
        logp = z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))
    if xp is np and (target.dtype.kind == "i" or target.dtype.itemsize < 8):
        # each row's target as one flat index: the same elements as logp[arange(n), target],
        # picked (and scattered in backward) with 1-D indexing, several times cheaper
        c = x.shape[1]
        starts = _ROWS.get((n, c))
        if starts is None:
            starts = np.arange(n) * c
            if n <= 4096 and len(_ROWS) < 32:
                starts.flags.writeable = False  # shared by every call with this shape
                _ROWS[(n, c)] = starts
        flat = starts + target  # intp (a uint64 target would make floats: not here)
        ctx.rows, ctx.flat = None, flat
        picked = logp.reshape(-1)[flat]
    else:
        rows = xp.arange(n)
        ctx.rows, ctx.flat = rows, None
        picked = logp[rows, target]
    ctx.fast, ctx.q = True, None
    ctx.shape2, ctx.loss_shape, ctx.idx = x.shape, (n,), target  # for the general backward
    ctx.denom = x.dtype.type(n)  # what the general path's sum of unit weights gives
    ctx.saved = (x, target, logp)
    total = (-picked).sum()
    # a 0-d array, as Function.apply would make of the NumPy scalar
    return xp.asarray(total / ctx.denom if reduction == "mean" else total)


def cross_entropy_plain(input, target, reduction):
    """``CrossEntropy.apply(input, target, weight=None, ignore_index=-100,
    label_smoothing=0.0, reduction=reduction)`` for the case that ``F.cross_entropy`` has
    already checked ((N, C) float Tensor, (N,) valid class indices on its device, 'mean' or
    'sum'): the same node, attributes and value without re-checking the targets (on the GPU:
    without a second synchronisation); anything tracing takes ``CrossEntropy.apply``."""
    if HOOKS.on:
        return CrossEntropy.apply(input, target, weight=None, ignore_index=-100,
                                  label_smoothing=0.0, reduction=reduction)
    ctx = _new(CrossEntropy)
    ctx.reduction, ctx.weight, ctx.smoothing, ctx.prob = reduction, None, 0.0, False
    xp = xp_of(input._data)
    if xp is not np:
        ctx.xp = xp
    out = _ce_fast_forward(ctx, xp, input._data, target._data, reduction)
    ctx.attrs = {"weight": None, "ignore_index": -100, "label_smoothing": 0.0,
                 "reduction": reduction}
    return link_output(ctx, out, (input, target), input._requires_grad or target._requires_grad)


def _ce_fast_backward(ctx, xp, g, target, logp):
    """d loss / d x of ``_ce_fast_forward``: (softmax - one_hot(target)) * dy (/ N)."""
    gi = g / ctx.denom if ctx.reduction == "mean" else g
    dx = xp.exp(logp) * gi
    flat = ctx.flat
    if flat is not None and dx.flags.c_contiguous:
        dx.reshape(-1)[flat] += -gi  # a view of dx: the elements dx[arange(n), target]
    else:
        rows = ctx.rows
        dx[xp.arange(dx.shape[0]) if rows is None else rows, target] += -gi
    return dx


class CrossEntropy(Function):
    rule = "dx = (sum_c q_c softmax(x) - q) dy / n_eff, loss = -sum_c q_c log_softmax(x)_c"

    def forward(ctx, x, target, weight=None, ignore_index=-100, label_smoothing=0.0,
                reduction="mean"):
        xp = ctx.xp
        ctx.reduction, ctx.weight, ctx.smoothing = reduction, weight, label_smoothing
        ctx.prob = target.dtype.kind == "f"
        if (x.ndim == 2 and not ctx.prob and weight is None and not label_smoothing
                and reduction != "none" and ignore_index < 0 and x.shape[0]
                and class_indices_below(target, x.shape[1])):
            return _ce_fast_forward(ctx, xp, x, target, reduction)
        ctx.fast = False
        x2, t2 = _batched(xp, x, target)
        ctx.shape2 = x2.shape
        z = x2 - x2.max(axis=1, keepdims=True)
        logp = z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))
        ctx.q = None
        if ctx.prob:
            q = _prob_coef(xp, x2, t2, weight, label_smoothing)
            ctx.denom = q[:, 0].size
            loss = -(q * logp).sum(axis=1)
        else:
            ctx.idx, ctx.wt, ctx.denom, ctx.valid = _picked(xp, x2, t2, weight, ignore_index)
            valid = ctx.valid
            loss = -ctx.wt * _take(xp, logp, ctx.idx)
            if label_smoothing:
                ctx.q = _smooth_coef(xp, x2, ctx.idx, ctx.wt, valid, weight, label_smoothing)
                loss = -(ctx.q * logp).sum(axis=1)
        ctx.loss_shape = loss.shape
        ctx.save_for_backward(x, target, logp)
        if reduction == "none":
            return xp.reshape(loss, x.shape[:1] + x.shape[2:] if x.ndim > 1 else ())
        with np.errstate(divide="ignore", invalid="ignore"):
            return reduce_loss(xp, loss, reduction, ctx.denom)

    def backward(ctx, g):
        xp = ctx.xp
        x, target, logp = ctx.saved
        nx, nt = ctx.needs_input_grad
        if ctx.fast and not nt and not isinstance(logp, Tensor):
            return _ce_fast_backward(ctx, xp, g, target, logp), None
        if ctx.fast:  # create_graph (or a target grad): the general formulas' unit weights
            t = ctx.idx
            ctx.idx, ctx.wt, ctx.fast = t[:, None], xp_of(t).ones(t.shape, ctx.denom.dtype), False
            ctx.valid = None   # every target is a class there
        if isinstance(logp, Tensor):  # create_graph: recompute from x so the grad has a graph
            logp = xp.reshape(x, ctx.shape2).log_softmax(1)
        gi = _item_grad(xp, g, ctx.reduction, ctx.loss_shape, ctx.denom,
                        None if ctx.prob else ctx.valid)
        dx = dt = None
        if nx:
            p = xp.exp(logp)
            if ctx.prob or ctx.q is not None:
                q = ctx.q if ctx.q is not None else _prob_coef(
                    xp, logp, xp.reshape(target, ctx.shape2), ctx.weight, ctx.smoothing)
                dx = (p * xp.sum(q, axis=1, keepdims=True) - q) * gi
            else:  # class indices: w_t (softmax - one_hot(t))
                gw = ctx.wt[:, None] * gi
                dx = _scatter(xp, p * gw, ctx.idx, -gw)
            dx = xp.reshape(dx, shape_of(x))
        if nt:
            dlogp = -logp * (1 - ctx.smoothing)
            if ctx.weight is not None:
                dlogp = dlogp * xp.reshape(ctx.weight.astype(logp.dtype), _class_view(ctx.shape2))
            dt = xp.reshape(dlogp * gi, shape_of(target))
        return dx, dt
