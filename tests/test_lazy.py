"""LazyLinear / LazyConv{1,2,3}d against torch: sizes from the first input, the ordinary
class afterwards, parameters materialised in place (an optimizer made before works), the
ordinary module's initialisation, and load_state_dict into a module never called."""
import numpy as np
import pytest
import torch

import gradviz as gv

R = np.random.default_rng(0)


@pytest.mark.parametrize("kind, shape", [("Linear", (2, 5)), ("Conv1d", (2, 3, 7)),
                                         ("Conv2d", (1, 3, 5, 5)), ("Conv2d", (3, 5, 5)),
                                         ("Conv3d", (1, 2, 3, 4, 4))])
def test_lazy_modules_take_their_size_from_the_first_input_as_torch(kind, shape):
    args = (4,) if kind == "Linear" else (4, 3)
    kw = {} if kind == "Linear" else {"padding": 1}
    x = R.standard_normal(shape)
    mods = []
    for lib in (gv, torch):
        m = getattr(lib.nn, "Lazy" + kind)(*args, **kw).double()
        assert m.has_uninitialized_params()
        w = m.weight
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        out = m(lib.tensor(x))
        assert type(m).__name__ == kind and not isinstance(m, lib.nn.modules.lazy.LazyModuleMixin
                                                            if lib is torch else
                                                            gv.nn.layers.lazy.LazyModuleMixin)
        assert m.weight is w                             # the same object, now with values
        out.sum().backward()
        opt.step()
        mods.append((m, out))
    (gm, go), (tm, to) = mods
    assert repr(gm) == repr(tm).replace("torch", "gradviz")
    assert tuple(gm.weight.shape) == tuple(tm.weight.shape) and tuple(go.shape) == tuple(to.shape)
    assert sorted(gm.state_dict()) == sorted(tm.state_dict())


def test_lazy_init_is_the_ordinary_module_s_and_load_state_dict_sets_the_size():
    gv.manual_seed(3)
    lazy = gv.nn.LazyLinear(4)
    lazy(gv.zeros(1, 6))
    gv.manual_seed(3)
    plain = gv.nn.Linear(6, 4)
    assert lazy.weight.tolist() == plain.weight.tolist()
    assert lazy.bias.tolist() == plain.bias.tolist()
    torch.manual_seed(0)
    tm = torch.nn.Conv2d(3, 2, 3, groups=1).double()
    gm = gv.nn.LazyConv2d(2, 3).double()
    gm.load_state_dict({k: gv.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    assert type(gm) is gv.nn.Conv2d and gm.in_channels == 3
    x = R.standard_normal((1, 3, 5, 5))
    np.testing.assert_allclose(gm(gv.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="first call needs the input"):
        gv.nn.LazyLinear(2)()


@pytest.mark.parametrize("name", ["LazyLinear", "LazyBatchNorm1d", "LazyConv2d"])
def test_lazy_state_dict_before_the_first_call_is_uninitialised_like_torch(name):
    """Before its first call a lazy module's state_dict holds uninitialised entries (shown as
    torch shows them); another lazy module loads them and stays lazy; a built module refuses
    them with torch's message. Before: empty tensors, and the lazy load failed."""
    seen = []
    for lib in (gv, torch):
        make = getattr(lib.nn, name)
        args = () if name == "LazyBatchNorm1d" else (3,) if name == "LazyLinear" else (3, 2)
        sd = make(*args).state_dict()
        other = make(*args)
        keys = repr(other.load_state_dict(sd))
        built = {"LazyLinear": lambda: lib.nn.Linear(4, 3),
                 "LazyBatchNorm1d": lambda: lib.nn.BatchNorm1d(4),
                 "LazyConv2d": lambda: lib.nn.Conv2d(4, 3, 2)}[name]()
        with pytest.raises(RuntimeError) as err:
            built.load_state_dict(sd)
        seen.append(([f"{k}={v!r}" for k, v in sd.items()], keys, repr(other.weight),
                     str(err.value)))
    assert seen[0] == seen[1]
