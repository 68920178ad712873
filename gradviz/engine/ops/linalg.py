"""Matrix products: matmul and einsum."""
from ...errors import GradvizError
from ..function import Function
from .util import cj, unbroadcast

__all__ = ["Matmul", "Einsum", "parse_einsum"]


class Matmul(Function):
    rule = "dx = dy @ y^T ; dy_in = x^T @ dy"
    saved_for = {0: (1,), 1: (0,)}   # x is read for y's gradient, y for x's
    # torch's node by the inputs' ranks; batched products end in a view (bmm sets its own)
    torch_names = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4",
                   (2, 2): "MmBackward0"}

    def forward(ctx, x, y):
        ctx.torch_name = ctx.torch_names.get((x.ndim, y.ndim), "UnsafeViewBackward0")
        ctx.save_for_backward(x, y)
        return ctx.xp.matmul(x, y)

    def backward(ctx, g):
        xp = ctx.xp
        x, y = ctx.saved
        nx, ny = ctx.needs_input_grad
        x2 = xp.reshape(x, (1,) + tuple(x.shape)) if x.ndim == 1 else x
        y2 = xp.reshape(y, tuple(y.shape) + (1,)) if y.ndim == 1 else y
        g2 = g
        if y.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        if x.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        dx = dy = None
        if nx:
            dx = unbroadcast(xp, xp.matmul(g2, cj(xp.swapaxes(y2, -1, -2))), x2.shape)
            dx = xp.reshape(dx, x.shape)
        if ny:
            dy = unbroadcast(xp, xp.matmul(cj(xp.swapaxes(x2, -1, -2)), g2), y2.shape)
            dy = xp.reshape(dy, y.shape)
        return dx, dy


# torch's dtype names as its product errors write them: ScalarType, and C++ type for mm
_SCALAR_TYPE = {"complex128": "ComplexDouble", "complex64": "ComplexFloat", "float64": "Double",
                "float32": "Float", "float16": "Half", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_CPP_TYPE = {"complex128": "c10::complex<double>", "complex64": "c10::complex<float>",
             "float64": "double", "float32": "float", "float16": "c10::Half",
             "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
             "uint8": "unsigned char", "bool": "bool"}


def check_product_dtypes(x, y):
    """Refuse a matrix product of a complex array and one of another dtype with torch's
    error for the kernel the ranks pick (dot, addmv, mm, bmm): torch does not promote
    there, and a silently promoted real operand would hide a bug in a complex model."""
    if x.dtype == y.dtype or "c" not in (x.dtype.kind, y.dtype.kind):
        return
    a, b = x.dtype.name, y.dtype.name
    sa, sb = _SCALAR_TYPE.get(a, a), _SCALAR_TYPE.get(b, b)
    if x.ndim == 1 and y.ndim == 1:
        msg = f"dot : expected both vectors to have same dtype, but found {sa} and {sb}"
    elif y.ndim == 1:
        msg = f"addmv input tensors must have the same dtype, but got {sb}, {sa}, and {sb}"
    elif y.ndim == 2:
        msg = (f"expected m1 and m2 to have the same dtype, but got: {_CPP_TYPE.get(a, a)} "
               f"!= {_CPP_TYPE.get(b, b)}")
    else:
        msg = f"expected scalar type {sa} but found {sb}"
    raise GradvizError(msg)


def parse_einsum(equation, shapes):
    """``equation`` with ``...`` written out as capital letters (right-aligned, as NumPy
    broadcasts them) and the output made explicit: ([operand subscripts], output)."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(shapes):
        raise ValueError(f"einsum(): {len(subs)} operand subscripts for {len(shapes)} "
                         "operands")
    spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq)
    n_ell = max((len(shape) - len(s.replace("...", "")) for s, shape in zip(subs, shapes)
                 if "..." in s), default=0)
    ell = "".join(next(spare) for _ in range(n_ell))
    full = []
    for s, shape in zip(subs, shapes):
        if "..." in s:
            k = len(shape) - len(s.replace("...", ""))
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if len(s) != len(shape) or not (s.isalpha() or not s):   # '' is a 0-d operand
            raise ValueError(f"einsum(): subscripts {s!r} do not fit an operand of "
                             f"{len(shape)} dims")
        full.append(s)
    if not arrow:   # implicit output: the letters seen once, in order
        letters = "".join(full)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    else:
        out = out.replace("...", ell)
    return full, out


class Einsum(Function):
    rule = "d(operand i) = einsum(dy and the other operands -> operand i's subscripts)"

    def forward(ctx, *operands, equation=""):
        ctx.in_subs, ctx.out_subs = parse_einsum(equation, [o.shape for o in operands])
        ctx.save_for_backward(*operands)
        return ctx.xp.einsum(",".join(ctx.in_subs) + "->" + ctx.out_subs, *operands)

    def backward(ctx, g):
        xp, ops = ctx.xp, ctx.saved
        grads = []
        for i, (s, need) in enumerate(zip(ctx.in_subs, ctx.needs_input_grad)):
            if not need:
                grads.append(None)
                continue
            shape = tuple(ops[i].shape)
            # a repeated letter (a diagonal, 'ii'): the gradient over the distinct letters,
            # written onto the diagonal of zeros
            u = "".join(dict.fromkeys(s))
            u_shape = tuple(shape[s.index(c)] for c in u)
            others = [(t, o) for j, (t, o) in enumerate(zip(ctx.in_subs, ops)) if j != i]
            seen = ctx.out_subs + "".join(t for t, _ in others)
            kept = "".join(c for c in u if c in seen)
            eq = ",".join([ctx.out_subs] + [t for t, _ in others]) + "->" + kept
            d = xp.einsum(eq, g, *[o for _, o in others])
            # letters only operand i has were summed away: bring them back (broadcast);
            # size-1 dims that broadcast against the others: sum them back to 1
            d = xp.reshape(d, tuple(d.shape[kept.index(c)] if c in kept else 1 for c in u))
            d = unbroadcast(xp, xp.broadcast_to(d, _bshape(d.shape, u_shape)), u_shape)
            grads.append(d if u == s else _on_diagonal(xp, d, s, u, shape))
        return tuple(grads)


def _bshape(a, b):
    """The shape a broadcasts to against b's sizes (a size-1 dim takes b's, even 0)."""
    return tuple(y if x == 1 else x for x, y in zip(a, b))


def _on_diagonal(xp, d, s, u, shape):
    """Zeros of ``shape`` (subscripts ``s``) with ``d`` (subscripts ``u``, s's distinct
    letters) on the diagonals of the repeated letters: an einsum with identity matrices,
    so that it builds a graph under create_graph too."""
    spare = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 if c not in s)
    out, deltas, eyes = "", [], []
    for k, c in enumerate(s):
        if c in out:   # a repeat: a fresh letter tied to the first by an identity matrix
            c2 = next(spare)
            deltas.append(c + c2)
            eyes.append(xp.eye(shape[k], dtype=d.dtype))
            c = c2
        out += c
    return xp.einsum(",".join([u] + deltas) + "->" + out, d, *eyes)
