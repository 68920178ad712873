"""torch's everyday extras beyond the op table: bool answers (allclose, equal), new_*
constructors, errors, softmax over empty dims, double backward through norm/flip,
gv.nn.utils (gradient clipping), gv.utils.data and inference_mode — each against torch."""
import numpy as np
import pytest
import torch

import gradviz as gv


def _pair(arr, grad=False):
    return (gv.tensor(arr, requires_grad=grad), torch.tensor(arr, requires_grad=grad))


def test_allclose_and_equal_answer_python_bools_as_torch():
    a = np.array([[1.0, 2.0], [np.nan, 4.0]], dtype=np.float32)
    for b in (a, a + 1e-7, a + 1e-3, a[:1]):
        if b.shape == a.shape:
            for kw in ({}, {"equal_nan": True}, {"atol": 1e-2}):
                assert gv.allclose(gv.tensor(a), gv.tensor(b), **kw) is \
                    torch.allclose(torch.tensor(a), torch.tensor(b), **kw)
        assert gv.equal(gv.tensor(a), gv.tensor(b)) is torch.equal(torch.tensor(a),
                                                                   torch.tensor(b))
    assert gv.tensor([1, 2]).equal(gv.tensor([1, 2]))


def test_new_constructors_keep_dtype_and_device_unless_told():
    g, t = gv.zeros(2, dtype=gv.float64), torch.zeros(2, dtype=torch.float64)
    cases = [lambda x: x.new_zeros(2, 3), lambda x: x.new_ones((4,)),
             lambda x: x.new_empty(1, 2), lambda x: x.new_full((2, 2), 7.5),
             lambda x: x.new_tensor([1, 2]),
             lambda x: x.new_zeros(3, dtype=x.new_ones(1).int().dtype),
             lambda x: x.new_ones(2, requires_grad=True),
             lambda x: x.new_tensor([[3.0]]).type_as(x)]
    for i, make in enumerate(cases):
        a, b = make(g), make(t)
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype).split(".")[-1] == \
            str(b.dtype).split(".")[-1] and a.requires_grad == b.requires_grad
        if i != 2:   # new_empty's values are whatever memory held
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert gv.tensor([1, 2]).type_as(g).dtype == gv.float64


@pytest.mark.parametrize("call, match", [
    (lambda x: x.norm(p="max"), "not supported"),
    (lambda x: gv.tensor([1, 2]).norm(), "floating point"),
    (lambda x: x.topk(5), "out of range"),
    (lambda x: x.narrow(1, 2, 2), "exceeds dimension size"),
    (lambda x: x.index_select(0, gv.tensor([[0]])), "1-D"),
    (lambda x: x.index_select(0, gv.tensor([0.5])), "integers"),
    (lambda x: x.masked_select(gv.tensor([1, 0, 1])), "bool mask"),
    (lambda x: gv.tensor(1.0).narrow(0, 0, 1), "0-dim"),
    (lambda x: x.flip(0, 0), "multiple times"),
])
def test_bad_arguments_get_clear_errors(call, match):
    with pytest.raises(gv.GradvizError, match=match):
        call(gv.ones(2, 3))


def test_rounding_integers_gives_a_copy_and_tests_on_integers_are_plain():
    x = gv.tensor([-3, 0, 5])
    for name in ("floor", "ceil", "round", "trunc", "sign"):
        got, want = getattr(x, name)(), getattr(torch.tensor([-3, 0, 5]), name)()
        assert got.dtype == gv.int64 and got.tolist() == want.tolist()
        assert got is not x
    assert x.isnan().tolist() == [False] * 3 and x.isfinite().all().item() is True
    assert gv.tensor([True, False]).isinf().tolist() == [False, False]


@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((0, 3), 1), ((0, 3), 0), ((2, 0, 3), -2)])
def test_softmax_over_empty_dims_as_torch(shape, dim):
    for name in ("softmax", "log_softmax"):
        g, t = _pair(np.ones(shape, dtype=np.float32), grad=True)
        og, ot = getattr(g, name)(dim), getattr(t, name)(dim)
        assert tuple(og.shape) == tuple(ot.shape)
        og.sum().backward()
        ot.sum().backward()
        assert tuple(g.grad.shape) == tuple(t.grad.shape)


