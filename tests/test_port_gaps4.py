"""Gaps found by porting training scripts (CNN, char-LM, CTC, Transformer, VAE/GAN, U-Net,
seq2seq/RL) with ``import gradviz as torch``: activation checkpointing, the old
``_LRScheduler`` base, ParameterList/Dict printing, ``Module.type``, DistributedSampler and
torch's ``torch.utils.data.<submodule>`` import paths, antialiased interpolate."""
import importlib

import numpy as np
import pytest
import torch

import gradviz as gv


def _np(t):
    return t.detach().numpy()


def _txt(obj):
    return repr(obj).replace("torch", "X").replace("gradviz", "X")


# ---- 1. torch.utils.checkpoint -------------------------------------------------------------
def _block(lib, sd=None):
    m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2),
                          lib.nn.ReLU()).double()
    if sd is not None:
        m.load_state_dict({k: gv.tensor(v) for k, v in sd.items()})
    return m


@pytest.mark.parametrize("how", ["plain", "reentrant", "sequential", "kwargs"])
def test_checkpoint_gives_torch_s_values_and_grads(how):
    x = np.random.default_rng(0).standard_normal((5, 3))
    res, sd = [], None
    for lib in (torch, gv):
        m = _block(lib, sd)
        sd = {k: _np(v) for k, v in m.state_dict().items()}
        xt = lib.tensor(x, requires_grad=True)
        ck = lib.utils.checkpoint
        if how == "sequential":
            out = ck.checkpoint_sequential(m, 2, xt, use_reentrant=False)
        elif how == "kwargs":
            out = ck.checkpoint(lambda a, scale=1.0: m(a) * scale, xt, scale=3.0,
                                use_reentrant=False)
        else:
            out = ck.checkpoint(m, xt, use_reentrant=how == "reentrant")
        (out ** 2).sum().backward()
        res.append([_np(out), _np(xt.grad), _np(m[0].weight.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


def test_checkpoint_reentrant_rules_match_torch():
    from gradviz.utils.checkpoint import checkpoint
    m = gv.nn.Linear(2, 2)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
        checkpoint(m, gv.ones(1, 2, requires_grad=True))
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(m, gv.ones(1, 2), use_reentrant=True)
    assert not out.requires_grad   # torch's reentrant variant records nothing here
    assert checkpoint(m, gv.ones(1, 2), use_reentrant=False).requires_grad
    with pytest.raises(ValueError, match="Unexpected keyword arguments: b"):
        checkpoint(lambda a, b=1: a, gv.ones(1), b=2, use_reentrant=True)


# ---- 2. custom schedules subclass the old _LRScheduler -------------------------------------
def test_custom_scheduler_on_old_base_class_matches_torch():
    lrs = []
    for lib in (torch, gv):
        class Warmup(lib.optim.lr_scheduler._LRScheduler):
            def __init__(self, opt, warmup, last_epoch=-1):
                self.warmup = warmup
                super().__init__(opt, last_epoch)

            def get_lr(self):
                return [b * min(1.0, (self.last_epoch + 1) / self.warmup)
                        for b in self.base_lrs]
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        sched = Warmup(opt, 3)
        seen = []
        for _ in range(4):
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr()[0])
        assert isinstance(sched, lib.optim.lr_scheduler.LRScheduler)
        lrs.append(seen)
    np.testing.assert_allclose(lrs[1], lrs[0], rtol=1e-15)


# ---- 3. ParameterList / ParameterDict print their parameters -------------------------------
def test_parameter_containers_print_as_torch():
    texts = []
    for lib in (torch, gv):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.ps = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.ones(2)])
                self.pd = lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.zeros(1))})
        texts.append(_txt(M()))
    assert texts[1] == texts[0]


# ---- 4. Module.type ------------------------------------------------------------------------
@pytest.mark.parametrize("dst", ["float64", "DoubleTensor"])
def test_module_type_casts_everything_as_torch(dst):
    res = []
    for lib in (torch, gv):
        m = lib.nn.BatchNorm1d(2)
        m.weight.grad = lib.ones(2)
        assert m.type(getattr(lib, dst)) is m
        res.append([str(t.dtype).split(".")[-1] for t in
                    (m.weight, m.weight.grad, m.running_mean, m.num_batches_tracked)])
    assert res[1] == res[0] == ["float64"] * 4


