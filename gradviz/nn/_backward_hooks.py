"""Module.register_full_backward_hook and register_full_backward_pre_hook: grads of a
module's inputs and outputs."""
from ..engine.tensor import Tensor
from ..errors import GradvizError


class BackwardHookState:
    """Collects grad_output and grad_input of one module call and fires its backward hooks.

    Inputs and outputs pass through an identity view whose tensor hook sees the
    gradient; the hooks fire when the last input gradient arrives (a returned
    grad_input replaces the gradients not yet handed on, all of them for a
    single-input module). Backward pre-hooks fire when the last output gradient
    arrives (all of them at once for a single-output module); a returned grad_output
    replaces the gradients not yet handed on.
    """

    def __init__(self, module):
        self.module = module
        self.grad_out = None
        self.grad_in = None
        self.pending = 0
        self.n_out = 0
        self.out_pending = 0

    def wrap_inputs(self, args):
        out = list(args)
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.grad_in = [None] * len(args)
        self.pending = len(idx)
        for i in idx:
            v = args[i].view_as(args[i])
            v.register_hook(self._input_hook(i))
            out[i] = v
        self.n_in = len(args)
        return tuple(out)

    def wrap_outputs(self, out):
        single = isinstance(out, Tensor)
        outs = [out] if single else list(out) if isinstance(out, (tuple, list)) else None
        if outs is None:
            return out
        self.grad_out = [None] * len(outs)
        for i, o in enumerate(outs):
            if isinstance(o, Tensor) and o.requires_grad:
                self.out_pending += 1
                v = o.view_as(o)
                v.register_hook(self._output_hook(i))
                outs[i] = v
        return outs[0] if single else type(out)(outs)

    def _output_hook(self, i):
        def hook(g):
            self.grad_out[i] = g
            self.out_pending -= 1
            new = None
            if self.out_pending == 0:
                new = self._fire_pre(i)
            if self.pending == 0:
                self._fire(None)
            return new
        return hook

    def _fire_pre(self, last):
        pre = self.module.__dict__.get("_backward_pre_hooks")
        if not pre:
            return None
        replaced = None
        for hook in list(pre.values()):
            r = hook(self.module, tuple(self.grad_out))
            if r is not None:
                r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                if len(r) != len(self.grad_out):
                    raise GradvizError("Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(r)}, but expected "
                                       f"{len(self.grad_out)}")
                self.grad_out = list(r)
                replaced = r
        return None if replaced is None else replaced[last]

    def _input_hook(self, i):
        def hook(g):
            self.grad_in[i] = g
            self.pending -= 1
            if self.pending == 0:
                return self._fire(i)
            return None
        return hook

    def _fire(self, last):
        grad_in = tuple(self.grad_in) if self.grad_in else ()
        grad_out = tuple(self.grad_out or ())
        replaced = None
        for hook in list(self.module._backward_hooks.values()):
            r = hook(self.module, grad_in, grad_out)
            if r is not None:
                r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                grad_in = r
                replaced = r
        if replaced is not None and last is not None:
            return replaced[last]
        return None
