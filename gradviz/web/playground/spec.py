"""Validation of playground specs: types, ranges, shapes layer by layer and limits.

``validate(spec, limits)`` returns a clean copy (every default filled in, plus the
inferred ``shapes`` and ``params``) or raises ``SpecError``/``SpecLimitError``
whose payload carries ``field`` (e.g. ``layers[2].kernel_size``) and, for layer
problems, ``layer`` (its index). Nothing is allocated: shapes are computed with
integer arithmetic only. The older runner spec format (``steps``, no ``epochs``)
is accepted as well.
"""
import math

from ..limits import ApiError

TOY = ("spiral", "circles", "moons", "xor", "gaussians")
IMAGES = ("digits", "digits_rows", "mnist", "cifar10")
DATASETS = TOY + IMAGES
ACTIVATIONS = ("ReLU", "Tanh", "Sigmoid", "LeakyReLU", "GELU", "ELU", "SiLU", "Softplus",
               "Identity")
POOLS = ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "SumPool1d", "SumPool2d")
ADAPTIVE = ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d")
RNNS = ("RNN", "LSTM", "GRU")
LAYERS = ("Linear", "Conv1d", "Conv2d") + POOLS + ADAPTIVE + (
    "Flatten", "Dropout", "BatchNorm", "LayerNorm", "GroupNorm") + RNNS + (
    "TransformerEncoderLayer",) + ACTIVATIONS
LOSSES = ("cross_entropy", "nll_after_log_softmax", "mse_onehot")
OPTIMIZERS = {"SGD": ("lr", "momentum", "weight_decay", "nesterov", "dampening"),
              "Adam": ("lr", "betas", "eps", "weight_decay"),
              "AdamW": ("lr", "betas", "eps", "weight_decay"),
              "RMSprop": ("lr", "alpha", "eps", "weight_decay", "momentum"),
              "Adagrad": ("lr", "weight_decay", "eps"),
              "NAdam": ("lr", "betas", "eps", "weight_decay", "momentum_decay"),
              "RAdam": ("lr", "betas", "eps", "weight_decay"),
              "Adamax": ("lr", "betas", "eps", "weight_decay"),
              "Adadelta": ("lr", "rho", "eps", "weight_decay")}
# the playground's own limits (a server's ``limits`` may override any of them)
PLAYGROUND_LIMITS = {"max_kernel": 15, "max_epochs": 1000, "max_rnn_layers": 4,
                     "max_batch_size": 4096, "max_activation_elements": 20_000_000,
                     "max_boundary_grid": 80}


class SpecError(ApiError):
    """A bad playground spec; the payload names the ``field`` (and ``layer``) at fault."""

    def __init__(self, code, message, field=None, layer=None, limit=None, status=None):
        super().__init__(code, message, limit=limit, status=status)
        self.field = field
        self.layer = layer

    def payload(self):
        """``{"error": {code, message, field, layer?, limit?}}``."""
        p = super().payload()
        p["error"]["field"] = self.field
        if self.layer is not None:
            p["error"]["layer"] = self.layer
        return p


class SpecLimitError(SpecError):
    """A spec over one of the server's limits (413-like)."""

    status = 413


def limit_of(limits, name):
    """A limit from the server's ``limits`` or the playground defaults."""
    return limits.get(name, PLAYGROUND_LIMITS.get(name))


def _limit(value, limits, name, code, what, field, layer=None):
    lim = limit_of(limits, name)
    if value > lim:
        raise SpecLimitError(code, f"{what} is {value}, over the server's limit of {lim} ({name})",
                             field=field, layer=layer, limit={"name": name, "value": lim})


def _got(value):
    """What the user gave, for a message: a value left out or blank reads "empty", not None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "empty"
    return f"got {value!r}" if not isinstance(value, (dict, list)) else \
        f"got {type(value).__name__}"


def _num(value, field, lo, hi, integer=False, layer=None, label=None):
    """``label``: how the message names the value (a layer's: "layer 1 (Linear) out_features",
    counted from 1 as the builder's rows are; ``field`` keeps the 0-based JSON path)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and \
        (not integer or isinstance(value, int) or (isinstance(value, float) and
                                                   value.is_integer())) and \
        math.isfinite(value) and lo <= value <= hi
    if not ok:
        kind = "an integer" if integer else "a number"
        raise SpecError("BAD_SPEC", f"{label or field} must be {kind} between {lo} and {hi} "
                        f"({_got(value)})", field=field, layer=layer)
    return int(value) if integer else float(value)