@pytest.mark.parametrize("p", [2.0, 3.0, 1.0])
def test_double_backward_through_norm_and_flip_matches_torch(p):
    x = np.random.default_rng(0).uniform(0.5, 2.0, (3, 4)) * [1, -1, 1, -1]
    (g, t) = _pair(x, grad=True)
    for a, lib in ((g, gv), (t, torch)):
        y = (a.flip(1) * a).norm(p, dim=1).sum()
        (dx,) = lib.autograd.grad(y, a, create_graph=True)
        (dx * dx).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def _grads_pair():
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    out = []
    for lib in (gv, torch):
        ps = [lib.tensor(w, requires_grad=True) for w in ws]
        (ps[0].sum() * 3 + (ps[1] ** 2).sum()).backward()
        out.append(ps)
    return out


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_scales_and_returns_the_norm_as_torch(norm_type, max_norm):
    gp, tp = _grads_pair()
    got = gv.nn.utils.clip_grad_norm_(gp, max_norm, norm_type)
    want = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert got.item() == pytest.approx(want.item(), rel=1e-12)
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_clip_grad_value_nonfinite_norms_and_parameter_vectors_as_torch():
    gp, tp = _grads_pair()
    gv.nn.utils.clip_grad_value_(gp, 0.7)
    torch.nn.utils.clip_grad_value_(tp, 0.7)
    for a, b in zip(gp, tp):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    gp[0].grad.fill_(float("nan"))
    with pytest.raises(gv.GradvizError, match="non-finite"):
        gv.nn.utils.clip_grad_norm_(gp, 1.0, error_if_nonfinite=True)
    assert gv.nn.utils.clip_grad_norm_(gv.ones(2, requires_grad=True), 1.0).item() == 0.0
    vec = gv.nn.utils.parameters_to_vector(gp)
    np.testing.assert_array_equal(vec.detach().numpy(),
                                  torch.nn.utils.parameters_to_vector(tp).detach().numpy())
    gv.nn.utils.vector_to_parameters(vec * 2, gp)
    assert gp[1].detach().numpy() == pytest.approx(2 * tp[1].detach().numpy())


def test_torch_utils_data_names_and_inference_mode_port():
    from gradviz.utils.data import DataLoader, TensorDataset
    assert gv.utils.data.DataLoader is DataLoader is gv.data.DataLoader
    batches = list(DataLoader(TensorDataset(gv.arange(6.0)), batch_size=4))
    assert [b[0].tolist() for b in batches] == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]
    w = gv.ones(2, requires_grad=True)
    with gv.inference_mode():
        assert not (w * 2).requires_grad
    with gv.inference_mode(False):
        assert (w * 2).requires_grad

    @gv.inference_mode
    def bare():
        return (w * 2).requires_grad

    @gv.inference_mode()
    def called():
        return (w * 2).requires_grad
    assert bare() is False and called() is False and gv.is_grad_enabled()


def test_assigning_requires_grad_is_checked_as_torch_checks_it():
    for lib in (gv, torch):
        with pytest.raises(RuntimeError, match="floating point"):
            lib.tensor([1, 2]).requires_grad = True      # integers cannot require grad
        a = lib.ones(2, requires_grad=True)
        b = a * 2
        for value in (False, True):                        # a non-leaf's flag is the graph's
            with pytest.raises(RuntimeError, match="leaf variables"):
                b.requires_grad = value
        assert b.requires_grad_(True) is b                 # the method form allows True
        x = lib.ones(2)
        x.requires_grad = True
        assert x.requires_grad and x.is_leaf and (x * 3).requires_grad
        x.requires_grad = False
        assert not (x * 3).requires_grad
    p = gv.nn.Parameter(gv.ones(2))
    p.requires_grad = False                                # freezing a parameter, as in torch
    assert not p.requires_grad and p.requires_grad_() is p and p.requires_grad


