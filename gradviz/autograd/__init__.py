"""``gv.autograd``: grad, backward, custom Functions, gradcheck, anomaly detection;
``gv.autograd.functional``: jacobian, hessian, vjp, jvp, vhp, hvp."""
import numpy as np

from ..engine.anomaly import detect_anomaly, set_detect_anomaly
from ..engine.custom import Function
from ..engine.grad_mode import enable_grad, no_grad, set_grad_enabled
from ..engine.tensor import Tensor
from ..errors import BackwardError, GradvizError

__all__ = ["grad", "backward", "Function", "gradcheck", "detect_anomaly", "set_detect_anomaly",
           "no_grad", "enable_grad", "set_grad_enabled", "GradcheckError", "functional",
           "graph", "gradgradcheck", "Variable", "inference_mode",
           "forward_ad"]


class GradcheckError(GradvizError):
    """Analytical and numerical gradients disagree."""


def _seq(x):
    if x is None:
        return None
    return [x] if isinstance(x, Tensor) else list(x)


def _seeds(outputs, grad_outputs, create_graph):
    seeds = []
    grad_outputs = _seq(grad_outputs) or [None] * len(outputs)
    for out, g in zip(outputs, grad_outputs):
        if g is None:
            if out._data.size != 1:
                raise BackwardError("grad can be implicitly created only for scalar outputs")
            g = out._ones()
        elif isinstance(g, Tensor):
            g = g if create_graph else g._data
        if create_graph and not isinstance(g, Tensor):
            g = Tensor._wrap(g)
        seeds.append(g)
    return seeds


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False,
         materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs`` (no ``.grad`` is touched).

    ``only_inputs`` is accepted and ignored (deprecated in torch too);
    ``materialize_grads=True`` returns zeros instead of None for unused inputs
    (it implies ``allow_unused``); ``is_grads_batched=True`` is not supported."""
    from ..engine.autograd import run_backward
    if is_grads_batched:
        raise GradvizError("autograd.grad(is_grads_batched=True) is not supported by gradviz; "
                           "loop over the batch of grad_outputs (or use gv.func.vmap)")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    allow_unused = bool(allow_unused) or bool(materialize_grads)
    outputs, inputs = _seq(outputs), _seq(inputs)
    for o in outputs:
        if not o.requires_grad:
            raise BackwardError("element 0 of tensors does not require grad and does not have "
                                "a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = _seeds(outputs, grad_outputs, create_graph)
    grads = run_backward(outputs, seeds, retain_graph, create_graph, inputs=inputs,
                         accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        from ..engine.creation import zeros_like
        grads = tuple(zeros_like(t) if g is None else g for g, t in zip(grads, inputs))
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad``; with ``inputs``,
    only into those tensors' ``.grad`` (running only the graph that leads to them).
    ``grad_variables`` is torch's deprecated name for ``grad_tensors``."""
    from ..engine.autograd import run_backward
    tensors = _seq(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _seq(inputs)
        if not inputs:
            raise BackwardError("'inputs' argument to backward() cannot be empty.")
    run_backward(tensors, _seeds(tensors, grad_tensors, create_graph), retain_graph,
                 create_graph, inputs=inputs, allow_unused=True)


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare backward's gradients with central finite differences (use float64 inputs)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for t in diff:
        if t.dtype.name != "float64":
            raise GradcheckError(f"gradcheck expects float64 inputs; got {t.dtype}")

    def f():
        with no_grad():
            out = func(*inputs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return [o._data.astype(np.float64).ravel().copy() for o in outs]

    out = func(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for oi, o in enumerate(outs):
        n_out = o._data.size
        for t_i, t in enumerate(diff):
            analytic = np.zeros((n_out, t._data.size))
            for k in range(n_out if o.requires_grad else 0):  # no graph: a zero Jacobian
                seed = np.zeros(o._data.size, dtype=o._data.dtype)
                seed[k] = 1
                g, = grad(o, t, grad_outputs=Tensor._wrap(seed.reshape(o._data.shape)),
                          retain_graph=True, allow_unused=True) or (None,)
                if g is not None:
                    analytic[k] = g._data.ravel()
            numeric = np.zeros_like(analytic)
            flat = t._data.reshape(-1)
            for j in range(flat.size):
                old = flat[j]
                flat[j] = old + eps
                plus = f()[oi]
                flat[j] = old - eps
                minus = f()[oi]
                flat[j] = old
                numeric[:, j] = (plus - minus) / (2 * eps)
            if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
                worst = np.unravel_index(np.argmax(np.abs(analytic - numeric)), analytic.shape)
                msg = (f"Jacobian mismatch for output {oi} with respect to input {t_i}: "
                       f"analytical {analytic[worst]:.6g} vs numerical {numeric[worst]:.6g} "
                       f"at {worst}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **_checks):
    """Check second derivatives as torch's: ``gradcheck`` of the function that maps
    (inputs, grad_outputs) to the first-order gradients (taken with create_graph=True).

    ``grad_outputs`` default to random float64 tensors that require grad (so that the
    first-order gradients' dependence on them is checked too); torch's other ``check_*``
    options are accepted and ignored."""
    from ..engine.creation import randn
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    n_in = len(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if grad_outputs is None:
        with enable_grad():
            out = func(*inputs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        grad_outputs = tuple(randn(*o.shape, dtype=o.dtype, requires_grad=True)
                             for o in outs if o.requires_grad)
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else \
            tuple(grad_outputs)

    def first_order(*args):
        xs, gos = args[:n_in], args[n_in:]
        with enable_grad():
            out = func(*xs)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            outs = [o for o in outs if o.requires_grad]
            grads = grad(outs, [xs[i] for i in diff], grad_outputs=list(gos),
                          create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)
    return gradcheck(first_order, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)   # every tensor is a Variable, as in torch


class Variable(metaclass=_VariableMeta):
    """Legacy torch API: ``Variable(t, requires_grad=False)`` is a tensor sharing t's values."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)


from ..engine.grad_mode import inference_mode  # noqa: E402,F401  (torch's alias)
from . import functional  # noqa: E402  (it uses grad, defined above)
from . import forward_ad, graph  # noqa: E402,F401
