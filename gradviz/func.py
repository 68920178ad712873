"""``gv.func``: torch.func's common part (grad, grad_and_value, vjp, jacrev, jacfwd, hessian,
functional_call) built on ``gv.autograd.grad``, so every step is still an event.

Transforms take pytrees (dicts, lists, tuples of tensors) at their ``argnums`` and never touch
any ``.grad``. They nest (``grad(grad(f))``): when an input already requires grad with grad
mode on, the result keeps the caller's graph (create_graph), as torch.func composes with
autograd. ``vmap`` maps a function over a batch dimension (a loop over the slices, the
same results as torch's batching).
"""
import functools

from .autograd.functional import _autograd_grad, _jacobian_rows
from .engine.creation import zeros_like
from .engine.grad_mode import enable_grad, is_grad_enabled
from .engine.tensor import Tensor
from .errors import ArgumentError, DimError, GradvizError
from .func_modules import functional_call, stack_module_state  # noqa: F401  (gv.func's)

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian",
           "functional_call", "stack_module_state", "vmap"]


def _flatten(tree, leaves):
    """Append the leaves of a dict/list/tuple tree to ``leaves``; return a function that
    rebuilds the same tree from an iterator of new leaves."""
    if isinstance(tree, dict):
        builds = {k: _flatten(v, leaves) for k, v in tree.items()}
        return lambda it: {k: b(it) for k, b in builds.items()}
    if isinstance(tree, (list, tuple)):
        builds = [_flatten(v, leaves) for v in tree]
        kind = type(tree)
        if hasattr(tree, "_fields"):   # a namedtuple takes its fields positionally
            return lambda it: kind(*(b(it) for b in builds))
        return lambda it: kind(b(it) for b in builds)
    leaves.append(tree)
    return lambda it: next(it)


def _check_leaves(leaves, what):
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise GradvizError(f"Thing passed to transform API must be Tensor, got "
                               f"{type(leaf)} ({what}).")


class _TransformInputError(ArgumentError):
    """A transform's input that is not a Tensor (torch raises ValueError)."""


class _CotangentTypeError(GradvizError, TypeError):
    """A cotangent that is not a Tensor (torch raises TypeError)."""