@pytest.mark.parametrize("name", ["log2", "log10", "expm1", "tan", "sinh", "cosh", "asin",
                                  "acos", "atan", "erf", "atan2", "norm", "reciprocal"])
def test_second_derivatives_of_the_math_functions_match_torch(name):
    x = np.random.default_rng(1).uniform(0.2, 0.8, (5,))
    grads = []
    for lib in (gv, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.atan2(t, t * t + 1) if name == "atan2" else getattr(t, name)()
        (d,) = lib.autograd.grad(y.sum(), t, create_graph=True)
        (d * d).sum().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-12)


def test_random_fills_are_seeded_in_range_and_follow_the_grad_rule():
    draws = []
    for _ in range(2):
        gv.manual_seed(7)
        draws.append([gv.empty(2000).uniform_(-2, 3), gv.zeros(2000).normal_(1.0, 0.5),
                      gv.zeros(2000).bernoulli_(0.25), gv.zeros(2000).exponential_(4.0),
                      gv.full((2000,), 0.75).bernoulli()])
    for a, b in zip(*draws):                             # gv.manual_seed repeats them
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    u, n, ber, ex, ber2 = (t.numpy() for t in draws[0])
    assert u.min() >= -2 and u.max() < 3 and abs(u.mean() - 0.5) < 0.1
    assert abs(n.mean() - 1.0) < 0.05 and abs(n.std() - 0.5) < 0.05
    assert set(np.unique(ber)) <= {0.0, 1.0} and abs(ber.mean() - 0.25) < 0.05
    assert ex.min() >= 0 and abs(ex.mean() - 0.25) < 0.03
    assert abs(ber2.mean() - 0.75) < 0.05 and draws[0][4].dtype == gv.float32
    w = gv.ones(3, requires_grad=True)
    with pytest.raises(gv.GradvizError, match="in-place"):
        w.normal_()                                      # a leaf that requires grad: as torch
    with gv.no_grad():
        w.uniform_(-0.1, 0.1)                            # custom init code does this
    assert w.requires_grad and float(w.abs().max()) <= 0.1


def test_multinomial_samples_by_weight_with_or_without_replacement():
    gv.manual_seed(0)
    probs = gv.tensor([0.0, 1.0, 3.0])
    many = gv.multinomial(probs, 4000, replacement=True).numpy()
    assert many.dtype == np.int64 and set(np.unique(many)) <= {1, 2}
    assert abs((many == 2).mean() - 0.75) < 0.03
    rows = gv.tensor([[1.0, 0.0, 1.0], [0.0, 5.0, 1.0]]).multinomial(2)
    assert tuple(rows.shape) == (2, 2)
    for r, allowed in zip(rows.tolist(), ({0, 2}, {1, 2})):
        assert set(r) == allowed                         # without replacement: each once
    for call, match in ((lambda: probs.multinomial(4), "without replacement"),
                        (lambda: gv.tensor([-1.0, 2.0]).multinomial(1), "invalid"),
                        (lambda: gv.ones(2, 2, 2).multinomial(1), "1 or 2 dim")):
        with pytest.raises(gv.GradvizError, match=match):
            call()


def test_in_place_versions_of_the_elementwise_ops_match_torch():
    x = np.array([[0.5, -1.5, 2.0], [-0.25, 1.0, 3.5]], dtype=np.float32)
    for name, args in (("abs_", ()), ("neg_", ()), ("exp_", ()), ("sigmoid_", ()),
                       ("tanh_", ()), ("relu_", ()), ("pow_", (2,)), ("clamp_min_", (0.1,)),
                       ("floor_", ()), ("square_", ()), ("sign_", ())):
        g, t = gv.tensor(x.copy()), torch.tensor(x.copy())
        assert getattr(g, name)(*args) is g
        getattr(t, name)(*args)
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6, err_msg=name)
    m = np.array([[True, False, True], [False, False, True]])
    g, t = gv.tensor(x.copy()), torch.tensor(x.copy())
    g.masked_fill_(gv.tensor(m), -9.0)
    t.masked_fill_(torch.tensor(m), -9.0)
    np.testing.assert_array_equal(g.numpy(), t.numpy())
    with pytest.raises(gv.GradvizError, match="can't be cast"):
        gv.tensor([1, 2]).exp_()                         # torch refuses int results too


