"""Module: the base of every layer and model (torch.nn.Module's API and key names).

While a tracer listens, ``__call__`` pushes the module's attribute name onto
``HOOKS.module_stack`` so that every op made inside carries its dotted path
(``encoder.fc1``), names the root's parameters (``fc1.weight``), and marks its
frame as ``HOOKS.scope``: ops inside stop their search for the user's ``file:line``
there (``trace.core._user_frame``). With nobody listening the cost is one flag check.
"""
import itertools
import sys
import warnings

from ..engine import dtypes, grad_mode
from ..engine.backend import as_device, move
from ..engine.ops.convert import in_memory_format, laid_out
from ..engine.tensor import RemovableHandle, Tensor
from ..errors import GradvizError
from ..trace.hooks import HOOKS, MISSING
from ._backward_hooks import BackwardHookState
from .parameter import Buffer, Parameter
from .state import StateDictMixin

_structure = itertools.count(1)   # bumped whenever any module gains a child or parameter
_version = [0]
_getframe = sys._getframe


def _bump():
    _version[0] = next(_structure)


class Module(StateDictMixin):
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

    def _any_backward_hooks(self):
        return bool(self._backward_hooks or self.__dict__.get("_backward_pre_hooks"))

    def _call_hooked(self, args, kwargs):
        pre_kw = self.__dict__.get("_forward_pre_hooks_with_kwargs", {})
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in pre_kw:
                r = hook(self, args, kwargs)
                if r is not None:
                    if not (isinstance(r, tuple) and len(r) == 2):
                        raise GradvizError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {r}.")
                    args, kwargs = r
            else:
                r = hook(self, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        state = None
        if self._any_backward_hooks() and grad_mode.enabled:
            state = BackwardHookState(self)
            args = state.wrap_inputs(args)
        called = set()
        out = None
        try:
            out = self.forward(*args, **kwargs)
            for hook_id, hook in list(self._forward_hooks.items()):
                called.add(hook_id)
                r = self._run_forward_hook(hook_id, hook, args, kwargs, out)
                if r is not None:
                    out = r
        except Exception:
            self._run_always_called(called, args, kwargs, out)
            raise
        if state is not None:
            out = state.wrap_outputs(out)
        return out

    def _run_forward_hook(self, hook_id, hook, args, kwargs, out):
        if hook_id in self.__dict__.get("_forward_hooks_with_kwargs", {}):
            return hook(self, args, kwargs, out)
        return hook(self, args, out)

    def _run_always_called(self, called, args, kwargs, out):
        """After forward (or a hook) raised: run the ``always_call`` hooks not yet run."""
        always = self.__dict__.get("_forward_hooks_always_called", {})
        for hook_id, hook in list(self._forward_hooks.items()):
            if hook_id in always and hook_id not in called:
                try:
                    r = self._run_forward_hook(hook_id, hook, args, kwargs, out)
                    if r is not None:
                        out = r
                except Exception:   # torch warns and goes on to re-raise the first error
                    warnings.warn("forward hook with ``always_call=True`` raised an exception "
                                  "that was silenced as another error was raised in forward",
                                  stacklevel=3)

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
        """Add a non-learnable tensor (running stats...) saved in ``state_dict`` when persistent."""
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

    def _apply_arrays(self, convert):
        if HOOKS.listening:
            HOOKS.tracer.drain()
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                p._data = convert(p._data)
                if p.grad is not None:
                    p.grad._data = convert(p.grad._data)
            for b in m._buffers.values():
                if b is not None:
                    b._data = convert(b._data)
        return self

    def to(self, *args, device=None, dtype=None, non_blocking=False, memory_format=None):
        """Move parameters and buffers to a device and/or cast floating ones to a dtype; a
        ``memory_format`` (``gv.channels_last``) lays out the 4-D (5-D) ones so."""
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, dtypes.dtype) or a in (float, int, bool):
                dtype = a
            else:
                device = a
        np_dtype = None
        if dtype is not None:
            d = dtypes.to_dtype(dtype)
            if not d.is_floating_point:
                raise GradvizError(f"nn.Module.to only accepts floating point dtypes, "
                                   f"but got desired dtype={d}")
            np_dtype = d.np
        dev = as_device(device) if device is not None else None

        def convert(arr):
            if np_dtype is not None and arr.dtype.kind == "f" and arr.dtype != np_dtype:
                arr = arr.astype(np_dtype)
            if dev is not None:
                arr = move(arr, dev)
            if layout is not None and arr.ndim == layout_rank and not in_memory_format(
                    arr, layout):
                arr = laid_out(arr, layout)
            return arr
        layout = None if memory_format is None else memory_format.name
        layout_rank = {"channels_last": 4, "channels_last_3d": 5}.get(layout)
        return self._apply_arrays(convert)

    def cpu(self):
        """Move everything to the CPU."""
        return self.to("cpu")

    def cuda(self, device=None):
        """Move everything to the GPU (CuPy)."""
        return self.to("cuda" if device is None else f"cuda:{int(device)}")

    def float(self):
        """Cast floating parameters and buffers to float32."""
        return self.to(dtypes.float32)

    def double(self):
        """Cast floating parameters and buffers to float64."""
        return self.to(dtypes.float64)

    def half(self):
        """Cast floating parameters and buffers to float16."""
        return self.to(dtypes.float16)

    def type(self, dst_type):
        """Cast every parameter and buffer (integer ones too, as torch) to ``dst_type``."""
        np_dtype = dtypes.to_dtype(dst_type).np
        return self._apply_arrays(lambda arr: arr if arr.dtype == np_dtype
                                  else arr.astype(np_dtype))

    # ---- hooks ------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before forward; it may return new args.

        ``with_kwargs=True``: ``hook(module, args, kwargs)`` may return ``(args, kwargs)``;
        ``prepend=True``: run it before the hooks already registered."""
        handle = _register(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._hook_flags("_forward_pre_hooks_with_kwargs")[handle.id] = True
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """Call ``hook(module, args, output)`` after forward; it may return a new output.

        ``with_kwargs=True``: ``hook(module, args, kwargs, output)``; ``always_call=True``:
        also run it (with the output so far, None if forward raised) when forward raises;
        ``prepend=True``: run it before the hooks already registered."""
        handle = _register(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._hook_flags("_forward_hooks_with_kwargs")[handle.id] = True
        if always_call:
            self._hook_flags("_forward_hooks_always_called")[handle.id] = True
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the output gradients are known, before
        the input gradients are computed; it may return a new grad_output (a tuple)."""
        return _register(self._hook_flags("_backward_pre_hooks"), hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the input gradients are known;
        it may return new grad_input."""
        return _register(self._backward_hooks, hook, prepend)

    def _hook_flags(self, name):
        d = self.__dict__.get(name)
        if d is None:       # a module built before these registries existed
            d = {}
            object.__setattr__(self, name, d)
        return d

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


def _register(registry, hook, prepend):
    """A handle for ``hook`` in ``registry``; ``prepend`` moves it to the front."""
    handle = RemovableHandle(registry, hook)
    if prepend:
        items = list(registry.items())
        registry.clear()
        registry[handle.id] = hook
        registry.update(items)
    return handle


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])
