"""gv.autograd.graph (saved-tensor hooks, grad_fn hooks), gradgradcheck, Variable, and
torch.func gaps, each against torch (float64 values and gradients)."""
import contextlib

import numpy as np
import pytest
import torch

import gradviz as gv
from gradviz.autograd import graph

# torch.func.jvp's first call scripts a helper with torch.jit (torch's own notice)
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def pair(values, requires_grad=True):
    """The same float64 values as a gv and a torch tensor."""
    arr = np.asarray(values, dtype=np.float64)
    return (gv.tensor(arr, requires_grad=requires_grad),
            torch.tensor(arr, requires_grad=requires_grad))


X = [[0.5, -1.25, 2.0], [1.5, 0.25, -0.75]]
Y = [[1.0, 2.0, -0.5], [0.3, -1.1, 0.7]]


def close(g, t):
    np.testing.assert_allclose(np.asarray(g.detach().numpy()), t.detach().numpy(),
                               rtol=1e-10, atol=1e-12)


# ---- saved_tensors_hooks --------------------------------------------------------------------
EXPRS = {
    "mul": lambda m, a, b: (a * b).sum(),
    "exp_of_mul": lambda m, a, b: (a * a).exp().sum(),
    "relu": lambda m, a, b: m.relu(a).sum(),
    "tanh_div": lambda m, a, b: (a.tanh() / (b * b + 1)).sum(),
}


@pytest.mark.parametrize("name", sorted(EXPRS))
def test_saved_tensors_hooks_calls_like_torch(name):
    """pack once per saved tensor (the input itself where it is one), unpack in backward."""
    (ga, ta), (gb, tb) = pair(X), pair(Y)
    results = []
    for mod, a, b in ((gv, ga, gb), (torch, ta, tb)):
        calls = []

        def pack(x, a=a, b=b, calls=calls, mod=mod):
            calls.append(("pack", x is a, x is b, mod.is_grad_enabled()))
            return x

        def unpack(x, calls=calls, mod=mod):
            calls.append(("unpack", mod.is_grad_enabled()))
            return x
        hooks = graph if mod is gv else torch.autograd.graph
        with hooks.saved_tensors_hooks(pack, unpack):
            y = EXPRS[name](mod, a, b)
        y.backward()
        results.append((calls, a.grad, b.grad))
    (gc, ga, gb), (tc, ta, tb) = results
    assert sorted(gc) == sorted(tc)
    close(ga, ta)
    assert (gb is None) == (tb is None)
    if gb is not None:
        close(gb, tb)


def test_saved_tensors_hooks_transformed_values_change_the_gradient_like_torch():
    """What unpack returns is what backward uses (torch's docs: pack x*4, unpack x/2)."""
    grads = []
    for mod, hooks in ((gv, graph), (torch, torch.autograd.graph)):
        a = (gv if mod is gv else torch).tensor(X, dtype=mod.float64, requires_grad=True)
        with hooks.saved_tensors_hooks(lambda x: x * 4, lambda x: x / 2):
            y = (a * a).sum()
        y.backward()
        grads.append(a.grad)
    close(*grads)
    np.testing.assert_allclose(grads[0].numpy(), 4 * np.asarray(X))


def test_saved_tensors_hooks_nest_and_pop_like_torch():
    log = []
    a = gv.tensor(X, dtype=gv.float64, requires_grad=True)
    with graph.saved_tensors_hooks(lambda x: log.append("outer") or x, lambda x: x):
        with graph.saved_tensors_hooks(lambda x: log.append("inner") or x, lambda x: x):
            y = a.exp()
        z = a.sin()
    w = a.cos()   # after both blocks: nothing packed
    (y.sum() + z.sum() + w.sum()).backward()
    assert log == ["inner", "outer"]
    close(a.grad, torch.tensor(np.exp(X) + np.cos(X) - np.sin(X)))
    assert not gv.engine.function.SAVED_HOOKS


def test_saved_tensors_hooks_unpack_each_backward_with_retain_graph():
    n = []
    a = gv.tensor(X, dtype=gv.float64, requires_grad=True)
    with graph.saved_tensors_hooks(lambda x: x, lambda x: n.append(1) or x):
        y = (a * a).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert len(n) == 4
    close(a.grad, torch.tensor(4 * np.asarray(X)))


