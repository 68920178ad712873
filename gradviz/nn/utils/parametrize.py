"""``gv.nn.utils.parametrize``: a parameter computed from others on every access, as
``torch.nn.utils.parametrize``.

``register_parametrization(m, "weight", P())`` moves ``m.weight`` to
``m.parametrizations.weight.original`` and swaps ``m``'s class for a subclass
(``ParametrizedLinear``) whose ``weight`` property returns ``P()(original)``; gradients
of ``m.weight`` therefore reach ``original``. Several parametrizations stack in order.
"""
import contextlib

from ...engine.grad_mode import no_grad
from ...engine.tensor import Tensor
from ...errors import ArgumentError, GradvizError
from ..containers import ModuleDict, ModuleList
from ..module import Module
from ..parameter import Parameter

_cache_enabled = 0
_cache = {}


@contextlib.contextmanager
def cached():
    """Within this context each parametrized tensor is computed once, on first access."""
    global _cache_enabled, _cache
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module, name, x):
    if isinstance(x, Parameter):
        module.register_parameter(name, x)
    else:
        module.register_buffer(name, x)


def _set_data(original, new):
    """``original.set_(new)``: ``original`` keeps its identity and takes ``new``'s values
    (and shape: a right_inverse may change it)."""
    original._data = new.detach()._data.copy()


def _check(what, x, like, unsafe_hint):
    if not isinstance(x, Tensor):
        raise ArgumentError(f"{what} must return a tensor. Got {type(x).__name__}.")
    if x.dtype != like.dtype:
        raise ArgumentError(f"Registering a parametrization may not change the dtype of the "
                            f"tensor{unsafe_hint}.\n{what} dtype: {x.dtype}\n"
                            f"original dtype: {like.dtype}")
    if x.shape != like.shape:
        raise ArgumentError(f"Registering a parametrization may not change the shape of the "
                            f"tensor{unsafe_hint}.\n{what} shape: {tuple(x.shape)}\n"
                            f"original shape: {tuple(like.shape)}")


_UNSAFE = ", unless the `unsafe` flag is enabled"


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order to ``original`` (or to
    ``original0, original1, ...`` when the first right_inverse returns a sequence)."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ArgumentError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape, original_dtype = original.shape, original.dtype
        with no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:  # as torch: keep original as it is
                        pass
        if not isinstance(new, (Tensor, list, tuple)):
            raise ArgumentError("'right_inverse' must return a Tensor or a Sequence of "
                                f"tensors (list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ArgumentError("When `right_inverse` outputs one tensor, it may not "
                                    f"change the dtype.\noriginal.dtype: {original.dtype}\n"
                                    f"right_inverse(original).dtype: {new.dtype}")
            with no_grad():
                _set_data(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, x in enumerate(new):
                if not isinstance(x, Tensor):
                    raise ArgumentError("'right_inverse' must return a Tensor or a Sequence "
                                        f"of tensors. Got element {i} of type "
                                        f"{type(x).__name__}")
                x = x.detach().clone()
                if isinstance(original, Parameter):
                    x = Parameter(x, original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", x)
        if not self.unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ArgumentError(f"A parametrization must return a tensor. Got "
                                    f"{type(z).__name__}.")
            if z.dtype != original_dtype or z.shape != original_shape:
                raise ArgumentError(
                    "Registering a parametrization may not change the shape or dtype of the "
                    f"tensor, unless `unsafe` flag is enabled.\nunparametrized dtype: "
                    f"{original_dtype}\nparametrized dtype: {z.dtype}\nunparametrized "
                    f"shape: {tuple(original_shape)}\nparametrized shape: {tuple(z.shape)}")

    def right_inverse(self, value):
        """Set ``original`` so that the parametrized tensor becomes ``value`` (through each
        parametrization's ``right_inverse``, last first)."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise GradvizError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ArgumentError(f"`right_inverse` should return a tensor. Got "
                                        f"{type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ArgumentError(f"The tensor returned by `right_inverse` has dtype "
                                        f"{value.dtype} while `original` has dtype "
                                        f"{self.original.dtype}")
                _set_data(self.original, value)
            else:
                if not isinstance(value, (list, tuple)) or len(value) != self.ntensors:
                    raise ArgumentError(f"'right_inverse' must return a sequence of "
                                        f"{self.ntensors} tensors.")
                for i, x in enumerate(value):
                    _set_data(getattr(self, f"original{i}"), x)

    def forward(self):
        """The parametrized tensor."""
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _inject_new_class(module):
    """Swap ``module``'s class for ``Parametrized<Class>``, where the properties live."""
    cls = module.__class__
    param_cls = type(f"Parametrized{cls.__name__}", (cls,), {})
    object.__setattr__(module, "__class__", param_cls)


def _inject_property(module, tensor_name):
    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), tensor_name)
        tensor = _cache.get(key)
        if tensor is None:
            tensor = _cache[key] = parametrization()
        return tensor

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has any parametrization (on ``tensor_name`` when given)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` the output of ``parametrization`` applied to the
    stored original (appended to the list when one is already there); returns module."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            _check("A parametrization", x, y, _UNSAFE)
            if hasattr(parametrization, "right_inverse"):
                z = parametrization.right_inverse(x)
                _check("parametrization.right_inverse", z, y, _UNSAFE)
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = plist
    else:
        raise ArgumentError(f"Module '{module}' does not have a parameter, a buffer, or a "
                            f"parametrized element with name '{tensor_name}'")
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo the parametrizations on ``tensor_name``: it becomes a plain parameter (or
    buffer) again, holding the parametrized value (``leave_parametrized``) or the original."""
    if not is_parametrized(module, tensor_name):
        raise ArgumentError(f"Module {module} does not have a parametrization on "
                            f"{tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
                _set_data(original, t)
    else:
        if not leave_parametrized:
            raise ArgumentError("Cannot leave unparametrized (`leave_parametrized=False`) a "
                                "tensor that is parametrized in terms of a sequence of "
                                "tensors.")
        t = getattr(module, tensor_name)
        original = Parameter(t.detach(), t.requires_grad) if t.requires_grad else t.detach()
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        object.__setattr__(module, "__class__", module.__class__.__bases__[0])
    return module


def type_before_parametrizations(module):
    """The module's class as it was before any parametrization was registered."""
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


__all__ = ["cached", "is_parametrized", "register_parametrization", "remove_parametrizations",
           "type_before_parametrizations", "ParametrizationList"]