# ---- 5. DistributedSampler and torch.utils.data's submodules -------------------------------
@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (2, 4, False),
                                                  (7, 2, True), (8, 2, False)])
def test_distributed_sampler_shares_match_torch(n, replicas, drop_last):
    for rank in range(replicas):
        kw = dict(num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        want = torch.utils.data.DistributedSampler(list(range(n)), **kw)
        got = gv.utils.data.DistributedSampler(list(range(n)), **kw)
        assert list(got) == list(want) and len(got) == len(want)


def test_distributed_sampler_shuffles_by_epoch_in_one_process():
    s = gv.utils.data.DistributedSampler(list(range(10)), seed=1)   # one replica, rank 0
    first = list(s)
    assert sorted(first) == list(range(10)) and list(s) == first
    s.set_epoch(1)
    assert sorted(s) == list(range(10)) and list(s) != first
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval"):
        gv.utils.data.DistributedSampler([1], num_replicas=2, rank=2)


@pytest.mark.parametrize("path,name", [("distributed", "DistributedSampler"),
                                       ("dataloader", "DataLoader"),
                                       ("dataloader", "default_collate"),
                                       ("sampler", "BatchSampler"), ("dataset", "Dataset")])
def test_torch_utils_data_submodule_imports(path, name):
    assert hasattr(importlib.import_module(f"torch.utils.data.{path}"), name)
    module = importlib.import_module(f"gradviz.utils.data.{path}")
    assert getattr(module, name) is getattr(gv.utils.data, name)


# ---- 6. interpolate(antialias=True) --------------------------------------------------------
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("kw", [dict(size=(4, 3)), dict(size=(5, 12)), dict(scale_factor=0.4),
                                dict(scale_factor=(0.3, 1.7)), dict(size=(1, 1)),
                                dict(size=(4, 3), align_corners=True),
                                dict(scale_factor=0.5, recompute_scale_factor=True)])
def test_antialiased_interpolate_matches_torch(mode, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 7))
    res, w = [], None
    for lib in (torch, gv):
        xt = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.interpolate(xt, mode=mode, antialias=True, **kw)
        w = rng.standard_normal(tuple(out.shape)) if w is None else w
        (out * lib.tensor(w)).sum().backward()
        res.append([_np(out), _np(xt.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_antialias_is_refused_outside_bilinear_and_bicubic_as_torch():
    for lib in (torch, gv):
        with pytest.raises(ValueError, match="Anti-alias option is restricted to bilinear"):
            lib.nn.functional.interpolate(lib.ones(1, 1, 4), size=2, mode="linear",
                                          antialias=True)


def _jit_model(lib):
    class Scaled(lib.nn.Module):
        scale: lib.jit.Final[float]

        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 2).double()
            self.scale = 2.0

        @lib.jit.ignore
        def describe(self):
            return "scaled"

        def forward(self, x):
            return self.fc(x) * self.scale
    return Scaled()


@pytest.mark.parametrize("how", ["script", "trace"])
def test_jit_script_and_trace_run_eagerly_with_torch_s_results(how):
    """gv.jit.script/trace return the module (gradviz runs eagerly); values and gradients are
    torch's scripted/traced ones."""
    import torch
    ref, mine = _jit_model(torch), _jit_model(gv)
    mine.load_state_dict({k: gv.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    outs = []
    for lib, model in ((torch, ref), (gv, mine)):
        inp = lib.tensor(x, dtype=lib.float64)
        with pytest.warns(DeprecationWarning, match="is deprecated"):
            run = lib.jit.script(model) if how == "script" else lib.jit.trace(model, (inp,))
        out = run(inp)
        out.sum().backward()
        outs.append((out.detach().numpy(), model.fc.weight.grad.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    with pytest.warns(DeprecationWarning):
        assert gv.jit.script(mine) is mine
    assert not gv.jit.is_tracing() and not gv.jit.is_scripting()
    assert gv.jit.annotate(gv.Tensor, 3) == 3 and mine.describe() == "scaled"


def test_jit_save_and_load_refuse_with_a_pointer_to_state_dicts(tmp_path):
    with pytest.raises(gv.GradvizError, match="state_dict"):
        gv.jit.save(gv.nn.Linear(2, 2), tmp_path / "m.pt")
    with pytest.raises(gv.GradvizError, match="gv.load"):
        gv.jit.load(tmp_path / "m.pt")