def test_saved_tensors_hooks_double_backward():
    """Hooks that hand back the tensor itself keep second derivatives exact."""
    ga, ta = pair(X)
    outs = []
    for a, mod, hooks in ((ga, gv, graph), (ta, torch, torch.autograd.graph)):
        with hooks.saved_tensors_hooks(lambda x: x, lambda x: x):
            y = (a * a * a).sum()
            g, = mod.autograd.grad(y, a, create_graph=True)
            h, = mod.autograd.grad(g.sum(), a)
        outs.append((g, h))
    close(outs[0][0], outs[1][0])
    close(outs[0][1], outs[1][1])


def test_saved_tensors_hooks_pack_values_are_in_the_graph_node():
    """Ops whose fast paths skip save_for_backward (Linear, Relu) are packed too."""
    n = []
    lin = gv.nn.Linear(3, 2).double()
    x = gv.tensor(X, dtype=gv.float64, requires_grad=True)
    with graph.saved_tensors_hooks(lambda x: n.append(1) or x, lambda x: x):
        y = lin(x).relu().sum()
    assert len(n) >= 3
    y.backward()
    assert x.grad is not None


@pytest.mark.parametrize("case", ["output", "input"])
def test_saved_tensors_hooks_see_in_place_changes_like_torch(case):
    """Hooks that hand back the tensor itself: backward reads its values as they are then
    (torch checks no version through hooks, so no error either)."""
    grads = []
    for mod, hooks in ((gv, graph), (torch, torch.autograd.graph)):
        a = mod.tensor([0.5, 1.0, -2.0], dtype=mod.float64, requires_grad=True)
        x = a * 1
        with hooks.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = x.exp() if case == "output" else x * x
        (y if case == "output" else x).mul_(2)
        y.sum().backward()
        grads.append(a.grad)
    close(*grads)


