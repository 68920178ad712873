"""autograd.grad(outputs, inputs) and backward(inputs=...) against torch 2.13: which hooks
run and in what order, what ``needs_input_grad`` a node sees, the gradients, and the
``.grad`` of leaves that are not inputs (see also test_grad_pruning.py)."""
import numpy as np
import pytest
import torch

import gradviz as gv
from test_grad_pruning import both, plain

LIBS = {"gv": gv, "torch": torch}


def custom_mul(lib, log):
    """A custom Function a * b that logs the needs_input_grad its backward sees."""
    class Mul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            log.append(("needs", tuple(ctx.needs_input_grad)))
            a, b = ctx.saved_tensors
            return g * b, g * a
    return Mul


def hooked_graph(lib, log, custom):
    """y = sum(a * bb), bb = b * 2, with every kind of hook logging on every tensor/node."""
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0], requires_grad=True)
    bb = b * 2
    bb.register_hook(lambda g: log.append(("bb.hook", g.tolist())))
    bb.grad_fn.register_prehook(lambda go: log.append(("bb.pre", go[0].tolist())))
    bb.grad_fn.register_hook(lambda gi, go: log.append(("bb.post", plain(gi))))
    for name, t in (("a", a), ("b", b)):
        t.register_hook(lambda g, name=name: log.append((name + ".hook", g.tolist())))
        t.register_post_accumulate_grad_hook(lambda t, name=name: log.append((name + ".acc",)))
    z = custom_mul(lib, log).apply(a, bb) if custom else a * bb
    z.register_hook(lambda g: log.append(("z.hook",)))
    z.grad_fn.register_prehook(lambda go: log.append(("z.pre",)))
    z.grad_fn.register_hook(lambda gi, go: log.append(("z.post", plain(gi))))
    return a, b, bb, z.sum()


@pytest.mark.parametrize("custom", [False, True], ids=["builtin", "custom"])
@pytest.mark.parametrize("call", ["grad", "backward"])
@pytest.mark.parametrize("target", ["a", "bb", "b", "a+b"])
def test_hooks_needs_and_grads_like_torch(custom, call, target):
    # a built-in node on the path computes (and its post hook sees) only the gradients that
    # lead to an input; a custom Function sees needs_input_grad (True, True) as in torch
    # and its post hook sees both; hooks of nodes and tensors off the path do not run
    def run(lib):
        log = []
        a, b, bb, y = hooked_graph(lib, log, custom)
        named = {"a": a, "b": b, "bb": bb}
        inputs = [named[k] for k in target.split("+")]
        if call == "grad":
            got = lib.autograd.grad(y, inputs)
        else:
            y.backward(inputs=inputs)
            got = None
        return got, log, a.grad, b.grad
    g, t = both(run)
    assert g == t


