"""Fused recurrences: one op runs a whole sequence of one RNN/LSTM/GRU layer and direction.

The input projection x @ W_ih^T + b_ih of every time step is one Linear op made
before the scan; the scan does one matmul per step (all gates at once) and
its backward is backpropagation through time with the same per-step matmuls.

Under create_graph each scan's backward is rebuilt from ops on Tensors
(``backward_on_graph``): the gate activations are recomputed at once for all steps
from the scan's output (its own graph node), then BPTT loops over time steps, so
the gradients have gradients themselves (gradient penalties, higher orders).
"""
import math

from ...engine import tnp
from ...engine.function import Function
from ...engine.functional import cat, stack
from ...engine.tensor import Tensor
from ._quiet import tolerant

__all__ = ["GRUScan", "LSTMScan", "RNNScan"]


def _steps(n, reverse):
    return range(n - 1, -1, -1) if reverse else range(n)


def _sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _prev_states(xp, seq, first, reverse):
    """For each step, the state it started from: (T, B, H)."""
    if reverse:
        return xp.concatenate([seq[1:], first[None]], axis=0)
    return xp.concatenate([first[None], seq[:-1]], axis=0)


def _weight_grads(xp, dgates, hprev, need_w, need_b):
    g2 = xp.reshape(dgates, (-1, dgates.shape[-1]))
    dw = xp.matmul(g2.T, xp.reshape(hprev, (-1, hprev.shape[-1]))) if need_w else None
    db = xp.sum(g2, axis=0) if need_b else None
    return dw, db


def _graph_inputs(ctx, n):
    """create_graph: the op's n inputs as Tensors (constants wrapped, a missing bias None) and
    its output, which the engine hands over as ``saved[0]`` mapped to the output Tensor."""
    ins = [a if a is None or isinstance(a, Tensor) else Tensor._wrap(a) for a in ctx.inputs]
    return ins + [None] * (n - len(ins)), ctx.saved[0]


def _prev_on_graph(seq, first, reverse):
    """_prev_states on Tensors: (T, B, H) states each step started from."""
    if reverse:
        return cat([seq[1:], first.unsqueeze(0)], 0)
    return cat([first.unsqueeze(0), seq[:-1]], 0)


def _unstack(x):
    """x's time steps as a list of Tensors, sliced from blocks of ~sqrt(T) steps: each slice's
    backward scatters into a zero array the size of what it was cut from, so this costs
    O(T^1.5) rather than O(T^2) in the next backward."""
    T = x.shape[0]
    k = max(1, math.isqrt(T))
    steps = []
    for start in range(0, T, k):
        block = x[start:start + k]
        steps += [block[j] for j in range(block.shape[0])]
    return steps


def _in_time_order(per_step, reverse):
    """Stack grads collected backwards through time (BPTT order) into time order."""
    if not reverse:
        per_step.reverse()
    return stack(per_step, 0)


