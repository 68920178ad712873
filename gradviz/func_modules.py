"""``gv.func``'s module side: functional_call (a module run with other parameters and
buffers, as torch.func's) and stack_module_state (the parameters and buffers of like modules
stacked, for vmap over models)."""
from .errors import ArgumentError, GradvizError


def _dicts(parameter_and_buffer_dicts):
    """One {name: tensor} dict from a dict or a sequence of dicts with distinct keys."""
    if isinstance(parameter_and_buffer_dicts, dict):
        return dict(parameter_and_buffer_dicts)
    if not isinstance(parameter_and_buffer_dicts, (list, tuple)) or not all(
            isinstance(d, dict) for d in parameter_and_buffer_dicts):
        raise ArgumentError("Expected all elements of parameter_and_buffer_dicts to be "
                            "dictionaries")
    merged = {}
    for d in parameter_and_buffer_dicts:
        repeated = sorted(k for k in d if k in merged)
        if repeated:
            raise ArgumentError(f"{repeated} appeared in multiple dictionaries; behavior of "
                                "functional call is ambiguous")
        merged.update(d)
    return merged


def _with_ties(module, tensors, tie_weights):
    """Give every name of a tied parameter/buffer the tensor given for any of its names."""
    names = {}
    for prefix, mod in module.named_modules(remove_duplicate=False):
        for reg in (mod._parameters, mod._buffers):
            for name, t in reg.items():
                if t is not None:
                    names.setdefault(id(t), []).append(f"{prefix}.{name}" if prefix else name)
    full = dict(tensors)
    if tie_weights:
        for tied in (n for n in names.values() if len(n) > 1):
            given = [n for n in tied if n in tensors]
            if len({id(tensors[n]) for n in given}) > 1:
                raise ArgumentError(f"functional_call got multiple values for keys {given}, "
                                    "which are tied. Consider using tie_weights=False")
            if given:
                full.update((n, tensors[given[0]]) for n in tied)
    return full, {n for tied in names.values() for n in tied}


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the given tensors in place of its parameters and
    buffers (by their dotted names); the originals are put back afterwards, even on error.
    Gradients flow to the given tensors. strict: every parameter and buffer must be given,
    and nothing else."""
    tensors, known = _with_ties(module, _dicts(parameter_and_buffer_dicts), tie_weights)
    if strict:
        missing = sorted(known - set(tensors))
        unexpected = sorted(set(tensors) - known)
        msgs = ([f"Unexpected key(s): {', '.join(map(repr, unexpected))}."] if unexpected
                else []) + ([f"Missing key(s): {', '.join(map(repr, missing))}."] if missing
                            else [])
        if msgs:
            raise GradvizError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(msgs))
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    saved = []   # (registry dict, name, old value or _MISSING): undone in reverse order
    try:
        for name, value in tensors.items():
            owner_name, _, attr = name.rpartition(".")
            owner = module.get_submodule(owner_name) if owner_name else module
            reg = next((r for r in (owner._parameters, owner._buffers) if attr in r),
                       owner.__dict__)   # non-strict extra key: a plain attribute, as torch
            saved.append((reg, attr, reg.get(attr, _MISSING)))
            reg[attr] = value
        return module(*args, **(kwargs or {}))
    finally:
        for reg, attr, old in reversed(saved):
            if old is _MISSING:
                del reg[attr]
            else:
                reg[attr] = old


_MISSING = object()


def stack_module_state(models):
    """(params, buffers) of same-class ``models``, each name's tensors stacked along a new
    dim 0 (for ``vmap`` over ``functional_call``); stacked parameters are new leaves that
    require grad, as torch's."""
    from .engine.functional import stack
    models = list(models)
    if not models:
        raise GradvizError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) > 1:
        raise GradvizError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise GradvizError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named):
        per_model = [dict(named(m)) for m in models]
        out = {}
        for name in per_model[0]:
            tensors = [d[name] for d in per_model]
            needs = {t.requires_grad for t in tensors}
            if len(needs) > 1:
                raise GradvizError(f"Expected {name} from each model to have the same "
                                   ".requires_grad")
            t = stack(tensors)
            out[name] = t.detach().requires_grad_() if needs == {True} else t
        return out
    return (stacked(lambda m: m.named_parameters()), stacked(lambda m: m.named_buffers()))