def _argnums(argnums, n_args):
    """argnums (int or non-empty tuple of ints, negative from the end) as a tuple of indices."""
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums:
        raise ArgumentError("argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise ArgumentError(f"argnums must be int or Tuple[int, ...], got: {argnums!r}")
        if not -n_args <= a < n_args:
            raise ArgumentError(f"Got argnums={a}, but only {n_args} positional inputs")
    nums = tuple(a % n_args for a in nums)
    if len(set(nums)) != len(nums):
        raise ArgumentError(f"argnums must be unique, got {argnums!r}")
    return nums


def _lift(leaves, outer_grad):
    """Differentiable stand-ins for leaves, and whether the caller's graph is kept (nested):
    an input that already requires grad is viewed, not detached, so outer transforms see
    through this one."""
    nested = outer_grad and any(t.requires_grad for t in leaves)
    lifted = tuple(t.view_as(t) if nested and t.requires_grad
                   else t.detach().requires_grad_() for t in leaves)
    return lifted, nested


def _lift_args(args, argnums, outer_grad):
    """(new args with the argnums' leaves lifted, lifted leaves, their rebuilders, nested)."""
    nums = _argnums(argnums, len(args))
    leaves, builds = [], []
    for n in nums:
        builds.append(_flatten(args[n], leaves))
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise _TransformInputError(f"Thing passed to transform API must be Tensor, got "
                                       f"{type(leaf)} (an input at argnums).")
    lifted, nested = _lift(leaves, outer_grad)
    new_args, it = list(args), iter(lifted)
    for n, build in zip(nums, builds):
        new_args[n] = build(it)
    return new_args, lifted, builds, nested


def _rebuild(per_leaf, builds, argnums):
    """Per-leaf results back in the argnums' structure (a tuple for tuple argnums)."""
    it = iter(per_leaf)
    out = tuple(build(it) for build in builds)
    return out if isinstance(argnums, tuple) else out[0]


def _split_aux(result, has_aux, api):
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise GradvizError(f"{api}(f, ...)(*args): output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    return result


def _detach_tree(tree, keep):
    leaves = []
    build = _flatten(tree, leaves)
    for leaf in leaves:
        if not isinstance(leaf, Tensor):   # torch's rule for aux too
            raise GradvizError(f"Expected tensors, got unsupported type {type(leaf)} (in aux)")
    return build(iter(leaves if keep else [t.detach() for t in leaves]))


def _grads(outputs, inputs, cotangents, create_graph):
    """d(outputs)/d(inputs) weighted by cotangents; zeros where an input is unreached."""
    res = _autograd_grad(tuple(outputs), inputs, cotangents, create_graph=create_graph,
                         retain_graph=True)
    return tuple(zeros_like(x) if g is None else g for g, x in zip(res, inputs))


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of func w.r.t. the argnums inputs, func's value); with
    has_aux, (gradient, (value, aux)). func must return a scalar Tensor."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        outer_grad = is_grad_enabled()   # an outer no_grad does not stop a transform
        with enable_grad():
            new_args, lifted, builds, nested = _lift_args(args, argnums, outer_grad)
            output, aux = _split_aux(func(*new_args, **kwargs), has_aux, "grad_and_value")
            if not isinstance(output, Tensor):
                raise GradvizError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got type {type(output)}")
            if output.dim() != 0:
                raise GradvizError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {output.dim()} dims. Maybe "
                                   "you wanted to use the vjp or jacrev APIs instead?")
            grads = _grads((output,), lifted, None, create_graph=nested)
        value = output if nested else output.detach()
        grads = _rebuild(grads, builds, argnums)
        if has_aux:
            return grads, (value, _detach_tree(aux, nested))
        return grads, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of scalar-valued func w.r.t. the argnums inputs
    (same structure as those inputs); with has_aux, (gradient, aux)."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = both(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): ``vjp_fn(cotangents)`` returns one vector-Jacobian
    product per primal, as a tuple; it may be called more than once."""
    outer_grad = is_grad_enabled()
    with enable_grad():
        new_args, lifted, builds, nested = _lift_args(primals, tuple(range(len(primals))),
                                                      outer_grad)
        output, aux = _split_aux(func(*new_args), has_aux, "vjp")
    out_leaves = []
    out_build = _flatten(output, out_leaves)
    _check_leaves(out_leaves, "an output of func")

    def vjp_fn(cotangents):
        """The vector-Jacobian products of func at primals for these cotangents."""
        ct_leaves = []
        _flatten(cotangents, ct_leaves)
        if _shape_of(cotangents) != _shape_of(output):   # list vs tuple, dict keys too
            raise GradvizError("Expected pytree structure of cotangents to be the same as "
                               "pytree structure of outputs to the function.")
        for ct in ct_leaves:
            if not isinstance(ct, Tensor):
                raise _CotangentTypeError("gradients can be either Tensors or None, but got "
                                          f"{type(ct).__name__}")
        for i, (ct, out) in enumerate(zip(ct_leaves, out_leaves)):
            if tuple(ct.shape) != tuple(out.shape):
                raise GradvizError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{tuple(ct.shape)} and output[{i}] has a shape of "
                                   f"{tuple(out.shape)}.")
        keep = nested or (is_grad_enabled() and any(ct.requires_grad for ct in ct_leaves))
        with enable_grad():
            grads = _grads(out_leaves, lifted, tuple(ct_leaves), create_graph=keep)
        return _rebuild(grads if keep else [g.detach() for g in grads], builds,
                        tuple(range(len(primals))))

    value = out_build(iter(out_leaves if nested else [o.detach() for o in out_leaves]))
    if has_aux:
        return value, vjp_fn, _detach_tree(aux, nested)
    return value, vjp_fn


def _tangent_leaves(primal_leaves, tangents, primals, api):
    """tangents' leaves, checked against the primals' (same tree, same shapes), as torch."""
    leaves = []
    _flatten(tangents, leaves)
    if _shape_of(tangents) != _shape_of(primals):
        if api == "jvp":
            raise GradvizError("jvp(f, primals, tangents): Expected primals and tangents to "
                               "have the same python structure. For example, if primals is a "
                               "tuple of 3 tensors, tangents also must be.")
        raise GradvizError("Expected the tangents to have the same argspec as the primals")
    _check_leaves(leaves, "a tangent")
    for i, (t, p) in enumerate(zip(leaves, primal_leaves)):
        if tuple(t.shape) != tuple(p.shape):
            raise GradvizError(f"{api}: tangent:{i} with shape {tuple(t.shape)} in flattened "
                               f"pytree doesn't match the shape {tuple(p.shape)} of the "
                               "corresponding primal.")
    return leaves


def _shape_of(tree):
    """A tree's structure without its leaves (to compare primals' and tangents')."""
    if isinstance(tree, dict):
        return ("dict", tuple((k, _shape_of(v)) for k, v in tree.items()))
    if isinstance(tree, (list, tuple)):
        return (type(tree).__name__, tuple(_shape_of(v) for v in tree))
    return "*"


def _forward_by_double_vjp(func, primals, api, has_aux=False):
    """Run func at primals and prepare J·t by the double-vjp trick: u ↦ uᵀJ is linear in the
    cotangents u, so differentiating it w.r.t. u along t gives J t (exact, reverse mode
    twice). Returns (output leaves, rebuilder, lifted primals, cotangents u, uᵀJ, nested,
    aux)."""
    if not isinstance(primals, tuple):
        raise GradvizError(f"{api}(f, primals, tangents): Expected primals to be a tuple. "
                           "E.g. it should be valid to call f(*primals).")
    if api == "jvp" and not primals:
        raise GradvizError("jvp(f, primals, tangents): Expected primals to contain at least "
                           "one Tensor.")
    outer_grad = is_grad_enabled()
    with enable_grad():
        new_args, lifted, builds, nested = _lift_args(primals, tuple(range(len(primals))),
                                                      outer_grad) if primals else \
            ((), (), [], False)
        output, aux = _split_aux(func(*new_args), has_aux, api)
        out_leaves = []
        out_build = _flatten(output, out_leaves)
        for leaf in out_leaves:
            if not isinstance(leaf, Tensor):
                raise GradvizError(f"{api}(f, primals, tangents): expected f(*primals) to "
                                   f"return only tensors, got unsupported type {type(leaf)}")
        # any u works (it does not appear in uᵀJ's graph w.r.t. u); zeros are cheapest
        cotangents = tuple(zeros_like(o, requires_grad=True) for o in out_leaves)
        vjps = _autograd_grad(tuple(out_leaves), lifted, cotangents, create_graph=True)
    return out_leaves, out_build, lifted, cotangents, vjps, nested, aux


def _jvp_out(out_leaves, out_build, cotangents, vjps, tangent_leaves, nested):
    """J t for these tangents, in the outputs' structure (zeros where untouched)."""
    pairs = [(v, t) for v, t in zip(vjps, tangent_leaves) if v is not None and v.requires_grad]
    keep = nested or (is_grad_enabled() and any(t.requires_grad for t in tangent_leaves))
    with enable_grad():
        res = _autograd_grad(tuple(v for v, _ in pairs), cotangents,
                             tuple(t for _, t in pairs), create_graph=keep, retain_graph=True)
    res = [zeros_like(o) if g is None else g if keep else g.detach()
           for g, o in zip(res, out_leaves)]
    return out_build(iter(res))


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J·tangents[, aux]): torch.func.jvp's result, computed in reverse mode
    by the double-vjp trick (exact values; gradviz has no forward-mode AD). ``strict`` is
    accepted, as torch, which has no effect either."""
    out_leaves, out_build, lifted, cotangents, vjps, nested, aux = _forward_by_double_vjp(
        func, primals, "jvp", has_aux)
    t_leaves = _tangent_leaves(lifted, tangents, primals, "jvp")
    jvp_out = _jvp_out(out_leaves, out_build, cotangents, vjps, t_leaves, nested)
    value = out_build(iter(out_leaves if nested else [o.detach() for o in out_leaves]))
    if has_aux:
        return value, jvp_out, _detach_tree(aux, nested)
    return value, jvp_out


def linearize(func, *primals):
    """(func(*primals), jvp_fn): ``jvp_fn(*tangents)`` is J·tangents at primals, from one
    forward pass kept for every call (torch.func.linearize's result, in reverse mode)."""
    out_leaves, out_build, lifted, cotangents, vjps, nested, _ = _forward_by_double_vjp(
        func, primals, "linearize")

    def jvp_fn(*tangents):
        """J·tangents of func at the primals."""
        t_leaves = _tangent_leaves(lifted, tangents, primals, "linearize")
        return _jvp_out(out_leaves, out_build, cotangents, vjps, t_leaves, nested)
    value = out_build(iter(out_leaves if nested else [o.detach() for o in out_leaves]))
    return value, jvp_fn


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function returning the Jacobian of func w.r.t. the argnums inputs, by one reverse
    pass per output element: ``out.shape + in.shape`` per (output, input) pair, nested as the
    outputs, then as the argnums. ``chunk_size`` is accepted and has no effect."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        outer_grad = is_grad_enabled()
        with enable_grad():
            new_args, lifted, builds, nested = _lift_args(args, argnums, outer_grad)
            output, aux = _split_aux(func(*new_args, **kwargs), has_aux, "jacrev")
            out_leaves = []
            out_build = _flatten(output, out_leaves)
            _check_leaves(out_leaves, "an output of func")
            jac = [_jacobian_rows(i, out, lifted, nested, False)
                   for i, out in enumerate(out_leaves)]
        jac = [_rebuild(row if nested else [g.detach() for g in row], builds, argnums)
               for row in jac]
        jac = out_build(iter(jac))
        return (jac, _detach_tree(aux, nested)) if has_aux else jac
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """torch.func.jacfwd's API and result, computed in REVERSE mode here (gradviz has no
    forward-mode AD): the same Jacobian as :func:`jacrev`, one backward pass per output
    element. ``randomness`` is accepted and has no effect."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """A function returning the Hessian of scalar func w.r.t. the argnums inputs (the
    Jacobian of its gradient: ``in.shape + in.shape``), by reverse over reverse."""
    return jacrev(jacrev(func, argnums), argnums)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs (torch.func.vmap): each mapped input is
    taken apart along its ``in_dims`` entry, ``func`` runs once per slice, and each output is
    stacked along its ``out_dims`` entry. The same results as torch's batching transform (a
    loop here, so every slice's ops are their own nodes in the graph); composes with grad,
    jacrev and itself. ``randomness``: "error" (a random draw inside raises, as torch),
    "different" (each slice draws its own) or "same" (each slice draws the same values).
    ``chunk_size`` is accepted (the loop already goes one slice at a time)."""
    if randomness not in ("error", "different", "same"):
        raise ArgumentError(f"Only allowed values for randomness are 'error', 'different', "
                            f"or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ArgumentError(f"vmap: chunk_size should be None or greater than 0. "
                            f"(got {chunk_size})")
    _check_dims_spec(in_dims, "in_dims")
    _check_dims_spec(out_dims, "out_dims")
    name = getattr(func, "__name__", "func")

    @functools.wraps(func)
    def mapped(*args, **kwargs):
        if in_dims is not None and not isinstance(in_dims, (int, tuple)):
            raise ArgumentError(f"vmap({name}, in_dims={in_dims!r}, ...)(<inputs>): expected "
                                "`in_dims` to be int or a (potentially nested) tuple matching "
                                f"the structure of inputs, got: {type(in_dims)}.")
        if isinstance(in_dims, tuple) and len(in_dims) != len(args):
            raise ArgumentError(f"vmap({name}, in_dims={in_dims!r}, ...)(<inputs>): in_dims "
                                f"is not compatible with the structure of `inputs`: expected "
                                f"one entry per positional input ({len(args)})")
        leaves = []
        build = _flatten(tuple(args), leaves)
        dims = []
        _leaf_dims(tuple(args), in_dims if isinstance(in_dims, tuple) else
                   (in_dims,) * len(args), dims, name)
        size = _batch_size(leaves, dims, name)
        outs = _run_slices(func, build, leaves, dims, size, kwargs, randomness, name)
        return _stack_outputs(outs, out_dims, size, name)
    return mapped


def _check_dims_spec(spec, what):
    if spec is None or isinstance(spec, int) and not isinstance(spec, bool):
        return
    if isinstance(spec, (tuple, list, dict)):
        for v in spec.values() if isinstance(spec, dict) else spec:
            _check_dims_spec(v, what)
        return
    raise ArgumentError(f"vmap: {what} must be an int, None or a (nested) tuple of them, got "
                        f"{spec!r}")


def _leaf_dims(tree, spec, dims, name, what="in_dims"):
    """Append the in_dim (or out_dim) of each leaf of ``tree`` (``spec`` an int/None for all
    of them, or a tree of the same structure) to ``dims``, in _flatten's order."""
    if isinstance(tree, dict):
        if isinstance(spec, dict) and set(spec) != set(tree):
            raise ArgumentError(f"vmap({name}, ...): {what} {spec!r} does not match the keys "
                                f"of an input {sorted(tree)}")
        for k, v in tree.items():
            _leaf_dims(v, spec[k] if isinstance(spec, dict) else spec, dims, name, what)
    elif isinstance(tree, (list, tuple)):
        # a list spec matches a list, a tuple spec a tuple (torch's pytree matching)
        if isinstance(spec, (list, tuple)) and (
                len(spec) != len(tree) or isinstance(spec, list) != isinstance(tree, list)):
            raise ArgumentError(f"vmap({name}, ...): {what} {spec!r} does not match the "
                                f"structure of an input of {len(tree)} entries")
        for i, v in enumerate(tree):
            _leaf_dims(v, spec[i] if isinstance(spec, (list, tuple)) else spec, dims, name,
                       what)
    else:
        if isinstance(spec, (list, tuple, dict)):
            raise ArgumentError(f"vmap({name}, ...): {what} {spec!r} is a structure but the "
                                f"input is a {type(tree).__name__}")
        dims.append(spec)


def _batch_size(leaves, dims, name):
    sizes = set()
    for i, (leaf, d) in enumerate(zip(leaves, dims)):
        if d is None:
            continue
        if not isinstance(leaf, Tensor):
            raise ArgumentError(f"vmap({name}, ...): Got in_dim={d} for an input but the "
                                f"input is of type {type(leaf)}. We cannot vmap over "
                                "non-Tensor arguments, please use None as the respective "
                                "in_dim")
        if not -leaf.ndim <= d < max(leaf.ndim, 1) or leaf.ndim == 0:
            raise ArgumentError(f"vmap({name}, ...): Got in_dim={d} for some input, but that "
                                f"input is a Tensor of dimensionality {leaf.ndim} so expected "
                                f"in_dim to satisfy -{leaf.ndim} <= in_dim < {leaf.ndim}.")
        dims[i] = d % leaf.ndim
        sizes.add(leaf.shape[dims[i]])
    if not sizes:
        raise ArgumentError(f"vmap({name}, ...)(<inputs>): at least one input must be a "
                            "Tensor with an in_dim that is not None")
    if len(sizes) > 1:
        raise ArgumentError(f"vmap({name}, ...): Expected all tensors to have the same size "
                            f"in the mapped dimension, got sizes {sorted(sizes)} for the "
                            "mapped dimension")
    size = sizes.pop()
    if size == 0:
        raise ArgumentError(f"vmap({name}, ...): the mapped dimension has size 0: there is "
                            "nothing to map over")
    return size


def _run_slices(func, build, leaves, dims, size, kwargs, randomness, name):
    from .engine import random
    outs = []
    refuse = random.REFUSE[0]
    same = int(random.generator().integers(2 ** 62)) if randomness == "same" else None
    if randomness == "error":
        random.REFUSE[0] = GradvizError(
            f"vmap({name}, ...): called random operation while in randomness error mode. "
            "Please either use the 'same' or 'different' randomness flags on vmap or perform "
            "the randomness operation out of vmap")
    try:
        for i in range(size):
            if same is not None:
                random.manual_seed(same)
            parts = [leaf if d is None else leaf.select(d, i) for leaf, d in zip(leaves, dims)]
            outs.append(func(*build(iter(parts)), **kwargs))
    finally:
        random.REFUSE[0] = refuse
    return outs


def _stack_outputs(outs, out_dims, size, name):
    from .engine.functional import stack
    flat = []
    for out in outs:
        leaves = []
        build = _flatten(out, leaves)
        for leaf in leaves:
            if not isinstance(leaf, Tensor):
                raise ArgumentError(f"vmap({name}, ...): `{name}` must only return Tensors, "
                                   f"got type {type(leaf)}. Did you mean to set out_dims= to "
                                   "None for output?")
        flat.append(leaves)
    dims = []
    if isinstance(outs[0], Tensor) and isinstance(out_dims, tuple) and len(out_dims) == 1:
        out_dims = out_dims[0]   # torch's edge case: (d,) for a single Tensor output
    _leaf_dims(outs[0], out_dims, dims, name, "out_dims")
    result = []
    for j, d in enumerate(dims):
        column = [leaves[j] for leaves in flat]
        if d is None:
            if any(not bool((c == column[0]).all()) for c in column[1:]):
                raise ArgumentError(f"vmap({name}, ...): `{name}` can not return a "
                                    f"BatchedTensor when out_dim is None")
            result.append(column[0])
            continue
        nd = column[0].ndim + 1
        if not -nd <= d < nd:
            raise DimError(f"Dimension out of range (expected to be in range of [{-nd}, "
                           f"{nd - 1}], but got {d})")
        result.append(stack(column, dim=d % nd))
    return build(iter(result))
