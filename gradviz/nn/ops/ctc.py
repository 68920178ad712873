"""CTC loss: the forward-backward (alpha/beta) recursion in log space, vectorised over the batch.

Labels are extended with blanks (``b l1 b l2 ... b``, length 2S+1). One Python
loop runs over time steps; every step works on the whole (batch, extended
label) array at once. The gradient is torch's: it is taken with respect to the
logits behind ``log_probs`` (torch assumes they came from log_softmax), that is
``exp(log_probs) - occupancy``, where occupancy sums the posterior of every
extended position that carries the class.
"""
import numpy as np

from ...engine.function import Function
from ...engine.tensor import Tensor
from ...errors import BackwardError

__all__ = ["CTCLoss"]

NEG_INF = -np.inf


def extend_targets(xp, targets, target_lengths, blank):
    """Padded (N, S) labels -> (N, 2S+1) with blanks between and around (padding -> blank)."""
    n, s = targets.shape
    pos = xp.arange(s)
    labels = xp.where(pos[None, :] < target_lengths[:, None], targets, blank)
    ext = xp.full((n, 2 * s + 1), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    return ext


def _skip_penalty(xp, ext, blank, dtype):
    """(2S+1, N): 0 where position s may be entered from s-2 (a label unlike the one two
    before it), else -inf."""
    ok = xp.zeros(ext.shape, dtype=bool)
    ok[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return xp.ascontiguousarray(xp.where(ok, 0.0, NEG_INF).astype(dtype).T)


class CTCLoss(Function):
    rule = ("dlog_probs[t, n, c] = (exp(log_probs) - sum_{s: l'_s = c} alpha_t(s) beta_t(s) / "
            "(p(l|x) y_t^c)) dy_n  (torch's gradient, as if taken through log_softmax)")

    # Arrays are laid out (time, extended label, batch): the s-1 and s-2 neighbours of a
    # time step are then contiguous row blocks, which NumPy's ufuncs run fastest on.
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank=0,
                reduction="mean", zero_infinity=False):
        xp = ctx.xp
        lp = log_probs
        T, N, _ = lp.shape
        ext = extend_targets(xp, targets, target_lengths, blank)
        S2 = ext.shape[1]
        n_idx = xp.arange(N)
        lpx = lp[:, n_idx[None, :], ext.T]                 # (T, 2S+1, N): log y_t(l'_s)
        skip = _skip_penalty(xp, ext, blank, lp.dtype)
        # alpha with two rows of -inf in front, so that s-1 and s-2 exist for every s
        alpha = xp.full((T, S2 + 2, N), NEG_INF, dtype=lp.dtype)
        alpha[0, 2] = lpx[0, 0]
        if S2 > 1:
            alpha[0, 3] = xp.where(target_lengths > 0, lpx[0, 1], NEG_INF)
        for t in range(1, T):
            prev, cur = alpha[t - 1], alpha[t, 2:]
            xp.logaddexp(prev[2:], prev[1:-1], out=cur)
            xp.logaddexp(cur, prev[:-2] + skip, out=cur)
            cur += lpx[t]
        alpha = alpha[:, 2:]
        last = xp.maximum(input_lengths - 1, 0)
        two_l = 2 * target_lengths
        end = alpha[last, two_l, n_idx]
        tail = xp.where(target_lengths > 0, alpha[last, xp.maximum(two_l - 1, 0), n_idx],
                        NEG_INF)
        nll = -xp.logaddexp(end, tail)
        nll = xp.where(input_lengths > 0, nll, xp.where(target_lengths > 0, np.inf, 0.0))
        nll = nll.astype(lp.dtype)
        ctx.save_for_backward(lp)
        ctx.alpha, ctx.lpx, ctx.ext, ctx.skip, ctx.nll = alpha, lpx, ext, skip, nll
        ctx.input_lengths, ctx.target_lengths = input_lengths, target_lengths
        ctx.reduction, ctx.zero_infinity = reduction, zero_infinity
        losses = xp.where(xp.isinf(nll), 0, nll) if zero_infinity else nll
        if reduction == "none":
            return losses
        if reduction == "sum":
            return xp.sum(losses)
        return xp.mean(losses / xp.maximum(target_lengths, 1).astype(lp.dtype))

    def _beta(ctx):
        """beta_t(s): log-probability of the rest of the labels from (t, s), y_t included."""
        xp, lpx, skip = ctx.xp, ctx.lpx, ctx.skip
        T, S2, N = lpx.shape
        n_idx = xp.arange(N)
        last = ctx.input_lengths - 1
        # where each path may end (s = 2L and 2L-1 at t = last): seeds, -inf elsewhere
        seed = xp.full((T, S2, N), NEG_INF, dtype=lpx.dtype)
        live = last >= 0
        t_end, n_end, two_l = last[live], n_idx[live], 2 * ctx.target_lengths[live]
        seed[t_end, two_l, n_end] = lpx[t_end, two_l, n_end]
        has = two_l > 0
        seed[t_end[has], two_l[has] - 1, n_end[has]] = lpx[t_end[has], two_l[has] - 1, n_end[has]]
        # beta with two rows of -inf behind; entering s+2 from s needs skip[s+2]
        beta = xp.full((T, S2 + 2, N), NEG_INF, dtype=lpx.dtype)
        beta[T - 1, :S2] = seed[T - 1]
        for t in range(T - 2, -1, -1):
            nxt, cur = beta[t + 1], beta[t, :S2]
            xp.logaddexp(nxt[:S2], nxt[1:S2 + 1], out=cur)
            if S2 > 2:
                xp.logaddexp(cur[:-2], nxt[2:S2] + skip[2:], out=cur[:-2])
            cur += lpx[t]
            xp.maximum(cur, seed[t], out=cur)   # items whose last step is t start here
        return beta[:, :S2]

    def backward(ctx, g):
        if isinstance(g, Tensor):
            raise BackwardError("double backward (create_graph=True) is not supported through "
                                "CTCLoss")
        xp = ctx.xp
        lp = ctx.saved[0]
        T, N, C = lp.shape
        nll, lengths = ctx.nll, ctx.target_lengths
        beta = ctx._beta()
        finite = xp.isfinite(nll)
        with np.errstate(invalid="ignore", over="ignore"):
            # posterior of being at extended position s at time t (sums to 1 over s)
            post = xp.exp(ctx.alpha + beta - ctx.lpx + xp.where(finite, nll, 0))
        onehot = (ctx.ext[:, :, None] == xp.arange(C)[None, None, :]).astype(lp.dtype)
        occupancy = xp.matmul(post.transpose(2, 0, 1), onehot).transpose(1, 0, 2)  # (T, N, C)
        grad = xp.exp(lp) - occupancy
        # torch: an impossible alignment gives nan wherever t is inside the input (0 when
        # zero_infinity), and every item's gradient is 0 after its input length
        bad = 0 if ctx.zero_infinity else np.nan
        inside = xp.arange(T)[:, None] < ctx.input_lengths[None, :]
        grad = xp.where(inside[:, :, None], xp.where(finite[None, :, None], grad, bad), 0)
        if ctx.reduction == "mean":
            g = g / (xp.maximum(lengths, 1) * N).astype(lp.dtype)
        scale = xp.broadcast_to(g, (N,)) if ctx.reduction != "none" else g
        return (grad * scale[None, :, None]).astype(lp.dtype), None, None, None
