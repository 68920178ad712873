"""``gv.autograd.Function``: custom ops written on Tensors, as in torch."""
from ..trace.hooks import HOOKS
from .function import Function as _EngineFunction
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor


class _untraced:
    """The ops inside a custom op's forward/backward are its implementation: no events
    (the custom op itself is the one node), no gate stops, no anomaly checks."""

    def __enter__(self):
        self.prev = HOOKS.on
        HOOKS.on = False

    def __exit__(self, *exc):
        HOOKS.on = self.prev
        return False


def _to_tensor(a):
    return Tensor._wrap(a) if hasattr(a, "shape") and not isinstance(a, Tensor) else a


def _to_array(t):
    return t._data if isinstance(t, Tensor) else t


class Function(_EngineFunction):
    """Subclass with static ``forward(ctx, *inputs)`` and ``backward(ctx, *grad_outputs)``
    working on Tensors; call ``MyOp.apply(x, ...)``. Events name the op after the class."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        user_forward = cls.__dict__.get("forward")
        user_backward = cls.__dict__.get("backward")
        if isinstance(user_forward, staticmethod):
            user_forward = user_forward.__func__
        if isinstance(user_backward, staticmethod):
            user_backward = user_backward.__func__
        if user_forward is not None:
            def forward(ctx, *arrays, **attrs):
                with no_grad(), _untraced():
                    out = user_forward(ctx, *[_to_tensor(a) for a in arrays], **attrs)
                if isinstance(out, (tuple, list)):
                    # a node has one output here; NumPy would silently stack the outputs
                    from ..errors import GradvizError
                    raise GradvizError(f"{cls.__name__}.forward returned {len(out)} outputs; "
                                       "custom Functions with several outputs are not "
                                       "supported: write one Function per output")
                return _to_array(out)
            cls.forward = forward
        if user_backward is not None:
            def backward(ctx, g):
                # the engine passes a Tensor only under create_graph=True: then the user's
                # backward builds a graph (double backward), as torch's does
                differentiable = isinstance(g, Tensor)
                with (enable_grad() if differentiable else no_grad()), _untraced():
                    res = user_backward(ctx, _to_tensor(g))
                if not isinstance(res, tuple):
                    res = (res,)
                return res if differentiable else tuple(_to_array(r) for r in res)
            cls.backward = backward
        if not cls.rule:
            cls.rule = f"custom: {cls.__name__}.backward"

    @property
    def name(ctx):
        """``CubeBackward`` for ``class Cube(Function)``: torch's custom nodes have no number."""
        from .function import NodeName
        return NodeName(type(ctx).__name__ + "Backward")

    def save_for_backward(ctx, *tensors):
        """Keep tensors for backward."""
        ctx.saved = tensors

    def mark_non_differentiable(ctx, *tensors):
        """Accepted for torch compatibility."""