def _bool(value, field, layer=None, label=None):
    if not isinstance(value, bool):
        raise SpecError("BAD_SPEC", f"{label or field} must be true or false ({_got(value)})",
                        field=field, layer=layer)
    return value


def dataset_shape(ds):
    """``(input shape without the batch, classes)`` of a clean dataset spec."""
    name = ds["name"]
    if name in TOY:
        return (2,), ds.get("classes", 2) if name == "spiral" else (4 if name == "gaussians"
                                                                   else 2)
    return {"digits": ((1, 8, 8), 10), "digits_rows": ((8, 8), 10), "mnist": ((1, 28, 28), 10),
            "cifar10": ((3, 32, 32), 10)}[name]


def _dataset(ds, limits):
    if isinstance(ds, str):
        ds = {"name": ds}
    if not isinstance(ds, dict):
        raise SpecError("BAD_SPEC", "dataset must be an object {name, n, noise, ...}",
                        field="dataset")
    name = ds.get("name")
    if name not in DATASETS:
        raise SpecError("BAD_SPEC", f"dataset.name must be one of {', '.join(DATASETS)} "
                        f"(got {name!r})", field="dataset.name")
    out = {"name": name}
    if name in TOY:
        n = ds.get("n", 400)
        if isinstance(n, int) and not isinstance(n, bool):
            _limit(n, limits, "max_samples", "TOO_MANY_SAMPLES", "dataset.n", "dataset.n")
        out["n"] = _num(n, "dataset.n", 8, limits["max_samples"], True)
        out["noise"] = _num(ds.get("noise", 0.1), "dataset.noise", 0.0, 10.0)
        if name == "spiral":
            out["classes"] = _num(ds.get("classes", 2), "dataset.classes", 2, 10, True)
    else:
        n = ds.get("n")
        if n is not None:   # a subset of the training images
            if isinstance(n, int) and not isinstance(n, bool):
                _limit(n, limits, "max_samples", "TOO_MANY_SAMPLES", "dataset.n", "dataset.n")
            n = _num(n, "dataset.n", 10, limits["max_samples"], True)
        elif name in ("mnist", "cifar10"):   # at most max_samples images (checked, not loaded)
            n = min({"mnist": 60000, "cifar10": 50000}[name], limits["max_samples"])
        out["n"] = n
    out["test_split"] = _num(ds.get("test_split", 0.2), "dataset.test_split", 0.05, 0.9)
    out["seed"] = _num(ds.get("seed", 0), "dataset.seed", 0, 2**31 - 1, True)
    return out


def _conv_out(size, k, s, p, field, i, t):
    o = (size + 2 * p - k) // s + 1
    if size + 2 * p < k:
        raise SpecError("SHAPE_MISMATCH", f"layer {i + 1} ({t}): kernel {k} is larger than its "
                        f"input ({size} + 2×padding {p})", field=field, layer=i)
    return o