def test_saved_tensors_hooks_on_custom_function_like_torch():
    results = []
    for mod, hooks in ((gv, graph), (torch, torch.autograd.graph)):
        class Cube(mod.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 3 * g * x * x
        calls = []
        a = mod.tensor([0.5, 1.0, -2.0], dtype=mod.float64, requires_grad=True)
        with hooks.saved_tensors_hooks(lambda t: calls.append("pack") or t * 2,
                                       lambda t: calls.append("unpack") or t):
            y = Cube.apply(a).sum()
        y.backward()
        results.append((calls, a.grad))
    assert results[0][0] == results[1][0] == ["pack", "unpack"]
    close(results[0][1], results[1][1])


def _custom_ops(mod):
    """Two custom Functions: one saves its inputs (and takes a float), one its output."""
    class MulPow(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.save_for_backward(x, y)
            ctx.k = k
            return x ** k * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * ctx.k * x ** (ctx.k - 1) * y, g * x ** ctx.k, None

    class Exp(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, g):
            out, = ctx.saved_tensors
            return g * out
    return MulPow, Exp


@pytest.mark.parametrize("hooked", [False, True])
def test_custom_function_double_backward_like_torch(hooked):
    """create_graph=True through a custom Function differentiates its backward (torch's
    behaviour); it raised a TypeError-like BackwardError before."""
    results = []
    for mod, hooks in ((gv, graph), (torch, torch.autograd.graph)):
        MulPow, Exp = _custom_ops(mod)
        a = mod.tensor(X[0], dtype=mod.float64, requires_grad=True)
        b = mod.tensor(Y[0], dtype=mod.float64, requires_grad=True)
        with (hooks.saved_tensors_hooks(lambda t: t, lambda t: t) if hooked
              else contextlib.nullcontext()):
            out = (MulPow.apply(a, b, 3.0) + Exp.apply(a * b)).sum()
        ga, gb = mod.autograd.grad(out, (a, b), create_graph=True)
        ((ga * ga).sum() + (ga * gb).sum()).backward()
        results.append((ga, gb, a.grad, b.grad))
    for g, t in zip(*results):
        close(g, t)


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled:UserWarning")
def test_saved_tensors_hooks_survive_a_nested_anomaly_block_like_torch():
    """Leaving detect_anomaly (or any switch that re-reads the trace flags) inside a
    saved_tensors_hooks block kept packing off for the rest of the block before."""
    calls = []
    for mod, hooks in ((gv, graph), (torch, torch.autograd.graph)):
        log = []
        a = mod.tensor(X[0], dtype=mod.float64, requires_grad=True)
        with hooks.saved_tensors_hooks(lambda t: log.append("pack") or t, lambda t: t):
            with mod.autograd.detect_anomaly(check_nan=False):
                b = a * a
            c = (b * a).sum()
        c.backward()
        calls.append(len(log))
    assert calls[0] == calls[1] == 4


def test_save_on_cpu_is_a_no_op_move_on_cpu():
    ga, ta = pair(X)
    gb, tb = pair(Y)
    with graph.save_on_cpu():
        gy = (ga.sin() * gb).sum()
    with torch.autograd.graph.save_on_cpu():
        ty = (ta.sin() * tb).sum()
    gy.backward()
    ty.backward()
    close(ga.grad, ta.grad)
    close(gb.grad, tb.grad)


def test_disable_saved_tensors_hooks_raises_torch_message():
    msg = "saved tensors hooks are off here"
    with torch.autograd.graph.disable_saved_tensors_hooks(msg):
        with pytest.raises(RuntimeError, match=msg):
            with torch.autograd.graph.saved_tensors_hooks(lambda x: x, lambda x: x):
                pass
    with graph.disable_saved_tensors_hooks(msg):
        with pytest.raises(RuntimeError, match=msg):
            with graph.saved_tensors_hooks(lambda x: x, lambda x: x):
                pass
    with graph.saved_tensors_hooks(lambda x: x, lambda x: x):   # fine again after it
        pass
    for hooks in (graph, torch.autograd.graph):   # nested: the innermost message
        with hooks.disable_saved_tensors_hooks("outer"):
            with hooks.disable_saved_tensors_hooks("inner"):
                with pytest.raises(RuntimeError, match="inner"):
                    with hooks.saved_tensors_hooks(lambda x: x, lambda x: x):
                        pass
            with pytest.raises(RuntimeError, match="outer"):
                with hooks.saved_tensors_hooks(lambda x: x, lambda x: x):
                    pass
        with hooks.saved_tensors_hooks(lambda x: x, lambda x: x):   # and inside hooks
            with pytest.raises(RuntimeError, match="off"):
                with hooks.disable_saved_tensors_hooks("off"):
                    pass


def test_unpack_hook_must_return_a_tensor():
    a = gv.tensor(X, dtype=gv.float64, requires_grad=True)
    with graph.saved_tensors_hooks(lambda x: x, lambda x: 3):
        y = (a * a).sum()
    with pytest.raises(gv.errors.GradvizError, match="unpack_hook must return a Tensor"):
        y.backward()


# ---- grad_fn hooks, name(), Node ------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
def test_node_hooks_like_torch(create_graph):
    results = []
    for mod in (gv, torch):
        a = mod.ones(3, dtype=mod.float64, requires_grad=True)
        b = mod.full((3,), 2.0, dtype=mod.float64)
        y = a * b
        seen = []

        def post(gi, go, seen=seen):
            seen.append(("post", gi[1] is None, go[0].tolist(), gi[0].tolist()))
            return (gi[0] * 10, None)

        def pre(go, seen=seen):
            seen.append(("pre", go[0].tolist()))
            return (go[0] * 2,)
        y.grad_fn.register_hook(post)
        y.grad_fn.register_prehook(pre)
        if create_graph:
            g, = mod.autograd.grad(y.sum(), a, create_graph=True)
        else:
            y.sum().backward()
            g = a.grad
        results.append((seen, g))
    assert results[0][0] == results[1][0]
    close(results[0][1], results[1][1])


def test_node_hook_handles_remove():
    a = gv.ones(3, dtype=gv.float64, requires_grad=True)
    y = a * 3.0
    h1 = y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, None))
    h2 = y.grad_fn.register_prehook(lambda go: (go[0] * 5,))
    h1.remove()
    h2.remove()
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 3.0, 3.0])


def test_grad_fn_name_next_functions_and_node():
    a = gv.ones(3, dtype=gv.float64, requires_grad=True)
    y = (a * 2).exp().sum()
    assert y.grad_fn.name() == "SumBackward0" and y.grad_fn.name == "SumBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "ExpBackward0"
    assert isinstance(y.grad_fn, graph.Node)
    assert not isinstance(a, graph.Node)
    t = torch.ones(3, requires_grad=True)
    assert isinstance((t * 2).grad_fn, torch.autograd.graph.Node)