@tolerant
class RNNScan(Function):
    """h_t = act(xproj_t + h_{t-1} @ W_hh^T + b_hh) over the whole sequence -> (T, B, H)."""

    rule = "da_t = (dy_t + da_{t+1} @ W_hh) * act'(a_t) ; dW_hh = sum_t da_t^T h_{t-1}"

    def forward(ctx, xproj, h0, w_hh, b_hh=None, nonlinearity="tanh", reverse=False):
        xp = ctx.xp
        hs = xp.empty(xproj.shape, dtype=xproj.dtype)
        h = h0
        pre = xproj + b_hh if b_hh is not None else xproj
        wt = w_hh.T
        for t in _steps(xproj.shape[0], reverse):
            a = pre[t] + h @ wt
            h = xp.tanh(a) if nonlinearity == "tanh" else xp.maximum(a, 0)
            hs[t] = h
        ctx.save_for_backward(hs, h0, w_hh)
        ctx.mode, ctx.reverse = nonlinearity, reverse
        return hs

    def backward(ctx, g):
        xp = ctx.xp
        if xp is tnp:  # create_graph (a getattr miss on NumPy costs µs)
            return ctx.backward_on_graph(g)
        hs, h0, w_hh = ctx.saved
        da = xp.empty(hs.shape, dtype=hs.dtype)
        dh = xp.zeros(h0.shape, dtype=hs.dtype)
        for t in _steps(hs.shape[0], not ctx.reverse):
            d = g[t] + dh
            h = hs[t]
            d = d * (1 - h * h) if ctx.mode == "tanh" else d * (h > 0)
            da[t] = d
            dh = d @ w_hh
        nx, nh, nw, nb = ctx.needs_input_grad
        dw, db = _weight_grads(xp, da, _prev_states(xp, hs, h0, ctx.reverse), nw, nb)
        return da if nx else None, dh if nh else None, dw, db

    def backward_on_graph(ctx, g):
        """create_graph: the same BPTT in ops on Tensors; act'(a_t) comes from h_t, the scan's
        output, so its own derivatives go back through this node."""
        (_, h0, w_hh, _), hs = _graph_inputs(ctx, 4)
        slope = _unstack(1 - hs * hs if ctx.mode == "tanh" else (hs > 0).to(hs.dtype))
        gs = _unstack(g)
        das, dh = [], None
        for t in _steps(hs.shape[0], not ctx.reverse):
            d = gs[t] if dh is None else gs[t] + dh
            da = d * slope[t]
            das.append(da)
            dh = da @ w_hh
        da = _in_time_order(das, ctx.reverse)
        nx, nh, nw, nb = ctx.needs_input_grad
        dw, db = _weight_grads(ctx.xp, da, _prev_on_graph(hs, h0, ctx.reverse), nw, nb)
        return da if nx else None, dh if nh else None, dw, db