def test_scatter_one_hot_in_place_larger_src_and_errors():
    y = [1, 3, 0]
    for lib in (gv, torch):
        onehot = lib.zeros(3, 4).scatter_(1, lib.tensor(y).unsqueeze(1), 1.0)
        assert onehot.tolist() == [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]]
    src = gv.arange(8.0).reshape(2, 4).requires_grad_()     # larger than index
    out = gv.zeros(2, 3).scatter(1, gv.tensor([[2], [0]]), src)
    assert out.tolist() == [[0, 0, 0], [4, 0, 0]]
    out.sum().backward()
    assert src.grad.tolist() == [[1, 0, 0, 0], [1, 0, 0, 0]]
    x = gv.zeros(2, 3)
    for call, match in ((lambda: x.scatter(1, gv.tensor([[3]]), 1.0), "out of bounds"),
                        (lambda: x.scatter(1, gv.tensor([[-1]]), 1.0), "out of bounds"),
                        (lambda: x.scatter(1, gv.tensor([[0.5]]), 1.0), "int64"),
                        (lambda: x.scatter(1, gv.tensor([0]), 1.0), "same number"),
                        (lambda: x.scatter(1, gv.tensor([[0]]), gv.ones(1, 1).double()), "dtype"),
                        (lambda: x.scatter(1, gv.tensor([[0]]), 1.0, reduce="mean"),
                         "reduce argument must be either add or multiply"),
                        (lambda: x.index_add(0, gv.tensor([[0]]), gv.ones(1, 3)), "1-D")):
        with pytest.raises(gv.GradvizError, match=match):
            call()


def test_double_backward_through_scatter_and_scatter_add_matches_torch():
    x = np.random.default_rng(2).standard_normal((3, 4))
    idx = np.array([[0, 2], [1, 1], [3, 0]])
    grads = []
    for lib in (gv, torch):
        a = lib.tensor(x, requires_grad=True)
        s = (a[:, :2] ** 2)
        unique = lib.tensor(np.array([[0, 2], [1, 3], [3, 0]]))
        y = (a.scatter(1, unique, s) ** 2).sum() \
            + (a.scatter_add(1, lib.tensor(idx), s) ** 3).sum()
        (d,) = lib.autograd.grad(y, a, create_graph=True)
        (d * d).sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-12)


def test_einsum_second_derivatives_and_errors():
    rng = np.random.default_rng(3)
    q, k = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    grads = []
    for lib in (gv, torch):
        a, b = lib.tensor(q, requires_grad=True), lib.tensor(k, requires_grad=True)
        y = lib.einsum("bqd,bkd->bqk", a, b).tanh().sum()
        da, db = lib.autograd.grad(y, (a, b), create_graph=True)
        ((da ** 2).sum() + (db * b).sum()).backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    for g, t in zip(*grads):
        np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-12)
    assert gv.einsum("ii->i", gv.eye(3)).tolist() == [1.0, 1.0, 1.0]   # forward is fine
    e = gv.eye(3, requires_grad=True)
    gv.einsum("ii->i", e).sum().backward()                            # diagonal gradient
    assert e.grad.tolist() == gv.eye(3).tolist()
    for eq, match in (("ij,jk->ik", "operand subscripts"), ("ijk->i", "do not fit")):
        with pytest.raises(gv.GradvizError, match=match):
            gv.einsum(eq, gv.ones(2, 3))


def test_function_forms_never_shadow_gradviz_s_own_modules():
    import types
    for name in ("trace", "nn", "optim", "data", "viz", "debug", "autograd", "cuda", "utils",
                 "linalg"):
        assert isinstance(getattr(gv, name), types.ModuleType), name
    assert callable(gv.trace.record) and gv.ones(2, 2).trace().item() == 2.0