def _layer(i, layer, shape, limits):
    """``(clean layer, output shape, parameter count)`` for layer ``i`` given its input shape."""
    f = f"layers[{i}]"
    if not isinstance(layer, dict) or not isinstance(layer.get("type"), str):
        raise SpecError("BAD_SPEC", f"layer {i + 1} must be an object with a 'type'",
                        field=f, layer=i)
    t = layer["type"]
    if t not in LAYERS and t not in ("BatchNorm1d", "BatchNorm2d"):
        raise SpecError("BAD_SPEC", f"layer {i + 1}: unknown layer type {t!r}; known: "
                        f"{', '.join(LAYERS)}", field=f + ".type", layer=i)
    name = f"layer {i + 1} ({t})"
    shp = _fmt(shape)

    def need(ndim, what):
        if len(shape) != ndim:
            raise SpecError("SHAPE_MISMATCH", f"{name} expects {what}, but its input has shape "
                            f"{shp}{_hint(ndim, shape)}", field=f, layer=i)

    def geti(key, default, lo, hi, lim=None, code=None):
        v = layer.get(key, default)
        if lim and isinstance(v, int) and not isinstance(v, bool):
            _limit(v, limits, lim, code, f"{name} {key}", f"{f}.{key}", i)
        return _num(v, f"{f}.{key}", lo, hi if not lim else limit_of(limits, lim), True, i,
                    f"{name} {key}")

    width = limit_of(limits, "max_width")
    if t == "Linear":
        need(1, "a flat input (features,)")
        out = geti("out_features", None, 1, width, "max_width", "LAYER_TOO_WIDE")
        bias = _bool(layer.get("bias", True), f + ".bias", i, f"{name} bias")
        return {"type": t, "out_features": out, "bias": bias}, (out,), \
            shape[0] * out + (out if bias else 0)
    if t in ("Conv1d", "Conv2d"):
        nd = 1 if t == "Conv1d" else 2
        need(nd + 1, f"(channels, {'length' if nd == 1 else 'height, width'})")
        out = geti("out_channels", None, 1, width, "max_width", "LAYER_TOO_WIDE")
        k = geti("kernel_size", 3, 1, None, "max_kernel", "KERNEL_TOO_LARGE")
        s = geti("stride", 1, 1, 8)
        p = geti("padding", 0, 0, 8)
        spatial = tuple(_conv_out(d, k, s, p, f + ".kernel_size", i, t) for d in shape[1:])
        return {"type": t, "out_channels": out, "kernel_size": k, "stride": s, "padding": p}, \
            (out,) + spatial, shape[0] * out * k ** nd + out
    if t in POOLS:
        nd = int(t[-2])
        need(nd + 1, f"(channels, {'length' if nd == 1 else 'height, width'})")
        k = geti("kernel_size", 2, 1, None, "max_kernel", "KERNEL_TOO_LARGE")
        s = geti("stride", k, 1, 16)
        spatial = tuple(_conv_out(d, k, s, 0, f + ".kernel_size", i, t) for d in shape[1:])
        return {"type": t, "kernel_size": k, "stride": s}, (shape[0],) + spatial, 0
    if t in ADAPTIVE:
        nd = int(t[-2])
        need(nd + 1, f"(channels, {'length' if nd == 1 else 'height, width'})")
        o = geti("output_size", 4, 1, 64)
        return {"type": t, "output_size": o}, (shape[0],) + (o,) * nd, 0
    if t == "Flatten":
        return {"type": t}, (math.prod(shape),), 0
    if t == "Dropout":
        return {"type": t, "p": _num(layer.get("p", 0.5), f + ".p", 0.0, 0.99, layer=i,
                                             label=f"{name} p")}, shape, 0
    if t in ("BatchNorm", "BatchNorm1d", "BatchNorm2d"):
        if len(shape) not in (1, 2, 3):
            raise SpecError("SHAPE_MISMATCH", f"{name} needs (features,), (channels, length) or "
                            f"(channels, height, width); its input has shape {shp}",
                            field=f, layer=i)
        kind = "BatchNorm2d" if len(shape) == 3 else "BatchNorm1d"
        if t != "BatchNorm" and t != kind:
            raise SpecError("SHAPE_MISMATCH", f"{name} does not fit an input of shape {shp}; "
                            f"use {kind} (or 'BatchNorm', which picks it)", field=f + ".type",
                            layer=i)
        return {"type": "BatchNorm"}, shape, 2 * shape[0]
    if t == "LayerNorm":
        return {"type": t}, shape, 2 * shape[-1]
    if t == "GroupNorm":
        g = geti("num_groups", 2, 1, width)
        if shape[0] % g:
            raise SpecError("SHAPE_MISMATCH", f"{name}: num_groups {g} must divide the input's "
                            f"{shape[0]} channels", field=f + ".num_groups", layer=i)
        return {"type": t, "num_groups": g}, shape, 2 * shape[0]
    if t == "TransformerEncoderLayer":
        need(2, "a sequence (time steps, features), e.g. the digits_rows dataset")
        d = shape[1]
        heads = geti("nhead", 2, 1, d)
        if d % heads:
            raise SpecError("SHAPE_MISMATCH", f"{name}: nhead {heads} must divide the "
                            f"{d} features of each time step", field=f + ".nhead", layer=i)
        ff = geti("dim_feedforward", 32, 1, width, "max_width", "LAYER_TOO_WIDE")
        p = _num(layer.get("dropout", 0.0), f + ".dropout", 0.0, 0.99, layer=i,
                 label=f"{name} dropout")
        # attention (in and out projections), feed-forward block, two LayerNorms
        params = 4 * d * d + 4 * d + 2 * d * ff + ff + d + 4 * d
        return {"type": t, "nhead": heads, "dim_feedforward": ff, "dropout": p}, shape, params
    if t in RNNS:
        need(2, "a sequence (time steps, features), e.g. the digits_rows dataset")
        hidden = geti("hidden_size", 32, 1, width, "max_width", "LAYER_TOO_WIDE")
        nl = geti("num_layers", 1, 1, None, "max_rnn_layers", "TOO_MANY_LAYERS")
        gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[t]
        params, fin = 0, shape[1]
        for _ in range(nl):
            params += gates * hidden * (fin + hidden + 2)
            fin = hidden
        return {"type": t, "hidden_size": hidden, "num_layers": nl}, (hidden,), params
    # activations
    return {"type": t}, shape, 0