@tolerant
class LSTMScan(Function):
    """LSTM over the whole sequence (gates i, f, g, o as torch) -> (T, B, 2H): [h_t, c_t]."""

    rule = "BPTT: dc_t = dc_{t+1} * f_{t+1} + dh_t * o_t * (1 - tanh(c_t)^2) ; " \
           "dgates_t -> dxproj_t, dh_{t-1} = dgates_t @ W_hh"

    def forward(ctx, xproj, h0, c0, w_hh, b_hh=None, reverse=False):
        xp = ctx.xp
        T, B = xproj.shape[:2]
        H = h0.shape[-1]
        out = xp.empty((T, B, 2 * H), dtype=xproj.dtype)
        acts = xp.empty(xproj.shape, dtype=xproj.dtype)
        h, c = h0, c0
        pre = xproj + b_hh if b_hh is not None else xproj
        wt = w_hh.T
        for t in _steps(T, reverse):
            a = pre[t] + h @ wt
            s = _sigmoid(xp, a)
            i, f, o = s[:, :H], s[:, H:2 * H], s[:, 3 * H:]
            gg = xp.tanh(a[:, 2 * H:3 * H])
            c = f * c + i * gg
            h = o * xp.tanh(c)
            acts[t, :, :2 * H] = s[:, :2 * H]
            acts[t, :, 2 * H:3 * H] = gg
            acts[t, :, 3 * H:] = o
            out[t, :, :H] = h
            out[t, :, H:] = c
        ctx.save_for_backward(out, acts, h0, c0, w_hh)
        ctx.reverse = reverse
        return out

    def backward(ctx, g):
        xp = ctx.xp
        if xp is tnp:  # create_graph (a getattr miss on NumPy costs µs)
            return ctx.backward_on_graph(g)
        out, acts, h0, c0, w_hh = ctx.saved
        T = out.shape[0]
        H = h0.shape[-1]
        hs, cs = out[..., :H], out[..., H:]
        dgates = xp.empty(acts.shape, dtype=acts.dtype)
        dh = xp.zeros(h0.shape, dtype=out.dtype)
        dc = xp.zeros(c0.shape, dtype=out.dtype)
        cprev = _prev_states(xp, cs, c0, ctx.reverse)
        for t in _steps(T, not ctx.reverse):
            i, f, gg, o = (acts[t, :, :H], acts[t, :, H:2 * H], acts[t, :, 2 * H:3 * H],
                           acts[t, :, 3 * H:])
            tc = xp.tanh(cs[t])
            dh_t = g[t, :, :H] + dh
            dc_t = g[t, :, H:] + dc + dh_t * o * (1 - tc * tc)
            dgates[t, :, :H] = dc_t * gg * i * (1 - i)
            dgates[t, :, H:2 * H] = dc_t * cprev[t] * f * (1 - f)
            dgates[t, :, 2 * H:3 * H] = dc_t * i * (1 - gg * gg)
            dgates[t, :, 3 * H:] = dh_t * tc * o * (1 - o)
            dc = dc_t * f
            dh = dgates[t] @ w_hh
        nx, nh, nc, nw, nb = ctx.needs_input_grad
        dw, db = _weight_grads(xp, dgates, _prev_states(xp, hs, h0, ctx.reverse), nw, nb)
        return dgates if nx else None, dh if nh else None, dc if nc else None, dw, db

    def backward_on_graph(ctx, g):
        """create_graph: gates recomputed for all steps at once from the scan's output (h_{t-1},
        c_{t-1}, c_t), then the same BPTT in ops on Tensors."""
        (xproj, h0, c0, w_hh, b_hh), out = _graph_inputs(ctx, 5)
        H = h0.shape[-1]
        hs, cs = out[..., :H], out[..., H:]
        hprev = _prev_on_graph(hs, h0, ctx.reverse)
        cprev = _prev_on_graph(cs, c0, ctx.reverse)
        a = xproj + hprev @ w_hh.T
        if b_hh is not None:
            a = a + b_hh
        s = a.sigmoid()
        i, f, o = s[..., :H], s[..., H:2 * H], s[..., 3 * H:]
        gg = a[..., 2 * H:3 * H].tanh()
        tc = cs.tanh()
        # per step: dc_t += dh_t * dc_dh_t ; d gates_t = [dc_t, dc_t, dc_t, dh_t] * slopes_t ;
        # dc_{t-1} = dc_t * f_t
        steps = _unstack(cat([g, o * (1 - tc * tc), f, gg * i * (1 - i), cprev * f * (1 - f),
                              i * (1 - gg * gg), tc * o * (1 - o)], -1))
        dgs, dh, dc = [], None, None
        for t in _steps(out.shape[0], not ctx.reverse):
            st = steps[t]
            dh_t = st[:, :H] if dh is None else st[:, :H] + dh
            dc_t = st[:, H:2 * H] + dh_t * st[:, 2 * H:3 * H]
            if dc is not None:
                dc_t = dc_t + dc
            dg = cat([dc_t, dc_t, dc_t, dh_t], -1) * st[:, 4 * H:]
            dgs.append(dg)
            dc = dc_t * st[:, 3 * H:4 * H]
            dh = dg @ w_hh
        dgates = _in_time_order(dgs, ctx.reverse)
        nx, nh, nc, nw, nb = ctx.needs_input_grad
        dw, db = _weight_grads(ctx.xp, dgates, hprev, nw, nb)
        return dgates if nx else None, dh if nh else None, dc if nc else None, dw, db