# ---- gradgradcheck, Variable, inference_mode ------------------------------------------------
GG_FUNCS = {
    "sin_cube": lambda m, x, y: (x ** 3).sin(),
    "exp_mul_sum": lambda m, x, y: (x * y).exp().sum(),
    "two_outputs": lambda m, x, y: (x.tanh() * y, (x / (y * y + 1)).sum()),
}


@pytest.mark.parametrize("name", sorted(GG_FUNCS))
def test_gradgradcheck_passes_like_torch(name):
    (gx, tx), (gy, ty) = pair([0.5, 1.2, -0.3]), pair([0.7, -0.4, 1.1])
    f = GG_FUNCS[name]
    assert torch.autograd.gradgradcheck(lambda x, y: f(torch, x, y), (tx, ty))
    assert gv.autograd.gradgradcheck(lambda x, y: f(gv, x, y), (gx, gy))
    go = gv.tensor([1.0, -2.0, 0.5], dtype=gv.float64, requires_grad=True)
    if name == "sin_cube":   # explicit grad_outputs
        assert gv.autograd.gradgradcheck(lambda x: f(gv, x, None), (gx,), (go,))


def test_gradgradcheck_catches_a_wrong_second_derivative_like_torch():
    """A node hook that detaches the first-order gradient: right first, wrong second."""
    def f(x):
        y = x.exp()
        if y.grad_fn is not None:   # not under the finite differences' no_grad
            y.grad_fn.register_hook(lambda gi, go: gi[0] is not None and (gi[0].detach(),)
                                    or None)
        return y
    tx, gx = pair([0.5, 1.2, -0.3])[1], pair([0.5, 1.2, -0.3])[0]
    assert torch.autograd.gradcheck(f, (tx,)) and gv.autograd.gradcheck(f, (gx,))
    assert not torch.autograd.gradgradcheck(f, (tx,), raise_exception=False)
    assert not gv.autograd.gradgradcheck(f, (gx,), raise_exception=False)
    with pytest.raises(gv.autograd.GradcheckError):
        gv.autograd.gradgradcheck(f, (gx,))


def test_variable_is_a_legacy_tensor_constructor_like_torch():
    for mod in (gv, torch):
        t = mod.ones(2, dtype=mod.float64)
        v = mod.autograd.Variable(t, requires_grad=True)
        assert v is not t and v.requires_grad and not t.requires_grad and v.is_leaf
        assert isinstance(t, mod.autograd.Variable)
        assert not mod.autograd.Variable(t).requires_grad
        v.data[0] = 5.0 if mod is torch else 5.0
        assert t[0].item() == 5.0   # shares t's values
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
            mod.autograd.Variable([1.0])
    assert not isinstance([1.0], gv.autograd.Variable)


def test_autograd_inference_mode_alias():
    assert gv.autograd.inference_mode is gv.inference_mode
    a = gv.ones(2, requires_grad=True)
    with gv.autograd.inference_mode():
        assert not (a * 2).requires_grad


# ---- torch.func: jvp, linearize, stack_module_state ----------------------------------------
JVP_FUNCS = {
    "sin": (lambda m, a, b: a.sin(), 1),
    "two_args_tree": (lambda m, a, b: (a * b, {"k": a.exp() / (b * b + 1)}), 2),
    "identity": (lambda m, a, b: a, 1),
    "const_out": (lambda m, a, b: m.ones(3, dtype=m.float64), 1),
    "matmul_sum": (lambda m, a, b: (m.outer(a, b) @ b).sum(), 2),
}


@pytest.mark.parametrize("name", sorted(JVP_FUNCS))
def test_func_jvp_like_torch(name):
    f, n = JVP_FUNCS[name]
    (ga, ta), (gb, tb) = pair([0.3, 1.2, -0.5], False), pair([0.7, -0.4, 1.1], False)
    (gu, tu), (gw, tw) = pair([1.0, 2.0, 3.0], False), pair([-1.0, 0.5, 0.25], False)
    g_out, g_jvp = gv.func.jvp(lambda *xs: f(gv, *xs, *(gb,) * (2 - n)),
                               (ga, gb)[:n], (gu, gw)[:n])
    t_out, t_jvp = torch.func.jvp(lambda *xs: f(torch, *xs, *(tb,) * (2 - n)),
                                  (ta, tb)[:n], (tu, tw)[:n])
    g_leaves, t_leaves = [], []
    gv.func._flatten((g_out, g_jvp), g_leaves)
    gv.func._flatten((t_out, t_jvp), t_leaves)
    assert len(g_leaves) == len(t_leaves)
    for g, t in zip(g_leaves, t_leaves):
        assert not g.requires_grad
        close(g, t)


