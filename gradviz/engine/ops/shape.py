"""Shape ops: views and rearrangements, concatenation and stacking."""
from ..function import Function
from .util import unbroadcast

__all__ = ["Flip", "Reshape", "View", "Flatten", "Unflatten", "Squeeze", "Unsqueeze", "Transpose",
           "Permute", "Expand", "Repeat", "Cat", "Stack"]


class Reshape(Function):
    rule = "dx = reshape(dy, x.shape)"
    torch_name = "ViewBackward0"   # torch's reshape of a contiguous tensor is a view

    def forward(ctx, x, shape=None):
        ctx.in_shape = x.shape
        return ctx.xp.reshape(x, shape)

    def backward(ctx, g):
        return ctx.xp.reshape(g, ctx.in_shape)


class View(Reshape):
    """``view``: a reshape that shares memory (as every reshape here does when it can)."""

    rule = "dx = view(dy, x.shape)"


class Flatten(Reshape):
    rule = "dx = reshape(dy, x.shape)"


class Unflatten(Reshape):
    rule = "dx = reshape(dy, x.shape)"


class Squeeze(Reshape):
    rule = "dx = unsqueeze(dy)"
    torch_name = "SqueezeBackward0"   # squeeze(dim) sets 1, squeeze(dims) 2 (Tensor.squeeze)


class Unsqueeze(Reshape):
    rule = "dx = squeeze(dy)"
    torch_name = "UnsqueezeBackward0"


class Transpose(Function):
    rule = "dx = transpose(dy, dim0, dim1)"

    def forward(ctx, x, dim0=0, dim1=1):
        ctx.dims = dim0, dim1
        return ctx.xp.swapaxes(x, dim0, dim1)

    def backward(ctx, g):
        return ctx.xp.swapaxes(g, *ctx.dims)


class Permute(Function):
    rule = "dx = permute(dy, inverse(dims))"

    def forward(ctx, x, dims=None):
        ctx.dims = tuple(d % x.ndim for d in dims)
        return ctx.xp.transpose(x, ctx.dims)

    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return ctx.xp.transpose(g, tuple(inv))


class Expand(Function):
    rule = "dx = sum(dy over expanded dims)"

    def forward(ctx, x, shape=None):
        ctx.in_shape = x.shape
        return ctx.xp.broadcast_to(x, shape)

    def backward(ctx, g):
        return unbroadcast(ctx.xp, g, ctx.in_shape)


class Repeat(Function):
    rule = "dx = sum of dy's tiles"

    def forward(ctx, x, repeats=None):
        xp = ctx.xp
        reps = tuple(repeats)
        shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
        ctx.in_shape, ctx.shape, ctx.reps = x.shape, shape, reps
        return xp.tile(xp.reshape(x, shape), reps)

    def backward(ctx, g):
        xp = ctx.xp
        split = []
        for r, s in zip(ctx.reps, ctx.shape):
            split += [r, s]
        g = xp.reshape(g, tuple(split))
        g = xp.sum(g, axis=tuple(range(0, len(split), 2)))
        return xp.reshape(g, ctx.in_shape)


class Cat(Function):
    rule = "dx_i = slice of dy for input i"

    def forward(ctx, *xs, dim=0):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return ctx.xp.concatenate(xs, axis=dim)

    def backward(ctx, g):
        out, start = [], 0
        d = ctx.dim % g.ndim
        for n, need in zip(ctx.sizes, ctx.needs_input_grad):
            if need:
                idx = (slice(None),) * d + (slice(start, start + n),)
                out.append(g[idx])
            else:
                out.append(None)
            start += n
        return tuple(out)


class Stack(Function):
    rule = "dx_i = dy[i] along dim"

    def forward(ctx, *xs, dim=0):
        ctx.dim = dim
        return ctx.xp.stack(xs, axis=dim)

    def backward(ctx, g):
        d = ctx.dim % g.ndim
        return tuple(g[(slice(None),) * d + (i,)] if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


class Flip(Function):
    rule = "dx = flip(dy)"

    def forward(ctx, x, dims=()):
        ctx.dims = dims
        return ctx.xp.flip(x, axis=dims)

    def backward(ctx, g):
        return ctx.xp.flip(g, axis=ctx.dims)
