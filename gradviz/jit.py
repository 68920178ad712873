"""``gv.jit`` as ``torch.jit`` for scripts that decorate or trace their models: gradviz runs
eagerly so that every op can be watched, so scripting and tracing return what they are given
(the same values and gradients); saving a compiled program has no gradviz form."""
import warnings

from .errors import GradvizError

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "is_scripting",
           "is_tracing", "annotate", "Final", "freeze", "optimize_for_inference",
           "script_if_tracing", "save", "load"]


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """torch.jit.script: ``obj`` itself (a module, function or class), run eagerly; warns as
    torch 2.13 does that TorchScript is deprecated."""
    _deprecated("script")
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """torch.jit.trace: ``func`` itself; ``example_inputs`` are not needed to run it."""
    _deprecated("trace")
    if not callable(func):
        raise TypeError(f"trace(): expected a callable (a Module or a function), got "
                        f"{type(func).__name__}")
    return func


def _deprecated(name):
    warnings.warn(f"`torch.jit.{name}` is deprecated. Please switch to `torch.compile` or "
                  "`torch.export`.", DeprecationWarning, stacklevel=3)


def trace_module(mod, inputs, *args, **kwargs):
    """torch.jit.trace_module: the module itself."""
    return mod


def _identity_decorator(fn=None, **kwargs):
    if fn is None:   # used as @ignore(drop=True)
        return lambda f: f
    return fn


ignore = _identity_decorator
unused = _identity_decorator
export = _identity_decorator
script_if_tracing = _identity_decorator


def is_scripting():
    """Always False: nothing is compiled."""
    return False


def is_tracing():
    """Always False: nothing is traced."""
    return False


def annotate(the_type, the_value):
    """torch.jit.annotate: the value (the type is only a hint for the compiler)."""
    return the_value


class Final:
    """``x: gv.jit.Final[int]`` in a module's class body: only a hint."""

    def __class_getitem__(cls, item):
        return item


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """torch.jit.freeze: the module itself."""
    return mod


def optimize_for_inference(mod, other_methods=None):
    """torch.jit.optimize_for_inference: the module itself."""
    return mod


def save(m, f, _extra_files=None):
    """Refused: a TorchScript archive holds a compiled program; save the state_dict."""
    raise GradvizError("gv.jit.save: gradviz has no compiled programs to save; save the "
                       "weights instead: gv.save(model.state_dict(), path)")


def load(f, map_location=None, _extra_files=None):
    """Refused: TorchScript archives run code on load; gradviz loads weights only."""
    raise GradvizError("gv.jit.load: TorchScript archives are programs, which gradviz does not "
                       "run; load weights with gv.load(path) into a model you build")