def test_func_jvp_has_aux_and_nests_in_grad_like_torch():
    (ga, ta), (gu, tu) = pair([0.3, 1.2, -0.5], False), pair([1.0, 2.0, 3.0], False)
    _, g_jvp, g_aux = gv.func.jvp(lambda a: (a.tanh(), a * 2), (ga,), (gu,), has_aux=True)
    _, t_jvp, t_aux = torch.func.jvp(lambda a: (a.tanh(), a * 2), (ta,), (tu,), has_aux=True)
    close(g_jvp, t_jvp)
    close(g_aux, t_aux)

    def g_f(a):   # d/da of sum(J(a) u): a second derivative through jvp
        return gv.func.jvp(lambda x: x.sin() * x, (a,), (gu,))[1].sum()

    def t_f(a):
        return torch.func.jvp(lambda x: x.sin() * x, (a,), (tu,))[1].sum()
    close(gv.func.grad(g_f)(ga), torch.func.grad(t_f)(ta))


def test_func_jvp_errors_like_torch():
    x = gv.ones(3, dtype=gv.float64)
    tx = torch.ones(3, dtype=torch.float64)
    cases = [(([x], [x]), ([tx], [tx]), "Expected primals to be a tuple"),
             (((x,), x), ((tx,), tx), "Expected primals and tangents to have the same python"),
             (((x,), (x, x)), ((tx,), (tx, tx)), "same python structure")]
    for g_args, t_args, msg in cases:
        with pytest.raises(RuntimeError, match=msg):
            torch.func.jvp(torch.sin, *t_args)
        with pytest.raises(RuntimeError, match=msg):
            gv.func.jvp(gv.sin, *g_args)
    with pytest.raises(RuntimeError, match="tangent:0 with shape"):
        gv.func.jvp(gv.sin, (x,), (x[:2],))
    with pytest.raises(RuntimeError, match="expected f\\(\\*primals\\) to return only tensors"):
        gv.func.jvp(lambda a: 3, (x,), (x,))


def test_func_linearize_matches_torch_jvp():
    """linearize's jvp_fn, called several times, gives torch.func.jvp's values (torch's own
    linearize is not called: it warns from torch.fx)."""
    (ga, ta) = pair([0.3, 1.2, -0.5], False)

    def f(m, a):
        return a.sin() * a, a.exp().sum()
    g_out, jvp_fn = gv.func.linearize(lambda a: f(gv, a), ga)
    for u in ([1.0, 2.0, 3.0], [0.0, -1.0, 0.5]):
        t_out, t_jvp = torch.func.jvp(lambda a: f(torch, a), (ta,), (torch.tensor(u),))
        g_jvp = jvp_fn(gv.tensor(u, dtype=gv.float64))
        for g, t in zip(g_out + g_jvp, t_out + t_jvp):
            close(g, t)
    with pytest.raises(RuntimeError, match="tangent:0 with shape"):
        jvp_fn(gv.ones(2, dtype=gv.float64))
    with pytest.raises(RuntimeError, match="same argspec"):
        jvp_fn(ga, ga)


def test_stack_module_state_and_vmap_functional_call_like_torch():
    gv.manual_seed(0)
    g_models = [gv.nn.Sequential(gv.nn.Linear(3, 4), gv.nn.BatchNorm1d(4)).double()
                for _ in range(3)]
    t_models = []
    for gm in g_models:
        tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).double()
        tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in gm.state_dict().items()})
        t_models.append(tm.eval())
        gm.eval()
    gp, gbuf = gv.func.stack_module_state(g_models)
    tp, tbuf = torch.func.stack_module_state(t_models)
    assert list(gp) == list(tp) and list(gbuf) == list(tbuf)
    for k in tp:
        assert gp[k].is_leaf and gp[k].requires_grad
        close(gp[k], tp[k])
    for k in tbuf:
        assert not gbuf[k].requires_grad
        close(gbuf[k], tbuf[k])
    gx, tx = pair(np.linspace(-1, 1, 6).reshape(2, 3), False)
    g_out = gv.func.vmap(lambda p, b, x: gv.func.functional_call(g_models[0], (p, b), (x,)),
                         (0, 0, None))(gp, gbuf, gx)
    t_out = torch.func.vmap(lambda p, b, x: torch.func.functional_call(t_models[0], (p, b),
                                                                        (x,)),
                            (0, 0, None))(tp, tbuf, tx)
    close(g_out, t_out)
    g_out.sum().backward()
    t_out.sum().backward()
    for k in tp:
        close(gp[k].grad, tp[k].grad)


