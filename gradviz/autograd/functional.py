"""``gv.autograd.functional``: jacobian, hessian, vjp, jvp, vhp and hvp of a whole function,
as torch.autograd.functional, built on ``gv.autograd.grad`` (so every step is an event).

A single tensor in gives a single tensor out, a tuple gives a tuple (jacobian and hessian
nest one tuple per output, then one per input: ``out.shape + in.shape``). Results require
grad only with ``create_graph=True``. jvp and hvp use the double-vjp trick, as torch does.
"""
from ..engine.creation import zeros_like
from ..engine.functional import stack
from ..engine.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from ..engine.tensor import Tensor
from ..errors import ArgumentError, GradvizError
from . import grad

__all__ = ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"]

_STRATEGIES = ("forward-mode", "reverse-mode")
_STRICT = "This is not allowed in strict mode."
_MISSING = {   # _fill_in_zeros: stage -> what strict mode found missing
    "back": "The output of the user-provided function is independent of input {i}. " + _STRICT,
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. " + _STRICT,
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   + _STRICT,
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}
_NO_GRAD = {   # _check_requires_grad: input_type -> what strict mode found not differentiable
    "outputs": "Output {i} of the user-provided function does not require gradients. The "
               "outputs must be computed in a differentiable manner from the input when "
               "running in strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
                   "user-provided function. " + _STRICT,
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
                "function with respect to input {i} is independent of the input. " + _STRICT
                + " You should ensure that your function is twice differentiable and that the "
                "jacobian depends on the inputs (this would be violated by a linear function "
                "for example).",
}


class FunctionalTypeError(GradvizError, TypeError):
    """An input, output or v that is neither a Tensor nor a tuple of Tensors (a TypeError,
    as torch raises)."""


def _as_tuple(x, arg_name, fn_name):
    """(whether x was a tuple, x as a tuple of Tensors)."""
    is_tuple = isinstance(x, tuple)
    x = x if is_tuple else (x,)
    for i, el in enumerate(x):
        if not isinstance(el, Tensor):
            which = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise FunctionalTypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but the {which} has type {type(el)}.")
    return is_tuple, x


def _unpack(res, is_tuple):
    """Undo _as_tuple on a result; ``is_tuple`` is (outer, inner) for nested results."""
    if isinstance(is_tuple, tuple):
        outer, inner = is_tuple
        res = res if inner else tuple(el[0] for el in res)
        return res if outer else res[0]
    return res if is_tuple else res[0]


def _preprocess(tensors, create_graph, need_graph):
    # create_graph keeps the caller's graph (a view); otherwise a fresh leaf per tensor
    return tuple(t.view_as(t) if create_graph and t.requires_grad
                 else t.detach().requires_grad_(need_graph) for t in tensors)


def _postprocess(res, create_graph):
    if isinstance(res, Tensor):
        return res if create_graph else res.detach()
    return tuple(_postprocess(r, create_graph) for r in res)


def _check_requires_grad(tensors, input_type, strict):
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise GradvizError(_MISSING["back"].format(i=i))
        if not t.requires_grad:
            raise GradvizError(_NO_GRAD[input_type].format(i=i))