def test_linalg_norms_match_torch():
    x = np.random.default_rng(4).standard_normal((3, 4))
    g, t = gv.tensor(x), torch.tensor(x)
    pairs = [(gv.linalg.vector_norm(g), torch.linalg.vector_norm(t)),
             (gv.linalg.vector_norm(g, 3, dim=1, keepdim=True),
              torch.linalg.vector_norm(t, 3, dim=1, keepdim=True)),
             (gv.linalg.vector_norm(g, float("inf")), torch.linalg.vector_norm(t, float("inf"))),
             (gv.linalg.matrix_norm(g), torch.linalg.matrix_norm(t)),
             (gv.linalg.norm(g), torch.linalg.norm(t)),
             (gv.linalg.norm(g, dim=0), torch.linalg.norm(t, dim=0)),
             (gv.linalg.norm(g, 1, dim=1), torch.linalg.norm(t, 1, dim=1))]
    for a, b in pairs:
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    with pytest.raises(gv.GradvizError, match="Order 3 not supported"):
        gv.linalg.matrix_norm(g, 3)


def test_repeats_uniques_and_counts_refuse_bad_arguments():
    for call, match in ((lambda: gv.tensor([1, -1]).bincount(), "non-negative"),
                        (lambda: gv.tensor([0.5]).bincount(), "integral"),
                        (lambda: gv.ones(3).repeat_interleave(gv.tensor([1, 2])), "1 or 3"),
                        (lambda: gv.ones(3).repeat_interleave(-1), "non-negative"),
                        (lambda: gv.ones(2, 3).kthvalue(4), "out of range")):
        with pytest.raises(gv.GradvizError, match=match):
            call()


def test_gather_and_scatter_share_torch_s_index_checks():
    x = gv.ones(2, 3)
    for lib, t in ((gv, x), (torch, torch.ones(2, 3))):
        for bad in ([[0, 3]], [[0, -1]]):
            with pytest.raises(RuntimeError):
                t.gather(1, lib.tensor(bad))            # too large, negative: refused
            with pytest.raises(RuntimeError):
                t.scatter(1, lib.tensor(bad), 1.0)
    with pytest.raises(gv.GradvizError, match="index 3 is out of bounds for dimension 1"):
        x.gather(1, gv.tensor([[0, 3]]))
    s = gv.tensor(2.0, requires_grad=True)               # a 0-d tensor gathers itself
    out = s.gather(0, gv.tensor(0))
    out.backward()
    assert out.item() == 2.0 and s.grad.item() == 1.0
    assert torch.tensor(2.0).gather(0, torch.tensor(0)).item() == 2.0


def test_cummax_and_cummin_give_torch_s_named_results_and_grads():
    x = np.array([[1.0, 3.0, 3.0, np.nan, 5.0, np.nan, 4.0], [2.0, 2.0, 1.0, 1.0, 0.0, 3.0, 3.0]])
    seed = np.random.default_rng(5).standard_normal(x.shape)
    got = []
    for lib in (gv, torch):
        a = lib.tensor(x, requires_grad=True)
        res = [lib.cummax(a, 1), a.cummin(dim=-1)]
        sum((r.values * lib.tensor(seed)).sum() for r in res).backward()
        got.append((res, a.grad.numpy()))
    for g, t in zip(got[0][0], got[1][0]):
        assert type(g).__name__ == type(t).__name__ and g._fields == ("values", "indices")
        assert g.indices.dtype == gv.int64 and not g.indices.requires_grad
        np.testing.assert_array_equal(g.indices.numpy(), t.indices.numpy())
        np.testing.assert_array_equal(g.values.detach().numpy(), t.values.detach().numpy())
    np.testing.assert_array_equal(got[0][1], got[1][1])   # to the last of equal values
    with gv.trace.record() as rec:
        gv.ones(3).cummin(0)
    assert [e["op"] for e in rec.events if e["type"] == "op"] == ["Cummin", "Gather"]