def _fmt(shape):
    return "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def _hint(ndim, shape):
    if ndim == 1 and len(shape) > 1:
        return ": add a Flatten layer before it"
    if ndim > 1 and len(shape) == 1:
        return ": convolutions, pools and RNNs need image or sequence data (e.g. digits)"
    return ""


def _optimizer(opt):
    if opt is None:
        opt = {"type": "SGD", "lr": 0.1}
    if not isinstance(opt, dict) or opt.get("type") not in OPTIMIZERS:
        raise SpecError("BAD_SPEC", f"optimizer.type must be one of {', '.join(OPTIMIZERS)}",
                        field="optimizer.type")
    allowed = OPTIMIZERS[opt["type"]]
    out = {"type": opt["type"]}
    for k, v in opt.items():
        if k == "type":
            continue
        fld = f"optimizer.{k}"
        if k not in allowed:
            raise SpecError("BAD_SPEC", f"optimizer {opt['type']} has no setting {k!r} (it has "
                            f"{', '.join(allowed)})", field=fld)
        if k == "nesterov":
            out[k] = _bool(v, fld)
        elif k == "betas":
            if not isinstance(v, (list, tuple)) or len(v) != 2:
                raise SpecError("BAD_SPEC", "optimizer.betas must be two numbers", field=fld)
            out[k] = [_num(b, fld, 0.0, 0.999999) for b in v]
        elif k == "lr":
            out[k] = _num(v, fld, 1e-8, 10.0)
        elif k == "eps":
            out[k] = _num(v, fld, 1e-12, 1.0)
        else:
            out[k] = _num(v, fld, 0.0,
                          1.0 if k in ("momentum", "alpha", "dampening", "rho") else 10.0)
    out.setdefault("lr", 0.1)
    if out.get("nesterov") and not out.get("momentum"):
        raise SpecError("BAD_SPEC", "SGD with nesterov needs a momentum above 0",
                        field="optimizer.momentum")
    return out