def _validate_v(v, other, is_other_tuple):
    if len(v) != len(other):
        if is_other_tuple:
            raise GradvizError(f"v is a tuple of invalid length: should be {len(other)} but "
                               f"got {len(v)}.")
        raise GradvizError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if tuple(el_v.shape) != tuple(el_other.shape):
            where = f"Entry {i} in " if is_other_tuple else ""
            raise GradvizError(f"{where}v has invalid size: should be {tuple(el_other.shape)} "
                               f"but got {tuple(el_v.shape)}.")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """gv.autograd.grad over the outputs that require grad; None for unreached inputs."""
    grad_outputs = grad_outputs or (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
             if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    res = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise GradvizError(_MISSING[stage].format(i=i))
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise GradvizError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


def _setup(fn_name, func, inputs, v, create_graph, strict, v_like_outputs=False):
    """The common start of vjp/jvp/vhp/hvp (call under enable_grad): fresh inputs, outputs
    checked, v checked against the inputs (or, for vjp, the outputs)."""
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _preprocess(inputs, create_graph, need_graph=True)

    def check_v(like, is_like_tuple, what):
        if v is None:
            if len(like) != 1 or like[0].numel() != 1:
                raise GradvizError(f"The vector v can only be None if {what} a single Tensor "
                                   "with a single element.")
            return None
        vs = _preprocess(_as_tuple(v, "v", fn_name)[1], create_graph, need_graph=False)
        _validate_v(vs, like, is_like_tuple)
        return vs

    if not v_like_outputs:
        v = check_v(inputs, is_in_tuple, "the input to the user-provided function is")
    is_out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                      fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    if v_like_outputs:
        v = check_v(outputs, is_out_tuple, "the user-provided function returns")
    return is_in_tuple, inputs, is_out_tuple, outputs, v


def _check_scalar(fn_name, is_out_tuple, outputs):
    if is_out_tuple:
        raise GradvizError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise GradvizError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


def _last_grad(outputs, inputs, v, refs, strict, create_graph, stage):
    """The final (v-weighted) backward, recorded only when create_graph asks for it."""
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        return _fill_in_zeros(res, refs, strict, create_graph, stage)


def _result(outputs, is_out_tuple, res, is_res_tuple, create_graph):
    return (_unpack(_postprocess(outputs, create_graph), is_out_tuple),
            _unpack(_postprocess(res, create_graph), is_res_tuple))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product of func at inputs."""
    with enable_grad():
        is_in_tuple, inputs, is_out_tuple, outputs, v = _setup(
            "vjp", func, inputs, v, create_graph, strict, v_like_outputs=True)
    res = _last_grad(outputs, inputs, v, inputs, strict, create_graph, "back")
    return _result(outputs, is_out_tuple, res, is_in_tuple, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-vjp trick (the vjp is
    linear in its grad_outputs u, so d(u^T J)/du applied to v is J v)."""
    with enable_grad():
        is_in_tuple, inputs, is_out_tuple, outputs, v = _setup(
            "jvp", func, inputs, v, create_graph, strict)
        # any finite u works: it does not appear in the double-backward graph
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    res = _last_grad(grad_inputs, grad_outputs, v, outputs, strict, create_graph, "back_trick")
    return _result(outputs, is_out_tuple, res, is_out_tuple, create_graph)


def _scalar_gradient(fn_name, func, inputs, v, create_graph, strict):
    """The common start of vhp/hvp (call under enable_grad): _setup for a single-element
    output, then its gradient, kept differentiable."""
    is_in_tuple, inputs, is_out_tuple, outputs, v = _setup(
        fn_name, func, inputs, v, create_graph, strict)
    _check_scalar(fn_name, is_out_tuple, outputs)
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return is_in_tuple, inputs, outputs, v, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the vector-Hessian product of a scalar func at inputs."""
    with enable_grad():
        is_in_tuple, inputs, outputs, v, jac = _scalar_gradient(
            "vhp", func, inputs, v, create_graph, strict)
    res = _last_grad(jac, inputs, v, inputs, strict, create_graph, "double_back")
    return _result(outputs, False, res, is_in_tuple, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product of a scalar func, by the double-vjp
    trick on the gradient (equal to vhp for a symmetric Hessian)."""
    with enable_grad():
        is_in_tuple, inputs, outputs, v, jac = _scalar_gradient(
            "hvp", func, inputs, v, create_graph, strict)
        grad_jac = tuple(zeros_like(t, requires_grad=True) for t in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
    res = _last_grad(double_back, grad_jac, v, inputs, strict, create_graph,
                     "double_back_trick")
    return _result(outputs, False, res, is_in_tuple, create_graph)


def _check_strategy(strategy, create_graph, strict, vectorize):
    """torch's refusals; what it accepts is computed in reverse mode here (same values)."""
    if strategy not in _STRATEGIES:
        raise ArgumentError('Expected strategy to be either "forward-mode" or "reverse-mode", '
                            f"got {strategy!r}.")
    if strategy == "forward-mode":
        if create_graph:
            raise GradvizError('jacobian: `create_graph=True` and `strategy="forward-mode"` '
                               "are not supported together. Please either set "
                               '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise GradvizError('jacobian: `strict=True` and `strategy="forward-mode"` are not '
                               "supported together. Please either set `strict=False` or "
                               '`strategy="reverse-mode"`.')
        if not vectorize:
            raise GradvizError("Computing Jacobian using forward-AD or forward-over-reverse "
                               "Hessian is only implemented for `vectorize=True`.")
    elif vectorize and strict:
        raise GradvizError("jacobian: `strict=True` and `vectorized=True` are not supported "
                           "together. Please either set `strict=False` or `vectorize=False`.")


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of func at inputs: one reverse pass per output element, each result of
    shape ``out.shape + in.shape``.

    ``vectorize=True`` and ``strategy="forward-mode"`` are accepted and ignored: the result is
    the same reverse-mode Jacobian (the combinations torch refuses raise GradvizError here).
    """
    _check_strategy(strategy, create_graph, strict, vectorize)
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        is_out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                          "function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        jac = tuple(_jacobian_rows(i, out, inputs, create_graph, strict)
                    for i, out in enumerate(outputs))
    return _unpack(_postprocess(jac, create_graph), (is_out_tuple, is_in_tuple))


def _jacobian_rows(i, out, inputs, create_graph, strict):
    """d out / d inputs, one tensor per input, from one vjp per element of out."""
    rows = [[] for _ in inputs]
    flat = out.reshape(-1)
    for k in range(out.numel()):
        vj = _autograd_grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, (g, inp) in enumerate(zip(vj, inputs)):
            if g is None:
                if strict:
                    raise GradvizError(f"Output {i} of the user-provided function is "
                                       f"independent of input {j}. " + _STRICT)
                g = zeros_like(inp)
            elif strict and create_graph and not g.requires_grad:
                raise GradvizError("The jacobian of the user-provided function is independent "
                                   f"of input {j}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            rows[j].append(g)
    return tuple(stack(r, dim=0).view(tuple(out.shape) + tuple(inp.shape))
                 for r, inp in zip(rows, inputs))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar func at inputs (the jacobian of its gradient), shaped
    ``in_i.shape + in_j.shape``; nested tuples for a tuple of inputs.

    ``vectorize`` and ``outer_jacobian_strategy`` are handled as by :func:`jacobian`.
    """
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_func(*inp):
        is_out_tuple, out = _as_tuple(func(*inp), "outputs of the user-provided function",
                                      "hessian")
        _check_requires_grad(out, "outputs", strict)
        _check_scalar("hessian", is_out_tuple, out)
        return out[0].squeeze()

    def jac_func(*inp):
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (is_in_tuple, is_in_tuple))
