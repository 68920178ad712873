"""Playground spec validation: types, ranges, shapes layer by layer, limits (before allocation)."""
import pytest

from gradviz.web.limits import DEFAULT_LIMITS
from gradviz.web.playground.spec import SpecError, SpecLimitError, validate

MLP = [{"type": "Linear", "out_features": 16}, {"type": "ReLU"},
       {"type": "Linear", "out_features": 2}]
CNN = [{"type": "Conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
       {"type": "MaxPool2d"}, {"type": "BatchNorm"}, {"type": "Flatten"},
       {"type": "Dropout", "p": 0.1}, {"type": "Linear", "out_features": 10}]


def err(spec, limits=None):
    with pytest.raises(SpecError) as e:
        validate(spec, dict(DEFAULT_LIMITS, **(limits or {})))
    return e.value.payload()["error"]


def test_good_specs_get_shapes_and_parameter_counts():
    c = validate({"dataset": "circles", "layers": MLP}, DEFAULT_LIMITS)
    assert c["shapes"] == [[2], [16], [16], [2]] and c["params"] == 2 * 16 + 16 + 16 * 2 + 2
    c = validate({"dataset": "digits", "layers": CNN, "batch_size": 64, "epochs": 2},
                 DEFAULT_LIMITS)
    assert c["shapes"][3] == [8, 4, 4] and c["shapes"][-1] == [10]
    assert c["params"] == 8 * 9 + 8 + 16 + 128 * 10 + 10 and c["kind"] == "CNN"
    c = validate({"dataset": "digits_rows", "layers": [{"type": "LSTM", "hidden_size": 8},
                                                       {"type": "LayerNorm"},
                                                       {"type": "Linear", "out_features": 10}]},
                 DEFAULT_LIMITS)
    assert c["shapes"][1] == [8] and c["params"] == 4 * 8 * (8 + 8 + 2) + 16 + 90
    c = validate({"dataset": {"name": "digits"}, "layers": [
        {"type": "Conv2d", "out_channels": 4}, {"type": "SumPool2d", "kernel_size": 2},
        {"type": "AvgPool2d", "kernel_size": 3, "stride": 1}, {"type": "Flatten"},
        {"type": "Linear", "out_features": 10}]}, DEFAULT_LIMITS)
    assert c["shapes"][2:4] == [[4, 3, 3], [4, 1, 1]]


NEW_LAYERS = [
    ("digits", [{"type": "Conv2d", "out_channels": 6, "padding": 1},
                {"type": "GroupNorm", "num_groups": 3}, {"type": "AdaptiveAvgPool2d",
                                                         "output_size": 3},
                {"type": "Flatten"}, {"type": "Linear", "out_features": 10}],
     [[6, 8, 8], [6, 8, 8], [6, 3, 3], [54], [10]]),
    ("digits_rows", [{"type": "AdaptiveAvgPool1d", "output_size": 2}, {"type": "Flatten"},
                     {"type": "Linear", "out_features": 10}], [[8, 2], [16], [10]]),
    ("digits_rows", [{"type": "TransformerEncoderLayer", "nhead": 4, "dim_feedforward": 24},
                     {"type": "Flatten"}, {"type": "Linear", "out_features": 10}],
     [[8, 8], [64], [10]]),
]


@pytest.mark.parametrize("dataset, layers, shapes", NEW_LAYERS)
def test_adaptive_pool_groupnorm_transformer_layers(dataset, layers, shapes):
    """Shapes as the built model gives them, and the parameter count of the built model."""
    import numpy as np

    import gradviz as gv
    from gradviz.web.playground.build import build_model
    c = validate({"dataset": dataset, "layers": layers}, DEFAULT_LIMITS)
    assert c["shapes"][1:] == shapes
    model = build_model(c)
    assert c["params"] == sum(p.numel() for p in model.parameters())
    h = gv.tensor(np.zeros([2] + c["shapes"][0], np.float32))
    for m, shape in zip(model, shapes):
        h = m(h)
        assert list(h.shape) == [2] + shape, m


@pytest.mark.parametrize("opt", [{"type": "NAdam", "lr": 0.01, "momentum_decay": 0.004},
                                 {"type": "RAdam", "betas": [0.9, 0.99]},
                                 {"type": "Adamax", "lr": 0.002, "eps": 1e-8},
                                 {"type": "Adadelta", "lr": 1.0, "rho": 0.9}])
def test_more_optimizers_build_as_gv_optim_has_them(opt):
    from gradviz.web.playground.build import build_model
    from gradviz.web.runner import make_optimizer
    c = validate({"layers": MLP, "optimizer": opt}, DEFAULT_LIMITS)
    o = make_optimizer(build_model(c), c["optimizer"])
    assert type(o).__name__ == opt["type"]
    for k, v in opt.items():
        if k != "type":
            assert o.defaults[k] == (tuple(v) if isinstance(v, list) else v)
    assert err({"layers": MLP, "optimizer": dict(opt, momentum=0.5)})["field"] == \
        "optimizer.momentum"


def test_runner_format_still_accepted():
    from gradviz.web.runner import DEFAULT_SPEC
    c = validate(DEFAULT_SPEC, DEFAULT_LIMITS)
    assert c["steps"] == 2000 and c["dataset"]["classes"] == 3


@pytest.mark.parametrize("spec, code, field", [
    (None, "BAD_SPEC", None),
    ({"layers": []}, "BAD_SPEC", "layers"),
    ({"layers": [{"type": "Warp"}]}, "BAD_SPEC", "layers[0].type"),
    ({"layers": ["Linear"]}, "BAD_SPEC", "layers[0]"),
    ({"dataset": "imagenet", "layers": MLP}, "BAD_SPEC", "dataset.name"),
    ({"dataset": {"name": "circles", "noise": "lots"}, "layers": MLP}, "BAD_SPEC",
     "dataset.noise"),
    ({"dataset": {"name": "circles", "n": 3}, "layers": MLP}, "BAD_SPEC", "dataset.n"),
    ({"layers": [{"type": "Linear", "out_features": 2.5}]}, "BAD_SPEC",
     "layers[0].out_features"),
    ({"layers": [{"type": "Linear", "out_features": True}]}, "BAD_SPEC",
     "layers[0].out_features"),
    ({"layers": [{"type": "Dropout", "p": 1.5}, {"type": "Linear", "out_features": 2}]},
     "BAD_SPEC", "layers[0].p"),
    ({"layers": MLP, "optimizer": {"type": "Lion"}}, "BAD_SPEC", "optimizer.type"),
    ({"layers": MLP, "optimizer": {"type": "SGD", "lr": -1}}, "BAD_SPEC", "optimizer.lr"),
    ({"layers": MLP, "optimizer": {"type": "Adam", "momentum": 0.9}}, "BAD_SPEC",
     "optimizer.momentum"),
    ({"layers": MLP, "loss": "hinge"}, "BAD_SPEC", "loss"),
    ({"layers": MLP, "epochs": 0}, "BAD_SPEC", "epochs"),
    ({"layers": MLP, "batch_size": "big"}, "BAD_SPEC", "batch_size"),
    ({"layers": MLP, "colour": "red"}, "BAD_SPEC", "colour"),
])
def test_bad_specs_name_the_field(spec, code, field):
    e = err(spec)
    assert e["code"] == code and e["field"] == field, e
    assert e["message"]


@pytest.mark.parametrize("layers, words", [
    ([{"type": "Linear", "out_features": 0}], "layer 1 (Linear) out_features"),
    ([{"type": "Tanh"}, {"type": "Linear", "out_features": 2.5}],
     "layer 2 (Linear) out_features"),
    ([{"type": "Dropout", "p": 1.5}, {"type": "Linear", "out_features": 2}],
     "layer 1 (Dropout) p"),
    ([{"type": "Linear", "out_features": 2, "bias": "yes"}], "layer 1 (Linear) bias"),
    ([{"type": "Linear", "out_features": 2}, {"type": "Bogus"}], "layer 2: unknown"),
])
def test_layer_messages_count_layers_from_1_as_the_builder_does(layers, words):
    e = err({"dataset": "circles", "layers": layers})
    assert words in e["message"] and "layers[" not in e["message"], e
    assert e["layer"] == int(e["field"][7]), e       # the payload's index stays 0-based


@pytest.mark.parametrize("value", [None, "", "  "])
def test_an_empty_value_is_called_empty(value):
    e = err({"dataset": "circles", "layers": MLP, "optimizer": {"type": "SGD", "lr": value}})
    assert e["field"] == "optimizer.lr" and "(empty)" in e["message"], e
    assert "None" not in e["message"] and "''" not in e["message"]
    e = err({"dataset": "circles", "layers": [{"type": "Linear", "out_features": None}]})
    assert e["message"].startswith("layer 1 (Linear) out_features")
    assert "(empty)" in e["message"]


@pytest.mark.parametrize("dataset, layers, layer, words", [
    ("circles", [{"type": "Conv2d", "out_channels": 4}], 0, "Conv2d"),
    ("digits", [{"type": "Linear", "out_features": 10}], 0, "Flatten"),
    ("digits", [{"type": "Conv2d", "out_channels": 4, "kernel_size": 9}], 0, "larger"),
    ("digits", [{"type": "MaxPool2d", "kernel_size": 4}, {"type": "MaxPool2d", "kernel_size": 4},
                {"type": "Flatten"}, {"type": "Linear", "out_features": 10}], 1, "MaxPool2d"),
    ("circles", [{"type": "LSTM", "hidden_size": 4}], 0, "sequence"),
    ("digits", [{"type": "Conv1d", "out_channels": 4}], 0, "Conv1d"),
    ("circles", [{"type": "Linear", "out_features": 16}, {"type": "BatchNorm2d"}], 1, "BatchNorm1d"),
    ("circles", [{"type": "Linear", "out_features": 16}, {"type": "Tanh"}], 1, "2 classes"),
    ("digits", [{"type": "Conv2d", "out_channels": 6}, {"type": "GroupNorm", "num_groups": 4}],
     1, "divide"),
    ("digits_rows", [{"type": "TransformerEncoderLayer", "nhead": 3}], 0, "divide"),
    ("digits", [{"type": "TransformerEncoderLayer"}], 0, "sequence"),
    ("circles", [{"type": "AdaptiveAvgPool2d"}], 0, "AdaptiveAvgPool2d"),
])
def test_shape_mismatch_names_the_layer(dataset, layers, layer, words):
    e = err({"dataset": dataset, "layers": layers})
    assert e["code"] == "SHAPE_MISMATCH" and e["layer"] == layer, e
    assert e["field"].startswith(f"layers[{layer}]")
    assert words in e["message"] and f"layer {layer + 1}" in e["message"].replace(
        "the model ends", f"layer {layer + 1}")


@pytest.mark.parametrize("spec, limits, code, name", [
    ({"layers": [{"type": "Linear", "out_features": 10**6}]}, {}, "LAYER_TOO_WIDE", "max_width"),
    ({"layers": [{"type": "Tanh"}] * 100}, {}, "TOO_MANY_LAYERS", "max_layers"),
    ({"layers": MLP, "steps": 10**9}, {}, "TOO_MANY_STEPS", "max_steps"),
    ({"layers": MLP, "epochs": 10**6}, {}, "TOO_MANY_EPOCHS", "max_epochs"),
    ({"layers": MLP, "epochs": 500, "batch_size": 1}, {"max_steps": 1000}, "TOO_MANY_STEPS",
     "max_steps"),
    ({"dataset": {"name": "circles", "n": 10**7}, "layers": MLP}, {}, "TOO_MANY_SAMPLES",
     "max_samples"),
    ({"layers": [{"type": "Linear", "out_features": 1000}, {"type": "Linear", "out_features": 1000},
                 {"type": "Linear", "out_features": 2}]}, {"max_params": 100_000},
     "TOO_MANY_PARAMS", "max_params"),
    ({"dataset": "digits", "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 99}]},
     {}, "KERNEL_TOO_LARGE", "max_kernel"),
    ({"dataset": "digits", "layers": [{"type": "Conv2d", "out_channels": 1000, "padding": 1},
                                      {"type": "Flatten"}, {"type": "Linear", "out_features": 10}],
      "batch_size": 4000}, {}, "ACTIVATIONS_TOO_LARGE", "max_activation_elements"),
])
def test_limits_are_checked_before_allocation(spec, limits, code, name):
    with pytest.raises(SpecLimitError) as e:
        validate(spec, dict(DEFAULT_LIMITS, **limits))
    p = e.value.payload()["error"]
    assert p["code"] == code and p["limit"]["name"] == name, p
    assert e.value.status == 413
