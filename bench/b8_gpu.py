"""B8: the CuPy backend against NumPy and torch CUDA (only on a machine with an NVIDIA GPU).

Rows: per size from 1e2 to 1e7 elements, ``y = a * b + a`` with grads on (gradviz cuda;
raw CuPy on the same arrays is the peer that shows our own share), as host µs per op (no
synchronisation: the launch cost the Python thread pays) and as wall µs per op including
``synchronize()`` (what decides the crossover against NumPy on the CPU); then one training
step of the B2 MLP (SGD, and Adam: one fused update kernel a parameter) and CNN on the GPU.
Without CuPy or a GPU it returns ``{"skipped": reason}``.
"""
import numpy as np

from bench.harness import alternate, median, row

SIZES = [10 ** k for k in range(2, 8)]
QUICK_SIZES = [10 ** 2, 10 ** 4, 10 ** 6]


def run(quick=False):
    """Measure, or say why not."""
    import gradviz as gv
    if not gv.cuda.is_available():
        from gradviz.engine import backend
        return {"id": "B8", "title": "GPU: CuPy vs NumPy vs torch CUDA",
                "skipped": "no NVIDIA GPU with CuPy: " + str(backend._cupy_error)}
    torch = _torch_cuda()
    rows, notes, crossover = [], [], None
    for n in (QUICK_SIZES if quick else SIZES):
        r, faster = _elementwise(gv, torch, n, quick)
        rows.extend(r)
        if faster and crossover is None:
            crossover = n
    rows.append(row("crossover vs numpy (elements)", crossover or float("nan"), "elements",
                    target="<= 1e5", met=crossover is not None and crossover <= 1e5))
    rows.extend(_steps(gv, torch, quick))
    if torch is None:
        notes.append("torch with CUDA is not installed here: no torch peer")
    notes.append(f"card: {gv.cuda.get_device_name()}")
    return {"id": "B8", "title": "GPU: CuPy vs NumPy vs torch CUDA", "rows": rows,
            "notes": notes}


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _elementwise(gv, torch, n, quick):
    rng = np.random.default_rng(0)
    ha, hb = (rng.standard_normal(n).astype(np.float32) for _ in range(2))
    a, b = gv.tensor(ha, device="cuda", requires_grad=True), gv.tensor(hb, device="cuda")
    sync = gv.cuda.synchronize
    ca, cb = a._data, b._data   # the same device arrays through CuPy alone: what is ours
    fns = {"gradviz": lambda: a * b + a, "cupy": lambda: ca * cb + ca,
           "numpy": lambda: ha * hb + ha}
    if torch is not None:
        ta = torch.tensor(ha, device="cuda", requires_grad=True)
        tb = torch.tensor(hb, device="cuda")
        fns["torch"] = lambda: ta * tb + ta
    host = alternate({k: v for k, v in fns.items() if k != "numpy"}, repeats=5,
                     target_s=0.005 if quick else 0.02)
    sync()
    syncs = {"gradviz": sync, "cupy": sync, "numpy": lambda: None}
    if torch is not None:
        syncs["torch"] = torch.cuda.synchronize
    walls = alternate({k: (lambda f=v, s=syncs[k]: (f(), s())) for k, v in fns.items()},
                      repeats=5, target_s=0.005 if quick else 0.02)
    us = {k: median(v) * 1e6 for k, v in host.items()}
    wall = {k: median(v) * 1e6 for k, v in walls.items()}
    th = us.get("torch")
    peers = {"cupy": us["cupy"], **({"torch cuda": th} if th else {})}
    out = [row(f"a*b+a host µs/op n={n:.0e}", us["gradviz"], "µs", peers=peers,
               target="<= 1.5x torch",
               met=None if th is None else us["gradviz"] <= 1.5 * th),
           row(f"a*b+a wall µs/op n={n:.0e}", wall["gradviz"], "µs",
               peers={k: v for k, v in wall.items() if k != "gradviz"})]
    return out, wall["gradviz"] < wall["numpy"]


def _steps(gv, torch, quick):
    out = []
    rng = np.random.default_rng(0)
    for name, shape, make, tmake, optim in (
            ("MLP 784-128-64-10 b64 step", (64, 784), _mlp, _tmlp, "SGD"),
            ("MLP 784-128-64-10 b64 Adam step", (64, 784), _mlp, _tmlp, "Adam"),
            ("CNN conv8+pool+linear b32 step", (32, 1, 28, 28), _cnn, _tcnn, "SGD")):
        x = rng.standard_normal(shape).astype(np.float32)
        y = rng.integers(0, 10, shape[0])
        gv.manual_seed(0)
        model = make(gv.nn).to("cuda")
        opt = getattr(gv.optim, optim)(model.parameters(), lr=0.01)
        gx, gy = gv.tensor(x, device="cuda"), gv.tensor(y, device="cuda")

        def step(model=model, opt=opt, gx=gx, gy=gy):
            opt.zero_grad()
            gv.nn.functional.cross_entropy(model(gx), gy).backward()
            opt.step()
            gv.cuda.synchronize()
        fns = {"gradviz": step}
        if torch is not None:
            tm = tmake(torch.nn).cuda()
            topt = getattr(torch.optim, optim)(tm.parameters(), lr=0.01)
            tx, ty = torch.tensor(x, device="cuda"), torch.tensor(y, device="cuda")

            def tstep(tm=tm, topt=topt, tx=tx, ty=ty):
                topt.zero_grad()
                torch.nn.functional.cross_entropy(tm(tx), ty).backward()
                topt.step()
                torch.cuda.synchronize()
            fns["torch"] = tstep
        t = {k: median(v) * 1e3 for k, v in alternate(fns, repeats=5,
                                                      target_s=0.02 if quick else 0.1).items()}
        out.append(row(name, t["gradviz"], "ms",
                       peers={"torch cuda": t["torch"]} if "torch" in t else None))
    return out


def _mlp(nn):
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def _cnn(nn):
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(8 * 14 * 14, 10))


_tmlp, _tcnn = _mlp, _cnn  # the same constructors work on torch.nn
