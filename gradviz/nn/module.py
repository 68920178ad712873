"""Module: the base of every layer and model (torch.nn.Module's API and key names).

While a tracer listens, ``__call__`` pushes the module's attribute name onto
``HOOKS.module_stack`` so that every op made inside carries its dotted path
(``encoder.fc1``), names the root's parameters (``fc1.weight``), and marks its
frame as ``HOOKS.scope``: ops inside stop their search for the user's ``file:line``
there (``trace.core._user_frame``). With nobody listening the cost is one flag check.

Here: calling, registering and finding parameters, buffers and children, modes and
printing. Module also takes its hook methods from module_hooks.py, its device and dtype
changes (to, cuda, float ...) from module_convert.py and state_dict from state.py.
"""
import itertools
import sys

from ..engine.tensor import Tensor
from ..errors import GradvizError
from ..trace.hooks import HOOKS, MISSING
from .module_convert import ConvertMixin
from .module_hooks import HooksMixin
from .parameter import Buffer, Parameter
from .state import StateDictMixin

_structure = itertools.count(1)   # bumped whenever any module gains a child or parameter
_version = [0]
_getframe = sys._getframe


def _bump():
    _version[0] = next(_structure)


class Module(HooksMixin, ConvertMixin, StateDictMixin):
    """Base class of all layers and models; subclass and define ``forward``."""

    _version_named = 0
    _gv_local = None          # this module's attribute name in its parent, set while listening
    _gv_container = False     # True for ModuleList/ModuleDict: holds modules, never called

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise GradvizError(f"{type(self).__name__}.__init__() got unexpected arguments")
        s = object.__setattr__
        s(self, "training", True)
        s(self, "_parameters", {})
        s(self, "_buffers", {})
        s(self, "_non_persistent_buffers_set", set())
        s(self, "_modules", {})
        s(self, "_forward_hooks", {})
        s(self, "_forward_pre_hooks", {})
        s(self, "_backward_hooks", {})
        s(self, "_backward_pre_hooks", {})
        s(self, "_forward_hooks_with_kwargs", {})
        s(self, "_forward_hooks_always_called", {})
        s(self, "_forward_pre_hooks_with_kwargs", {})

    def forward(self, *args, **kwargs):
        """The computation; subclasses override it and callers use ``module(x)``."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    # ---- calling ----------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if HOOKS.listening:
            return self._call_scoped(args, kwargs)
        if self._forward_hooks or self._forward_pre_hooks or self._any_backward_hooks():
            return self._call_hooked(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_scoped(self, args, kwargs):
        outer = HOOKS.scope
        if outer is None:  # the root: its own name is not part of the paths
            if self._version_named != _version[0]:
                self._name_tree()
            name = None
        else:
            name = self._gv_local
            if name is not None:
                HOOKS.module_stack.append(name)
        # ops inside stop their search for the user's frame at this frame (trace.core)
        HOOKS.scope = [_getframe(), MISSING, outer]
        try:
            if self._forward_hooks or self._forward_pre_hooks or self._any_backward_hooks():
                return self._call_hooked(args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            HOOKS.scope = outer
            if name is not None:
                stack = HOOKS.module_stack
                if stack and stack[-1] == name:
                    stack.pop()

    def _name_tree(self):
        """Give every submodule its local name and unnamed parameters their dotted names.

        A local name is the path from the nearest ancestor that is called: a ModuleList's
        or ModuleDict's children are called by the module holding the container, so theirs
        include the container's name ("layers.0") and op paths match parameter names."""
        modules = dict(self.named_modules())
        for path, m in modules.items():
            if path:
                parts = path.split(".")
                i = len(parts) - 1
                while i > 0 and modules.get(".".join(parts[:i]))._gv_container:
                    i -= 1
                object.__setattr__(m, "_gv_local", ".".join(parts[i:]))
        for name, p in self.named_parameters():
            if p._name is None:
                p._name = name
        object.__setattr__(self, "_version_named", _version[0])

    # ---- registration -------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise GradvizError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise GradvizError(f"cannot assign '{type(value).__name__}' as parameter "
                                   f"'{name}' (gradviz.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if d.get("_modules") is None:
                raise GradvizError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            self._modules[name] = value
            _bump()
        elif d.get("_modules") is not None and name in self._modules:
            if value is not None:
                raise GradvizError(f"cannot assign '{type(value).__name__}' as child module "
                                   f"'{name}' (gradviz.nn.Module or None expected)")
            self._modules[name] = None
        elif isinstance(value, Buffer):
            self._forget(name, keep="_buffers")
            self.register_buffer(name, value, value.persistent)
        elif d.get("_buffers") is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise GradvizError(f"cannot assign '{type(value).__name__}' as buffer "
                                   f"'{name}' (gradviz.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        """Drop ``name`` from the other registries; the one in ``keep`` is about to be
        reassigned and keeps the name's place in it (state_dict order, as torch)."""
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None and key != keep:
                reg.pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            reg = d.get(key)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            reg = self.__dict__.get(key)
            if reg is not None and name in reg:
                del reg[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise GradvizError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise GradvizError(f'{kind} name can\'t be empty or contain ".", got {name!r}')

    def register_parameter(self, name, param):
        """Add a parameter (or None) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise GradvizError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise GradvizError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise GradvizError(f"cannot assign '{type(param).__name__}' object to parameter "
                               f"'{name}' (gradviz.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise GradvizError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                               "parameters must be created explicitly.")
        self._parameters[name] = param
        _bump()

    def register_buffer(self, name, tensor, persistent=True):
        """Add a non-learnable tensor (running stats...), saved in ``state_dict`` when
        persistent."""
        if "_buffers" not in self.__dict__:
            raise GradvizError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise GradvizError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise GradvizError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                               f"'{name}' (gradviz.Tensor or None required)")
        if isinstance(tensor, Buffer):
            tensor = Tensor._wrap(tensor._data)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise GradvizError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise GradvizError(f"attribute '{name}' already exists")
        self._modules[name] = module
        _bump()

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at dotted path ``target`` ('' is self)."""
        mod = self
        for part in target.split(".") if target else []:
            if part not in mod._modules or mod._modules[part] is None:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{part}`")
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target):
        """The parameter at dotted path ``target``."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter `{name}`")
        return mod._parameters[name]

    # ---- iteration ------------------------------------------------------------------
    def _named_members(self, get, prefix="", recurse=True, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for k, v in get(mod):
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (mod_prefix + "." + k if mod_prefix else k), v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs, each parameter once."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                       remove_duplicate)

    def parameters(self, recurse=True):
        """Every parameter of this module (and its submodules), each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, buffer) pairs."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                       remove_duplicate)

    def buffers(self, recurse=True):
        """Every buffer of this module (and its submodules)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self):
        """(name, module) for the direct children."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """The direct child modules."""
        for _, m in self.named_children():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted path, module) for self and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + "." + name if prefix else name,
                                       remove_duplicate)

    def modules(self):
        """Self and every descendant module."""
        for _, m in self.named_modules():
            yield m

    # ---- modes and bulk changes -----------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (Dropout, BatchNorm) here and below; returns self."""
        if not isinstance(mode, bool):
            raise GradvizError("training mode is expected to be boolean")
        object.__setattr__(self, "training", mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        """Set evaluation mode; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording for every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's ``.grad`` (to None by default, as torch)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad = Tensor._wrap(p.grad._data * 0)

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- printing -----------------------------------------------------------------------
    def extra_repr(self):
        """The arguments shown inside this module's repr (subclasses override)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(m), 2))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])