def test_prehook_of_a_captured_input_node_does_not_run():
    # autograd.grad stops at a non-leaf input: its tensor hooks and retain_grad run (torch
    # captures the hooked gradient), its node's pre and post hooks do not
    def run(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.grad_fn.register_prehook(lambda go: log.append("pre") or (go[0] * 100,))
        y.register_hook(lambda g: log.append("hook") or g + 1)
        y.grad_fn.register_hook(lambda gi, go: log.append("post"))
        y.retain_grad()
        g, = lib.autograd.grad((y * y).sum(), [y])
        return g, y.grad, log
    g, t = both(run)
    assert g == t and g[2] == ["hook"]


@pytest.mark.parametrize("call", ["backward", "grad", "inputs"])
def test_tensor_hooks_then_retain_grad_then_node_prehooks(call):
    # torch runs a tensor's hooks, then retain_grad, then its node's pre hooks, whatever
    # order they were registered in
    def run(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([0.5, 0.25], requires_grad=True)
        y = x * w
        y.grad_fn.register_prehook(lambda go: log.append(("pre", go[0].tolist()))
                                   or (go[0] * 10,))
        y.register_hook(lambda g: log.append(("hook", g.tolist())) or g + 1)
        y.retain_grad()
        y.grad_fn.register_prehook(lambda go: log.append(("pre2", go[0].tolist())))
        out = (y * 2).sum()
        if call == "backward":
            out.backward()
        elif call == "grad":
            return lib.autograd.grad(out, [x, y]), y.grad, log
        else:
            out.backward(inputs=[x])
        return x.grad, w.grad, y.grad, log
    g, t = both(run)
    assert g == t


def test_custom_function_needs_input_grad_under_grad_like_torch():
    # torch's custom Function keeps the needs_input_grad of its forward; the gradient it
    # returns for an input that leads nowhere requested is dropped
    def run(lib):
        log = []
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        c = lib.tensor([5.0, 6.0])
        mul = custom_mul(lib, log)
        y = (mul.apply(a, b) + mul.apply(b, c)).sum()
        ga, = lib.autograd.grad(y, [a], retain_graph=True)
        gb, = lib.autograd.grad(y, [b], create_graph=True)
        return ga, gb, log, a.grad, b.grad
    g, t = both(run)
    assert g == t and g[2][0] == ["needs", [True, True]]


def test_builtin_node_computes_only_needed_gradients():
    # gradviz's own ops read ctx.needs_input_grad: under grad(y, [a]) MulBackward skips b's
    # gradient (torch's should_compute_output), which its post hook shows as None
    seen = []
    a = gv.tensor([1.0, 2.0], requires_grad=True)
    b = gv.tensor([3.0, 4.0], requires_grad=True)
    z = a * b
    z.grad_fn.register_hook(lambda gi, go: seen.append((z.grad_fn.needs_input_grad,
                                                        [g is None for g in gi])))
    y = z.sum()
    gv.autograd.grad(y, [a], retain_graph=True)
    y.backward(inputs=[b], retain_graph=True)
    gv.autograd.grad(y, [a, b], retain_graph=True)
    y.backward()
    assert seen == [((True, False), [False, True]), ((False, True), [True, False]),
                    ((True, True), [False, False]), ((True, True), [False, False])]


def test_input_own_node_under_backward_inputs_computes_nothing_past_it():
    # backward(inputs=[h]) runs h's node (its hooks run) but it computes no gradient
    def run(lib):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        h = x * w
        h.grad_fn.register_hook(lambda gi, go: log.append(plain(gi)))
        (h.exp() * 2).sum().backward(inputs=[h])
        return h.grad, x.grad, w.grad, log
    g, t = both(run)
    assert g == t and g[3] == [[None, None]]


def test_leaf_grads_not_in_inputs_are_untouched():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        c = lib.tensor([5.0, 6.0], requires_grad=True)
        (a * b * c).sum().backward()
        before = [t.grad for t in (a, b, c)]
        copies = [t.grad.clone() for t in (a, b, c)]
        y = (a * b * c * 3).sum()
        y.backward(inputs=[b], retain_graph=True)
        lib.autograd.grad(y, [a, c])
        same = [t.grad is g for t, g in zip((a, b, c), before)]   # in place, as torch
        return same, [t.grad for t in (a, b, c)], copies
    g, t = both(run)
    assert g == t and g[0] == [True, True, True] and g[1][0] == g[2][0] \
        and g[1][2] == g[2][2] and g[1][1] != g[2][1]


def test_retain_graph_and_accumulation_with_inputs():
    def run(lib):
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        y = (a.exp() * b).sum()
        y.backward(inputs=[a], retain_graph=True)
        y.backward(inputs=[a], retain_graph=True)   # accumulates
        ga, = lib.autograd.grad(y, [b])              # frees the graph
        errors = []
        for again in (lambda: lib.autograd.grad(y, [a]), lambda: y.backward(inputs=[b])):
            try:
                again()
                errors.append(None)
            except RuntimeError:
                errors.append("freed")
        return a.grad, b.grad, ga, errors
    g, t = both(run)
    assert g == t and g[3] == ["freed", "freed"]


def test_saved_value_changed_for_a_pruned_gradient_still_raises():
    # torch unpacks (and version-checks) every value a node saved, whichever gradients a
    # pruned backward computes
    for name, lib in LIBS.items():
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        a2, b2 = a * 1, b * 1
        y = (a2 * b2).sum()
        with lib.no_grad():
            a2.mul_(5)   # read only by b's gradient
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            lib.autograd.grad(y, [a])


@pytest.mark.parametrize("pick", ["x", "w", "xw"])
def test_pruned_grads_match_finite_differences(pick):
    rng = np.random.default_rng(7)
    vals = {k: rng.normal(size=(2, 3)) for k in "xw"}

    def f(x, w):
        return ((x @ w.mT).tanh() * w.sum()).sum() + (w * x).exp().sum()
    named = {k: gv.tensor(v, requires_grad=True) for k, v in vals.items()}
    grads = gv.autograd.grad(f(**named), [named[k] for k in pick])
    tnamed = {k: torch.tensor(v, requires_grad=True) for k, v in vals.items()}
    tgrads = torch.autograd.grad(f(**tnamed), [tnamed[k] for k in pick])
    for k, g, tg in zip(pick, grads, tgrads):
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12)
        v = rng.normal(size=(2, 3))
        eps = 1e-6
        shifted = [float(f(**{j: gv.tensor(vals[j] + s * eps * v if j == k else vals[j])
                              for j in "xw"}).item()) for s in (1, -1)]
        num = (shifted[0] - shifted[1]) / (2 * eps)
        assert abs(num - float(np.sum(g.numpy() * v))) <= 1e-6 * (1 + abs(num))