def validate(spec, limits):
    """A clean copy of a playground spec, or ``SpecError``; allocates nothing."""
    if not isinstance(spec, dict):
        raise SpecError("BAD_SPEC", "a model spec is a JSON object", field=None)
    unknown = set(spec) - {"title", "dataset", "layers", "loss", "optimizer", "batch_size",
                           "epochs", "steps", "seed", "boundary_every", "eval_every",
                           "max_seconds", "version"}
    if unknown:
        k = sorted(unknown)[0]
        raise SpecError("BAD_SPEC", f"unknown spec field {k!r}", field=k)
    ds = _dataset(spec.get("dataset", "spiral"), limits)
    in_shape, classes = dataset_shape(ds)
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers:
        raise SpecError("BAD_SPEC", "layers must be a non-empty list", field="layers")
    _limit(len(layers), limits, "max_layers", "TOO_MANY_LAYERS", "the number of layers",
           "layers")
    clean, shapes, params, act, shape = [], [list(in_shape)], 0, math.prod(in_shape), in_shape
    for i, layer in enumerate(layers):
        c, shape, p = _layer(i, layer, shape, limits)
        clean.append(c)
        shapes.append(list(shape))
        params += p
        act += math.prod(shape)
        _limit(params, limits, "max_params", "TOO_MANY_PARAMS",
               f"the parameter count up to layer {i + 1} ({c['type']})", f"layers[{i}]", i)
    if len(shape) != 1 or shape[0] != classes:
        last = len(layers) - 1
        shp = _fmt(shape)
        raise SpecError("SHAPE_MISMATCH", f"the model ends with shape {shp} but the dataset "
                        f"{ds['name']} has {classes} classes: the last layer must output "
                        f"({classes},)", field=f"layers[{last}]", layer=last)
    loss = spec.get("loss", "cross_entropy")
    if loss not in LOSSES:
        raise SpecError("BAD_SPEC", f"loss must be one of {', '.join(LOSSES)}", field="loss")
    optimizer = _optimizer(spec.get("optimizer"))
    n_train = _train_size(ds)
    bs = spec.get("batch_size")
    if bs is None:
        bs = n_train if ds["name"] in TOY else 64
    if isinstance(bs, int) and not isinstance(bs, bool):
        _limit(bs, limits, "max_batch_size", "BATCH_TOO_LARGE", "batch_size", "batch_size")
    bs = min(_num(bs, "batch_size", 1, limit_of(limits, "max_batch_size"), True), n_train)
    _limit(act * bs, limits, "max_activation_elements", "ACTIVATIONS_TOO_LARGE",
           "the activations of one batch (elements)", "batch_size")
    per_epoch = -(-n_train // bs)
    if "epochs" in spec or "steps" not in spec:
        ep = spec.get("epochs", 20)
        if isinstance(ep, int) and not isinstance(ep, bool):
            _limit(ep, limits, "max_epochs", "TOO_MANY_EPOCHS", "epochs", "epochs")
        epochs = _num(ep, "epochs", 1, limit_of(limits, "max_epochs"), True)
        steps = epochs * per_epoch
    else:
        steps = spec["steps"]
        if not (isinstance(steps, int) and not isinstance(steps, bool)):
            _num(steps, "steps", 1, limits["max_steps"], True)
        epochs = -(-steps // per_epoch)
    _limit(steps, limits, "max_steps", "TOO_MANY_STEPS", "the job's training steps "
           f"({epochs} epochs × {per_epoch} batches)", "epochs" if "epochs" in spec else "steps")
    steps = _num(steps, "steps", 1, limits["max_steps"], True)
    secs = _num(spec.get("max_seconds", limits["max_job_seconds"]), "max_seconds", 1,
                limits["max_job_seconds"])
    seed = _num(spec.get("seed", 0) if spec.get("seed") is not None else 0, "seed", 0,
                2**31 - 1, True)
    be = _num(spec.get("boundary_every", 10), "boundary_every", 1, 100000, True)
    ee = _num(spec.get("eval_every", 0 if ds["name"] not in TOY else 10), "eval_every", 0,
              100000, True)
    title = spec.get("title")
    types = {c["type"] for c in clean}
    kind = "CNN" if types & {"Conv1d", "Conv2d"} else "RNN" if types & set(RNNS) else \
        "Transformer" if "TransformerEncoderLayer" in types else "MLP"
    title = title[:100] if isinstance(title, str) and title else f"{kind} on {ds['name']}"
    return {"title": title, "dataset": ds, "layers": clean, "loss": loss,
            "optimizer": optimizer, "batch_size": bs, "epochs": epochs, "steps": steps,
            "seed": seed, "boundary_every": be, "eval_every": ee, "max_seconds": secs,
            "shapes": shapes, "params": params, "classes": classes, "kind": kind}


def default_spec():
    """The builder's starting spec: the model of the server's default session
    (``runner.DEFAULT_SPEC``: data, layers, loss, optimizer, full batches), with a fifth of
    the points held out for the test accuracy and 500 epochs (one step each)."""
    from ..runner import DEFAULT_SPEC
    spec = {k: DEFAULT_SPEC[k] for k in ("dataset", "layers", "loss", "optimizer",
                                         "batch_size", "seed")}
    spec["dataset"] = dict(spec["dataset"], test_split=0.2)
    return dict(spec, epochs=500)


def _train_size(ds):
    total = ds["n"] if ds["name"] in TOY else (ds["n"] or {"digits": 1797, "digits_rows": 1797,
                                                            "mnist": 60000,
                                                            "cifar10": 50000}[ds["name"]])
    return max(1, total - max(1, int(round(total * ds["test_split"]))))