@tolerant
class GRUScan(Function):
    """GRU over the whole sequence (gates r, z, n as torch) -> (T, B, H)."""

    rule = "BPTT: dh_{t-1} = dh_t * z_t + dgh_t @ W_hh ; dn = dh * (1 - z) ; " \
           "dz = dh * (h_{t-1} - n) ; dr = dn * (1 - n^2) * (W_hn h + b_hn)"

    def forward(ctx, xproj, h0, w_hh, b_hh=None, reverse=False):
        xp = ctx.xp
        T = xproj.shape[0]
        H = h0.shape[-1]
        hs = xp.empty(xproj.shape[:2] + (H,), dtype=xproj.dtype)
        acts = xp.empty(xproj.shape[:2] + (4 * H,), dtype=xproj.dtype)  # r, z, n, W_hn h + b_hn
        h = h0
        wt = w_hh.T
        for t in _steps(T, reverse):
            gh = h @ wt
            if b_hh is not None:
                gh = gh + b_hh
            x = xproj[t]
            rz = _sigmoid(xp, x[:, :2 * H] + gh[:, :2 * H])
            r, z = rz[:, :H], rz[:, H:]
            n = xp.tanh(x[:, 2 * H:] + r * gh[:, 2 * H:])
            h = (1 - z) * n + z * h
            hs[t] = h
            acts[t, :, :2 * H] = rz
            acts[t, :, 2 * H:3 * H] = n
            acts[t, :, 3 * H:] = gh[:, 2 * H:]
        ctx.save_for_backward(hs, acts, h0, w_hh)
        ctx.reverse = reverse
        return hs

    def backward(ctx, g):
        xp = ctx.xp
        if xp is tnp:  # create_graph (a getattr miss on NumPy costs µs)
            return ctx.backward_on_graph(g)
        hs, acts, h0, w_hh = ctx.saved
        T = hs.shape[0]
        H = h0.shape[-1]
        dx = xp.empty(acts.shape[:2] + (3 * H,), dtype=hs.dtype)
        dgh = xp.empty(dx.shape, dtype=hs.dtype)
        dh = xp.zeros(h0.shape, dtype=hs.dtype)
        hprev = _prev_states(xp, hs, h0, ctx.reverse)
        for t in _steps(T, not ctx.reverse):
            r, z, n, ghn = (acts[t, :, :H], acts[t, :, H:2 * H], acts[t, :, 2 * H:3 * H],
                            acts[t, :, 3 * H:])
            d = g[t] + dh
            dan = d * (1 - z) * (1 - n * n)
            dar = dan * ghn * r * (1 - r)
            daz = d * (hprev[t] - n) * z * (1 - z)
            dx[t, :, :H] = dar
            dx[t, :, H:2 * H] = daz
            dx[t, :, 2 * H:] = dan
            dgh[t, :, :2 * H] = dx[t, :, :2 * H]
            dgh[t, :, 2 * H:] = dan * r
            dh = d * z + dgh[t] @ w_hh
        nx, nh, nw, nb = ctx.needs_input_grad
        dw, db = _weight_grads(xp, dgh, hprev, nw, nb)
        return dx if nx else None, dh if nh else None, dw, db

    def backward_on_graph(ctx, g):
        """create_graph: gates recomputed for all steps at once from the scan's output
        (h_{t-1}), then the same BPTT in ops on Tensors."""
        (xproj, h0, w_hh, b_hh), hs = _graph_inputs(ctx, 4)
        H = h0.shape[-1]
        hprev = _prev_on_graph(hs, h0, ctx.reverse)
        gh = hprev @ w_hh.T
        if b_hh is not None:
            gh = gh + b_hh
        rz = (xproj[..., :2 * H] + gh[..., :2 * H]).sigmoid()
        r, z = rz[..., :H], rz[..., H:]
        ghn = gh[..., 2 * H:]
        n = (xproj[..., 2 * H:] + r * ghn).tanh()
        dn = (1 - z) * (1 - n * n)
        # per step (d_t: the grad reaching h_t): d gh_t = [d_t, d_t, d_t] * slopes_t ;
        # dh_{t-1} = d_t * z_t + d gh_t @ W_hh
        steps = _unstack(cat([g, z, dn * ghn * r * (1 - r), (hprev - n) * z * (1 - z), dn * r],
                             -1))
        ds, dghs, dh = [], [], None
        for t in _steps(hs.shape[0], not ctx.reverse):
            st = steps[t]
            d = st[:, :H] if dh is None else st[:, :H] + dh
            dgh = cat([d, d, d], -1) * st[:, 2 * H:]
            ds.append(d)
            dghs.append(dgh)
            dh = d * st[:, H:2 * H] + dgh @ w_hh
        dgh = _in_time_order(dghs, ctx.reverse)
        nx, nh, nw, nb = ctx.needs_input_grad
        dx = cat([dgh[..., :2 * H], _in_time_order(ds, ctx.reverse) * dn], -1) if nx else None
        dw, db = _weight_grads(ctx.xp, dgh, hprev, nw, nb)
        return dx, dh if nh else None, dw, db
