"""Small things torch scripts do that used to fail here: formatting a loss in an f-string,
ModuleList + ModuleList, gv.cuda.manual_seed on a machine without a GPU, the error class of
BatchNorm on one value per channel."""
import pytest
import torch

import gradviz as gv


def test_tensors_format_as_torch():
    for lib in (gv, torch):
        t = lib.tensor(0.12345)
        got = (f"{t:.4f}", f"{t}", f"{lib.tensor(3):d}", f"{lib.tensor(2.5, requires_grad=True):.1f}",
               f"{lib.tensor([1.5])}")
        assert got[:4] == ("0.1235", format(t.item(), ""), "3", "2.5")
        assert got[4] == str(lib.tensor([1.5]))
        with pytest.raises(TypeError, match="unsupported format string"):
            f"{lib.tensor([1.5]):.2f}"


def test_module_lists_add_as_torch():
    a, b = gv.nn.ModuleList([gv.nn.ReLU()]), gv.nn.ModuleList([gv.nn.Tanh(), gv.nn.ReLU()])
    c = a + b
    assert isinstance(c, gv.nn.ModuleList) and len(c) == 3 and len(a) == 1
    assert [type(m).__name__ for m in c] == ["ReLU", "Tanh", "ReLU"] and c[1] is b[0]
    t = torch.nn.ModuleList([torch.nn.ReLU()]) + torch.nn.ModuleList([torch.nn.Tanh()])
    assert len(t) == 2


def test_cuda_seeding_is_accepted_without_a_gpu():
    gv.cuda.manual_seed(0)
    gv.cuda.manual_seed_all(0)
    torch.cuda.manual_seed_all(0)   # torch ignores it too without a GPU
    gv.manual_seed(1)
    a = gv.randn(3)
    gv.manual_seed(1)
    gv.cuda.manual_seed(5)          # does not touch the CPU generator
    assert gv.randn(3).tolist() == a.tolist()


def test_batch_norm_on_one_value_per_channel_is_a_value_error_as_torch():
    for lib in (gv, torch):
        bn = lib.nn.BatchNorm1d(3)
        with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
            bn(lib.ones(1, 3))


def test_legacy_type_casts_and_cuda_amp_spelling():
    x = gv.ones(2)
    assert x.type(gv.LongTensor).dtype == gv.int64 == x.type("torch.LongTensor").dtype
    assert torch.ones(2).type(torch.LongTensor).dtype == torch.int64
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = gv.cuda.amp.GradScaler()          # no GPU here: disabled, as torch's
    assert not scaler.is_enabled()
    loss = gv.tensor(2.0)
    assert scaler.scale(loss) is loss
    with pytest.warns(UserWarning, match="CUDA is not available"):
        with gv.cuda.amp.autocast():
            assert (gv.ones(2) * 2).dtype == gv.float32


def test_optimizers_take_named_parameters_as_torch():
    results = []
    for lib in (gv, torch):
        lib.manual_seed(0)
        m = lib.nn.Linear(2, 2)
        opt = lib.optim.SGD(m.named_parameters(), lr=0.1)
        assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
        assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
        grouped = lib.optim.Adam([{"params": m.named_parameters(), "lr": 0.2}], lr=0.1)
        assert grouped.param_groups[0]["param_names"] == ["weight", "bias"]
        with pytest.raises(ValueError, match="Some param names are missing"):
            lib.optim.SGD([("w", m.weight), m.bias], lr=0.1)
        with pytest.raises(ValueError, match="cannot add param group without names"):
            lib.optim.SGD([{"params": [("w", m.weight)]}, {"params": [m.bias]}], lr=0.1)
        plain = lib.optim.SGD(m.parameters(), lr=0.1)
        plain.load_state_dict(opt.state_dict())
        results.append(plain.param_groups[0]["param_names"])
    assert results[0] == results[1]


def test_type_names_as_torch():
    for name in ("float", "double", "long", "int", "bool", "half"):
        g, t = getattr(gv.ones(2), name)(), getattr(torch.ones(2), name)()
        assert g.type() == t.type().replace("torch.", "gradviz.")
        assert g.type(g.type()).dtype == g.dtype            # a name casts back, as torch


def test_load_state_dict_result_prints_as_torch():
    for lib in (gv, torch):
        m = lib.nn.Linear(2, 2)
        assert repr(m.load_state_dict(m.state_dict())) == "<All keys matched successfully>"
        r = m.load_state_dict({"weight": m.weight.detach()}, strict=False)
        assert r.missing_keys == ["bias"] and "missing_keys=['bias']" in repr(r)
