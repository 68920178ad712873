"""Model specs for server-run jobs: validated against the limits before allocation.

This is the small core the playground builds on: toy 2-D datasets, a stack of
Linear layers and activations, a loss and an optimizer. Anything unknown or
over a limit is an ``ApiError`` naming the field.
"""
import math

from .limits import ApiError, check_limit

DATASETS = ("spiral", "circles", "moons", "xor", "gaussians")
ACTIVATIONS = ("ReLU", "Tanh", "Sigmoid", "LeakyReLU", "GELU", "ELU", "SiLU", "Softplus",
               "Identity")
LOSSES = ("cross_entropy",)
OPTIMIZERS = {"SGD": ("lr", "momentum", "weight_decay", "nesterov", "dampening"),
              "Adam": ("lr", "betas", "eps", "weight_decay"),
              "AdamW": ("lr", "betas", "eps", "weight_decay"),
              "RMSprop": ("lr", "alpha", "eps", "weight_decay", "momentum"),
              "Adagrad": ("lr", "weight_decay", "eps")}


def _num(value, field, lo, hi, integer=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and \
        (not integer or isinstance(value, int)) and math.isfinite(value) and lo <= value <= hi
    if not ok:
        kind = "an integer" if integer else "a number"
        raise ApiError("BAD_SPEC", f"{field} must be {kind} between {lo} and {hi}")
    return value


def validate_spec(spec, limits):
    """A clean copy of a model spec, or ``ApiError``/``LimitError``; allocates nothing."""
    if not isinstance(spec, dict):
        raise ApiError("BAD_SPEC", "a model spec is a JSON object")
    ds = spec.get("dataset", "spiral")
    if isinstance(ds, str):
        ds = {"name": ds}
    if not isinstance(ds, dict) or ds.get("name") not in DATASETS:
        raise ApiError("BAD_SPEC", f"dataset.name must be one of {DATASETS}")
    n = ds.get("n", 200)
    check_limit(n if isinstance(n, int) else 0, limits, "max_samples", "TOO_MANY_SAMPLES",
                "dataset.n")
    dataset = {"name": ds["name"], "n": _num(n, "dataset.n", 2, limits["max_samples"], True),
               "noise": _num(ds.get("noise", 0.1), "dataset.noise", 0.0, 10.0)}
    if ds["name"] == "spiral":
        dataset["classes"] = _num(ds.get("classes", 2), "dataset.classes", 2, 10, True)
    layers = spec.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ApiError("BAD_SPEC", "layers must be a non-empty list")
    check_limit(len(layers), limits, "max_layers", "TOO_MANY_LAYERS", "the number of layers")
    clean, width, params = [], 2, 0
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("type"), str):
            raise ApiError("BAD_SPEC", f"layer {i} must be an object with a 'type'")
        t = layer["type"]
        if t == "Linear":
            out = layer.get("out_features")
            if isinstance(out, int) and not isinstance(out, bool):
                check_limit(out, limits, "max_width", "LAYER_TOO_WIDE",
                            f"layer {i} out_features")
            out = _num(out, f"layer {i} out_features", 1, limits["max_width"], True)
            params += width * out + out
            width = out
            clean.append({"type": "Linear", "out_features": out})
        elif t in ACTIVATIONS:
            clean.append({"type": t})
        elif t == "Dropout":
            clean.append({"type": t, "p": _num(layer.get("p", 0.5), f"layer {i} p", 0.0, 1.0)})
        else:
            raise ApiError("BAD_SPEC", f"layer {i}: unknown layer type {t!r}; known: "
                                       f"Linear, Dropout, {', '.join(ACTIVATIONS)}")
    check_limit(params, limits, "max_params", "TOO_MANY_PARAMS", "the model's parameter count")
    loss = spec.get("loss", "cross_entropy")
    if loss not in LOSSES:
        raise ApiError("BAD_SPEC", f"loss must be one of {LOSSES}")
    opt = spec.get("optimizer", {"type": "SGD", "lr": 0.1})
    if not isinstance(opt, dict) or opt.get("type") not in OPTIMIZERS:
        raise ApiError("BAD_SPEC", f"optimizer.type must be one of {tuple(OPTIMIZERS)}")
    allowed = OPTIMIZERS[opt["type"]]
    optimizer = {"type": opt["type"]}
    for k, v in opt.items():
        if k == "type":
            continue
        if k not in allowed:
            raise ApiError("BAD_SPEC", f"optimizer {opt['type']} has no setting {k!r}")
        if k == "nesterov":
            optimizer[k] = bool(v)
        elif k == "betas":
            if not isinstance(v, list) or len(v) != 2:
                raise ApiError("BAD_SPEC", "optimizer.betas must be two numbers")
            optimizer[k] = tuple(_num(b, "optimizer.betas", 0.0, 0.999999) for b in v)
        else:
            optimizer[k] = _num(v, f"optimizer.{k}", 0.0, 1e3)
    optimizer.setdefault("lr", 0.1)
    steps = spec.get("steps", 1000)
    if isinstance(steps, int) and not isinstance(steps, bool):
        check_limit(steps, limits, "max_steps", "TOO_MANY_STEPS", "steps")
    steps = _num(steps, "steps", 1, limits["max_steps"], True)
    bs = spec.get("batch_size")
    if bs is not None:
        bs = _num(bs, "batch_size", 1, dataset["n"], True)
    seed = spec.get("seed", 0)
    if seed is not None:
        seed = _num(seed, "seed", 0, 2**31 - 1, True)
    title = spec.get("title")
    title = title[:100] if isinstance(title, str) else f"MLP on {dataset['name']}"
    return {"title": title, "dataset": dataset, "layers": clean, "loss": loss,
            "optimizer": optimizer, "steps": steps, "batch_size": bs, "seed": seed}


def build_model(spec, in_features, classes):
    """``gv.nn.Sequential`` of a validated spec; the last Linear keeps its width."""
    from gradviz import nn
    mods, width = [], in_features
    for layer in spec["layers"]:
        t = layer["type"]
        if t == "Linear":
            mods.append(nn.Linear(width, layer["out_features"]))
            width = layer["out_features"]
        elif t == "Dropout":
            mods.append(nn.Dropout(layer["p"]))
        else:
            mods.append(getattr(nn, t)())
    if width != classes:
        raise ApiError("BAD_SPEC", f"the last Linear layer has {width} outputs but the "
                                   f"dataset has {classes} classes")
    return nn.Sequential(*mods)