def test_logcumsumexp_is_stable_over_long_runs_and_infinities_as_torch():
    x = np.random.default_rng(6).standard_normal((2, 1000)) * 50 + 1000
    x[0, :5] = [-np.inf, -np.inf, 3.0, np.inf, 1.0]
    for dt in (np.float32, np.float64):
        outs = []
        for lib in (gv, torch):
            a = lib.tensor(x.astype(dt), requires_grad=True)
            y = a.logcumsumexp(1)
            (y[1] * 1e-3).sum().backward()
            outs.append((y.detach().numpy(), a.grad.numpy()))
        tols = (1e-6, 2e-3) if dt == np.float32 else (1e-15, 1e-9)   # exp(x - y), x ~ 1000
        for g, t, rtol in zip(*outs, tols):
            assert g.dtype == t.dtype
            np.testing.assert_allclose(g, t, rtol=rtol)
    with pytest.raises(gv.GradvizError, match="floating point"):
        gv.tensor([1, 2]).logcumsumexp(0)
    with pytest.raises(IndexError):
        gv.tensor(1.0).logcumsumexp(1)


def test_logcumsumexp_second_derivative_matches_torch():
    x = np.array([0.3, 1.2, -0.7, 2.0])
    grads = []
    for lib in (gv, torch):
        a = lib.tensor(x, requires_grad=True)
        y = (lib.logcumsumexp(a * 2, 0) * lib.tensor([1.0, -2.0, 3.0, 0.0])).sum()
        (d,) = lib.autograd.grad(y, a, create_graph=True)
        (d * d).sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)


def test_unique_along_a_dim_and_its_errors_as_torch():
    rows = np.array([[-0.0, 1.0], [2.0, 1.0], [0.0, 1.0], [2.0, 1.0]])
    g = gv.unique(gv.tensor(rows), dim=0, return_inverse=True, return_counts=True)
    t = torch.unique(torch.tensor(rows), dim=0, return_inverse=True, return_counts=True)
    for a, b in zip(g, t):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert np.signbit(g[0].numpy()[0, 0])      # the first of equal slices is kept, as torch
    assert gv.tensor([[1, 1], [2, 2]]).unique(dim=1).tolist() == [[1], [2]]
    w = gv.tensor([1.0, 1.0, 2.0], requires_grad=True)
    u = w.unique()
    assert u.requires_grad and torch.tensor([1.0], requires_grad=True).unique().requires_grad
    with pytest.raises(gv.GradvizError, match="no gradient rule for Unique"):
        u.sum().backward()
    for call, match in ((lambda lib: lib.unique(lib.tensor(1.0), dim=0), "no dimensions"),
                        (lambda lib: lib.unique(lib.zeros(2, 0), dim=0), "0 sized dim"),
                        (lambda lib: lib.unique(lib.ones(2, 3), dim=2), "out of range")):
        for lib in (gv, torch):
            with pytest.raises((IndexError, RuntimeError), match=match):
                call(lib)


def test_median_of_everything_shares_the_gradient_among_ties_and_nans_as_torch():
    for x in ([1.0, 2.0, 2.0, 3.0], [1.0, np.nan, 2.0, np.nan], [2.0, 2.0, 2.0]):
        grads = []
        for lib in (gv, torch):
            a = lib.tensor(x, requires_grad=True)
            a.median().backward()
            grads.append(a.grad.numpy())
        np.testing.assert_array_equal(grads[0], grads[1])


def test_clamp_with_tensor_bounds_gives_ties_to_the_input_as_torch():
    # torch: self's gradient where min <= self <= max (ties included), a bound's where it
    # is the value; min > max gives max. (Maximum/minimum would split the ties.)
    got = []
    for lib in (gv, torch):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0, 0.5], requires_grad=True)
        lo = lib.tensor([1.0, 3.0, 0.0, 5.0, 2.0], requires_grad=True)
        hi = lib.tensor([2.0, 2.0, 3.0, 4.5, 1.0], requires_grad=True)
        y = x.clamp(lo, hi)
        (y * lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
        got.append([y.tolist(), x.grad.tolist(), lo.grad.tolist(), hi.grad.tolist()])
    assert got[0] == got[1]