def test_stack_module_state_errors_like_torch():
    for mod in (gv, torch):
        with pytest.raises(RuntimeError, match="Expected at least one model, got 0"):
            mod.func.stack_module_state([])
        with pytest.raises(RuntimeError, match="same training/eval mode"):
            mod.func.stack_module_state([mod.nn.Linear(2, 2), mod.nn.Linear(2, 2).eval()])
        with pytest.raises(RuntimeError, match="same class"):
            mod.func.stack_module_state([mod.nn.Linear(2, 2), mod.nn.ReLU()])
        a, b = mod.nn.Linear(2, 2), mod.nn.Linear(2, 2)
        b.bias.requires_grad_(False)
        with pytest.raises(RuntimeError, match="Expected bias from each model to have the same"):
            mod.func.stack_module_state([a, b])


# ---- nn.utils: stateless, skip_init, clip_grad ----------------------------------------------
def test_stateless_functional_call_warns_and_calls_like_torch():
    gm, tm = gv.nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
    (gw, tw), (gx, tx) = pair(np.arange(6.0).reshape(2, 3) / 7), pair([[0.5, -1.0, 2.0]], False)
    (gb, tb) = pair([0.1, -0.2])
    outs = []
    for mod, m, w, b, x in ((gv, gm, gw, gb, gx), (torch, tm, tw, tb, tx)):
        with pytest.warns(FutureWarning, match="stateless.functional_call` is deprecated"):
            y = mod.nn.utils.stateless.functional_call(m, {"weight": w, "bias": b}, (x,))
        y.sum().backward()
        outs.append((y, w.grad, b.grad))
    for g, t in zip(*outs):
        close(g, t)


def test_skip_init_like_torch():
    for mod in (gv, torch):
        m = mod.nn.utils.skip_init(mod.nn.Linear, 3, out_features=2, dtype=mod.float64)
        assert isinstance(m, mod.nn.Linear) and tuple(m.weight.shape) == (2, 3)
        assert m.weight.dtype == mod.float64 and m.weight.requires_grad
        with pytest.raises(RuntimeError, match="Module must support a 'device' arg"):
            mod.nn.utils.skip_init(mod.nn.ReLU)
        with pytest.raises(RuntimeError, match="Expected a Module"):
            mod.nn.utils.skip_init(dict)


def test_clip_grad_module_like_torch():
    grads = []
    for mod in (gv, torch):
        ps = [mod.tensor([3.0, 4.0], dtype=mod.float64, requires_grad=True),
              mod.tensor([[1.0, -12.0]], dtype=mod.float64, requires_grad=True)]
        (ps[0] * ps[0]).sum().backward()
        (ps[1] * 2).sum().backward()
        n = mod.nn.utils.clip_grad.clip_grad_norm_(ps, 1.5)
        mod.nn.utils.clip_grad.clip_grad_value_(ps, 0.5)
        with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
            mod.nn.utils.clip_grad.clip_grad_norm(ps, 0.1)
        grads.append([n] + [p.grad for p in ps])
    for g, t in zip(*grads):
        close(g, t)


# ---- forward_ad (dual tensors, computed in reverse mode) ------------------------------------
FWD_FUNCS = {
    "sin_square": lambda m, a, b: (a * a).sin(),
    "two_duals": lambda m, a, b: a.exp() * b + (a / (b * b + 1)).sum(),
    "matmul": lambda m, a, b: m.outer(a, b) @ a,
    "constant": lambda m, a, b: a * 0 + 5,
}


