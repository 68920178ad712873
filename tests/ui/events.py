"""Schema events for browser tests: a real traced recording, and big synthetic graphs."""
import numpy as np


def record_mlp(steps=3, batch=16):
    """Trace a tiny hand-written MLP for a few SGD steps; returns the events (no session/seq)."""
    import gradviz as gv
    rng = np.random.default_rng(0)
    params = []
    for name, shape in (("fc1.weight", (2, 8)), ("fc1.bias", (8,)), ("fc2.weight", (8, 3)), ("fc2.bias", (3,))):
        p = gv.tensor((rng.normal(size=shape) * 0.5).astype(np.float32), requires_grad=True)
        p._name = name
        params.append(p)
    w1, b1, w2, b2 = params
    with gv.trace.record() as rec:
        for step in range(steps):
            x = gv.tensor(rng.normal(size=(batch, 2)).astype(np.float32))
            y = gv.tensor(rng.integers(0, 3, batch))
            logits = (x @ w1 + b1).tanh() @ w2 + b2
            loss = -(gv.log_softmax(logits, dim=1).gather(1, y.reshape(batch, 1))).mean()
            loss.backward()
            gv.trace.scalar("loss", float(loss.item()), step)
            with gv.no_grad():
                for p in params:
                    p._data -= 0.5 * p.grad._data
                    p.grad = None
        events = [dict(e) for e in rec.events]
    for e in events:
        e.pop("session", None)
        e.pop("seq", None)
    return events


def synthetic(size, blocks_per_layer=4):
    """About `size` leaf/op events shaped like a residual MLP, with module paths."""
    stats = {"min": 0.0, "max": 1.0, "mean": 0.5, "std": 0.1, "norm": 1.0, "nan": 0, "inf": 0, "zeros": 0}
    events, nid = [], [0]

    def new():
        nid[0] += 1
        return nid[0]

    def leaf(name, shape):
        n = new()
        events.append({"v": 1, "type": "leaf", "node": n, "name": name, "shape": shape, "dtype": "float32",
                       "device": "cpu", "requires_grad": name is not None, "stats": stats, "preview": None})
        return n

    def op(name, inputs, module):
        n = new()
        events.append({"v": 1, "type": "op", "node": n, "op": name, "inputs": inputs, "attrs": {},
                       "shape": [64, 128], "dtype": "float32", "device": "cpu", "stats": stats,
                       "preview": None, "module": module, "src": None})
        return n

    x = leaf(None, [64, 128])
    block = 0
    while len(events) < size - 2:
        mod = f"layer{block // blocks_per_layer}.block{block % blocks_per_layer}"
        skip = x
        w = leaf(f"{mod}.fc.weight", [128, 128])
        b = leaf(f"{mod}.fc.bias", [128])
        x = op("Add", [op("Matmul", [x, w], f"{mod}.fc"), b], f"{mod}.fc")
        x = op("Relu", [op("Add", [x, skip], mod)], mod)
        block += 1
    op("Mean", [x], None)
    return events


def record_conv(channels=4):
    """Trace one step of a tiny conv net (1×1×6×6 → Conv2d(1, channels, 3) → ReLU → mean):
    the conv output (1×channels×4×4, at most 64 values) arrives whole in its preview."""
    import gradviz as gv
    rng = np.random.default_rng(1)
    conv = gv.nn.Conv2d(1, channels, 3)
    x = gv.tensor(rng.normal(size=(1, 1, 6, 6)).astype(np.float32))
    with gv.trace.record() as rec:
        loss = conv(x).relu().mean()
        loss.backward()
        events = [dict(e) for e in rec.events]
    for e in events:
        e.pop("session", None)
        e.pop("seq", None)
    return events


def record_inplace():
    """A traced step whose forward pass changes tensors in place (``y.add_``, ``y[0] = ...``,
    ``total += loss``), as torch code does."""
    import gradviz as gv
    w = gv.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    w._name = "w"
    with gv.trace.record() as rec:
        y = w * 2
        y.add_(1)
        y[0] = y[1] * 3
        total = gv.zeros(())
        total += (y * y).sum()
        total.backward()
        events = [dict(e) for e in rec.events]
    for e in events:
        e.pop("session", None)
        e.pop("seq", None)
    return events


def record_nan(steps=2):
    """A small model whose loss takes the log of negative numbers: a NaN made anew each step
    (its Log is where it starts; what follows only carries it on)."""
    import gradviz as gv
    gv.manual_seed(0)
    model = gv.nn.Sequential(gv.nn.Linear(3, 4), gv.nn.ReLU(), gv.nn.Linear(4, 1))
    with gv.trace.record() as rec:
        for step in range(steps):
            model.zero_grad()
            loss = model(gv.randn(8, 3)).log().mean()
            loss.backward()
            gv.trace.scalar("loss", float(loss.item()), step)
        events = [dict(e) for e in rec.events]
    for e in events:
        e.pop("session", None)
        e.pop("seq", None)
    return events
