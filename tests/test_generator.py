"""gv.Generator (torch.Generator): private random streams for rand/randn/randint/randperm,
the in-place fills, bernoulli/multinomial/normal, random_split and DataLoader; the default
generator and its state (get_rng_state/set_rng_state)."""
import pytest
import torch

import gradviz as gv


def _draws(g):
    return [gv.rand(2, generator=g), gv.randn(2, generator=g), gv.randint(0, 9, (3,), generator=g),
            gv.randperm(5, generator=g), gv.zeros(2).uniform_(generator=g),
            gv.zeros(2).normal_(generator=g), gv.zeros(2).exponential_(generator=g),
            gv.zeros(4).random_(0, 9, generator=g), gv.full((3,), 0.5).bernoulli(generator=g),
            gv.tensor([0.2, 0.8]).multinomial(2, generator=g),
            gv.normal(0.0, 1.0, size=(2,), generator=g)]


def test_a_seeded_generator_repeats_its_stream_and_leaves_the_default_one_alone():
    gv.manual_seed(0)
    base = gv.rand(3)
    g = gv.Generator().manual_seed(42)
    first = [t.tolist() for t in _draws(g)]
    g.manual_seed(42)
    assert [t.tolist() for t in _draws(g)] == first
    assert g.initial_seed() == 42
    gv.manual_seed(0)
    _draws(gv.Generator().manual_seed(7))
    assert gv.rand(3).tolist() == base.tolist()      # private streams do not touch it


def test_random_split_and_data_loader_shuffle_repeat_with_a_generator():
    ds = gv.data.TensorDataset(gv.arange(20))

    def split():
        parts = gv.data.random_split(ds, [0.75, 0.25], generator=gv.Generator().manual_seed(42))
        return [list(p.indices) for p in parts]

    def order():
        dl = gv.data.DataLoader(ds, batch_size=6, shuffle=True,
                                generator=gv.Generator().manual_seed(1))
        return [b[0].tolist() for b in dl]

    assert split() == split() and sorted(sum(split(), [])) == list(range(20))
    assert order() == order() and sorted(sum(order(), [])) == list(range(20))
    tsplit = torch.utils.data.random_split(torch.utils.data.TensorDataset(torch.arange(20)),
                                           [0.75, 0.25], generator=torch.Generator().manual_seed(42))
    assert [len(p) for p in tsplit] == [len(p) for p in split()]


def test_states_round_trip_and_the_default_generator():
    st = gv.get_rng_state()
    assert st.dtype == gv.uint8 and st.ndim == 1
    a = gv.rand(4)
    gv.set_rng_state(st)
    assert gv.rand(4).tolist() == a.tolist()
    g = gv.Generator()
    s = g.get_state()
    b = gv.randn(3, generator=g)
    g.set_state(s)
    assert gv.randn(3, generator=g).tolist() == b.tolist()
    assert gv.manual_seed(5) is gv.default_generator and gv.initial_seed() == 5
    assert isinstance(torch.manual_seed(5), torch.Generator)
    assert gv.default_generator.initial_seed() == 5
    x = gv.rand(2)
    gv.default_generator.manual_seed(5)
    assert gv.rand(2).tolist() == x.tolist()
    new = g.seed()
    assert g.initial_seed() == new
    with pytest.raises(ValueError, match="generator state"):
        gv.set_rng_state(gv.tensor([1, 2, 3], dtype=gv.uint8))
    with pytest.raises(ValueError, match="gv.Generator"):
        gv.rand(2, generator="seed 3")


@pytest.mark.parametrize("enabled", [True, False])
def test_random_fork_rng_restores_the_stream_like_torch(enabled):
    """gv.random is torch.random: fork_rng(enabled=True) leaves the outer stream where it
    was; enabled=False lets the block's draws advance it."""
    seen = []
    for lib in (gv, torch):
        lib.random.manual_seed(7)
        plain = lib.rand(4).tolist()
        lib.random.manual_seed(7)
        with lib.random.fork_rng(enabled=enabled):
            lib.rand(3)
        seen.append(lib.rand(4).tolist() == plain)
    assert seen == [enabled, enabled]
    assert gv.random.initial_seed() == 7 and gv.random.default_generator is gv.default_generator