@pytest.mark.parametrize("name", sorted(FWD_FUNCS))
def test_forward_ad_dual_tangents_like_torch(name):
    out = []
    for mod in (gv, torch):
        fw = mod.autograd.forward_ad
        a = mod.tensor([0.3, 1.2, -0.5], dtype=mod.float64)
        b = mod.tensor([0.7, -0.4, 1.1], dtype=mod.float64)
        with fw.dual_level():
            da = fw.make_dual(a, mod.tensor([1.0, 2.0, 3.0], dtype=mod.float64))
            db = fw.make_dual(b, mod.tensor([-1.0, 0.5, 0.25], dtype=mod.float64))
            y = FWD_FUNCS[name](mod, da, db)
            unpacked = fw.unpack_dual(y)
            assert unpacked._fields == ("primal", "tangent")
            assert fw.unpack_dual(a).tangent is None
            assert fw.unpack_dual(da).tangent.tolist() == [1.0, 2.0, 3.0]
        assert fw.unpack_dual(y).tangent is None   # the level is gone
        out.append(unpacked)
    (gp, gt), (tp, tt) = out
    assert not gp.requires_grad
    close(gp, tp)
    close(gt, tt)


def test_forward_ad_errors_like_torch():
    for mod in (gv, torch):
        fw = mod.autograd.forward_ad
        x = mod.ones(3, dtype=mod.float64)
        with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual"):
            fw.make_dual(x, x)
        with fw.dual_level():
            with pytest.raises(RuntimeError, match="Tensor is of size \\[3\\] while the given "
                                                   "forward gradient is of size \\[2\\]"):
                fw.make_dual(x, x[:2])


def test_node_names_and_tensor_repr_match_torch_for_common_ops():
    """grad_fn names as torch prints them: ``MulBackward0`` for built-in ops (the ops whose
    torch node has the same name and overload number), ``CubeBackward`` for a custom one."""
    exprs = ["a * b", "a + b", "a - b", "a / b", "-a", "a.exp()", "a.tanh()", "a.sigmoid()",
             "a.relu()", "a.sum()", "a.mean()", "a.pow(2)", "a.abs()"]
    for e in exprs:
        names = []
        for lib in (gv, torch):
            a, b = (lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in (X, Y))
            out = eval(e)
            names.append((out.grad_fn.name(), repr(out).split("grad_fn=")[1]))
        assert names[0] == names[1], e
    seen = []
    for lib in (gv, torch):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                return g
        seen.append(Cube.apply(lib.tensor([1.0], requires_grad=True)).grad_fn.name())
    assert seen == ["CubeBackward", "CubeBackward"]


def _none_backward(lib):
    class Double(lib.autograd.Function):   # a custom op that sends no gradient back
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return None
    return Double


STRANDED = {   # a leaf reached by several edges, one of which carries no gradient
    "none_edge": lambda lib, F, x: (x * x * 3 + F.apply(x)).sum(),
    "node_without_grad": lambda lib, F, x: (F.apply(x) * 2 + x.exp()).sum(),
    "none_through_a_chain": lambda lib, F, x: (F.apply(x).sin() + x * x * x).sum(),
}


@pytest.mark.parametrize("name", sorted(STRANDED))
@pytest.mark.parametrize("how", ["backward", "grad", "create_graph"])
def test_a_leaf_gets_its_gradient_when_one_of_its_edges_carries_none(name, how):
    """gradviz counted a leaf's incoming edges and finished it when the count reached 0: an
    edge with no gradient (a backward returning None, or a node that got none) left the
    count above 0, and x.grad stayed None (autograd.grad: 'not used in the graph')."""
    got = []
    for lib in (torch, gv):
        x = lib.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
        loss = STRANDED[name](lib, _none_backward(lib), x)
        if how == "backward":
            loss.backward()
            got.append(x.grad.numpy())
        else:
            g, = lib.autograd.grad(loss, x, create_graph=how == "create_graph")
            if how == "create_graph":
                g, = lib.autograd.grad(g.sum(), x)
            got.append(g.detach().numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-12)


def test_a_leaf_root_used_by_no_node_gets_its_seed():
    """gv.autograd.backward([x, loss]) dropped x's seed when x is not in loss's graph."""
    got = []
    for lib in (torch, gv):
        x = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        lib.autograd.backward([x, (w * 2).sum()],
                              [lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64), None])
        got.append((x.grad.numpy(), w.grad.numpy()))
    for a, b in zip(*got):
        np.testing.assert_array_equal(b, a)
