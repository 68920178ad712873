"""NumPy's argument names where torch takes them: ``t.sum(axis=1, keepdims=True)``.

torch's argument parser accepts ``axis`` for ``dim`` and ``keepdims`` for ``keepdim`` on its
native functions and Tensor methods (numpy compatibility, ``python_arg_parser.cpp``), so
scripts write ``torch.cumprod(alphas, axis=0)``. gradviz renames them here, once, for every
Tensor method and ``gv.`` function that has a ``dim`` or ``keepdim`` parameter.
"""
import functools
import inspect
import types

ALIASES = {"axis": "dim", "keepdims": "keepdim"}


def accept_numpy_names(fn):
    """Wrap ``fn`` so that ``axis=``/``keepdims=`` reach it as ``dim=``/``keepdim=``."""
    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "axis" in kwargs or "keepdims" in kwargs:
            for numpy_name, torch_name in ALIASES.items():
                if numpy_name in kwargs:
                    if torch_name in kwargs:
                        raise TypeError(f"{name}() got multiple values for argument "
                                        f"'{torch_name}'")
                    kwargs[torch_name] = kwargs.pop(numpy_name)
        return fn(*args, **kwargs)
    wrapper.accepts_numpy_names = True
    return wrapper


def _takes_dim(fn):
    if not isinstance(fn, types.FunctionType) or getattr(fn, "accepts_numpy_names", False):
        return False
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return ("dim" in params or "keepdim" in params) and not set(ALIASES) & set(params)


def wrapped(namespace):
    """The wrapped twins of the functions taking dim in a dict (a class's or a module's)."""
    return {key: accept_numpy_names(fn) for key, fn in list(namespace.items())
            if not key.startswith("__") and _takes_dim(fn)}
