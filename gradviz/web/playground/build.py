"""Data and models of a clean playground spec (see ``spec.validate``).

Image datasets: ``digits`` ships with gradviz; MNIST and CIFAR-10 are read from
``$GRADVIZ_DATA`` (default ``~/.gradviz/data``) and are offered only when their
files are there (``available_datasets`` says why not otherwise).
"""
import os

import numpy as np

from ...errors import GradvizError
from .spec import TOY


def data_root():
    """Where MNIST/CIFAR-10 files are looked for."""
    return os.environ.get("GRADVIZ_DATA") or os.path.join(os.path.expanduser("~"), ".gradviz",
                                                          "data")


def available_datasets():
    """``[{name, label, available, reason, kind}]`` for the dataset picker."""
    from gradviz.data import CIFAR10, MNIST
    rows = [{"name": n, "label": n, "available": True, "reason": None, "kind": "2d"}
            for n in TOY]
    rows.append({"name": "digits", "label": "digits (8×8 images, offline)", "available": True,
                 "reason": None, "kind": "image"})
    rows.append({"name": "digits_rows", "label": "digits as sequences (8 rows × 8)",
                 "available": True, "reason": None, "kind": "sequence"})
    for name, cls in (("mnist", MNIST), ("cifar10", CIFAR10)):
        row = {"name": name, "label": "MNIST" if name == "mnist" else "CIFAR-10",
               "available": True, "reason": None, "kind": "image"}
        try:
            cls(data_root(), train=True)
        except Exception as e:  # DatasetNotFoundError and friends: say why
            row["available"], row["reason"] = False, str(e)
        rows.append(row)
    return rows


def load_arrays(ds):
    """``(X_train, y_train, X_test, y_test)`` NumPy arrays (float32, int64) of a clean spec."""
    import gradviz.data as gd
    name = ds["name"]
    if name in TOY:
        fn = getattr(gd, name)
        kw = {"classes": ds["classes"]} if name == "spiral" else {}
        X, y = fn(ds["n"], noise=ds["noise"], seed=ds["seed"], **kw)
        X, y = X.numpy(), y.numpy()
    elif name in ("digits", "digits_rows"):
        X, y = gd.digits("all", flatten=False)
        X, y = X.numpy(), y.numpy()
        if name == "digits_rows":
            X = X.reshape(len(X), 8, 8)
    else:
        cls = gd.MNIST if name == "mnist" else gd.CIFAR10
        d = cls(data_root(), train=True)
        raw = d.data.numpy()
        X = raw[:, None] if name == "mnist" else raw.transpose(0, 3, 1, 2)
        y = d.targets.numpy()
    rng = np.random.default_rng(ds["seed"])
    order = rng.permutation(len(y))
    if ds.get("n") and name not in TOY:
        order = order[:ds["n"]]
    n_test = max(1, int(round(len(order) * ds["test_split"])))
    te, tr = order[:n_test], order[n_test:]

    def f32(a):   # only the chosen rows are converted
        return a.astype(np.float32) / np.float32(255.0) if a.dtype == np.uint8 \
            else a.astype(np.float32)
    return f32(X[tr]), y[tr].astype(np.int64), f32(X[te]), y[te].astype(np.int64)


def make_last_step():
    """The ``LastStep`` module class (defined lazily so gv.nn loads on first use)."""
    from gradviz import nn

    class LastStepRNN(nn.Module):
        """Runs a batch-first recurrent layer and keeps the output of the last time step."""

        def __init__(self, rnn):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            out, _ = self.rnn(x)
            return out[:, -1]

    return LastStepRNN


def build_model(spec):
    """A ``gv.nn.Sequential`` of a clean spec (shapes were checked by ``validate``)."""
    from gradviz import nn
    mods, shapes = [], spec["shapes"]
    last_step = None
    for i, layer in enumerate(spec["layers"]):
        t, shape = layer["type"], shapes[i]
        if t == "Linear":
            mods.append(nn.Linear(shape[0], layer["out_features"], bias=layer["bias"]))
        elif t in ("Conv1d", "Conv2d"):
            mods.append(getattr(nn, t)(shape[0], layer["out_channels"], layer["kernel_size"],
                                       stride=layer["stride"], padding=layer["padding"]))
        elif t.startswith("Adaptive"):
            mods.append(getattr(nn, t)(layer["output_size"]))
        elif "Pool" in t:
            mods.append(getattr(nn, t)(layer["kernel_size"], stride=layer["stride"]))
        elif t == "Flatten":
            mods.append(nn.Flatten())
        elif t == "Dropout":
            mods.append(nn.Dropout(layer["p"]))
        elif t == "BatchNorm":
            mods.append((nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[0]))
        elif t == "LayerNorm":
            mods.append(nn.LayerNorm(shape[-1]))
        elif t == "GroupNorm":
            mods.append(nn.GroupNorm(layer["num_groups"], shape[0]))
        elif t == "TransformerEncoderLayer":
            mods.append(nn.TransformerEncoderLayer(
                shape[1], layer["nhead"], dim_feedforward=layer["dim_feedforward"],
                dropout=layer["dropout"], batch_first=True))
        elif t in ("RNN", "LSTM", "GRU"):
            last_step = last_step or make_last_step()
            mods.append(last_step(getattr(nn, t)(shape[1], layer["hidden_size"],
                                                 num_layers=layer["num_layers"],
                                                 batch_first=True)))
        else:
            mods.append(getattr(nn, t)())
    if not mods:
        raise GradvizError("a model needs at least one layer")
    return nn.Sequential(*mods)


def loss_function(name):
    """``loss(logits, target)`` for a spec's loss name."""
    from gradviz.nn import functional as F
    if name == "cross_entropy":
        return F.cross_entropy
    if name == "nll_after_log_softmax":
        return lambda out, y: F.nll_loss(F.log_softmax(out, dim=1), y)

    def mse_onehot(out, y):
        return F.mse_loss(out, F.one_hot(y, out.shape[1]).float())
    return mse_onehot
