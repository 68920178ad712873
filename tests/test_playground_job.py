"""Playground jobs through the Socket.IO test client: training, stepping, weights, code view,
code mode."""
import base64
import io
import os
import subprocess
import sys
import time

import numpy as np
from test_server_util import ROOT, make_app, sio_client, wait_for

MLP = {"dataset": {"name": "circles", "n": 300, "noise": 0.05},
       "layers": [{"type": "Linear", "out_features": 16}, {"type": "Tanh"},
                  {"type": "Linear", "out_features": 2}],
       "optimizer": {"type": "Adam", "lr": 0.05}, "batch_size": 32, "epochs": 25}


def events(server, sid, kind=None):
    evs = server.store.read(sid, 0, 10**6)
    return [e for e in evs if kind is None or e["type"] == kind]


def test_mlp_on_circles_trains_and_reports(tmp_path):
    with make_app(tmp_path) as (app, server):
        c = sio_client(app)
        r = c.emit("playground", {"spec": MLP, "paused": False}, callback=True)
        assert r["ok"] and r["spec"]["shapes"][-1] == [2], r
        s = server.manager.get(r["session"])
        wait_for(lambda: not s.job.alive(), 120)
        assert s.job.status == "done", s.job.message
        acc = [e["value"] for e in events(server, s.id, "scalar") if e["name"] == "test_accuracy"]
        assert acc[-1] >= 0.9
        b = events(server, s.id, "boundary")[-1]
        assert len(b["cls"]) == b["nx"] * b["ny"] and set(b["cls"]) == {0, 1}
        data = events(server, s.id, "pg_data")[0]
        assert data["kind"] == "2d" and len(data["train"]) == data["n_train"]
        r = c.emit("playground", {"action": "weights", "session": s.id}, callback=True)
        import gradviz as gv
        state = gv.load(io.BytesIO(base64.b64decode(r["data"])))
        assert set(state) == {"0.weight", "0.bias", "2.weight", "2.bias"}
        np.testing.assert_allclose(state["0.weight"].numpy(),
                                   s.job.model[0].weight.detach().numpy())


def test_step_a_training_step_then_feature_maps(tmp_path):
    spec = {"dataset": "digits", "layers": [
        {"type": "Conv2d", "out_channels": 4, "padding": 1}, {"type": "ReLU"},
        {"type": "MaxPool2d"}, {"type": "Flatten"}, {"type": "Linear", "out_features": 10}],
        "batch_size": 64, "epochs": 1}
    with make_app(tmp_path) as (app, server):
        c = sio_client(app)
        r = c.emit("playground", {"spec": spec}, callback=True)
        s = server.manager.get(r["session"])
        gate = s.job.gate
        wait_for(lambda: gate.paused is not None, 30)
        assert gate.paused["at"] == "step" and gate.step == 0
        n = gate.pause_count
        r = c.emit("playground", {"action": "step", "session": s.id}, callback=True)
        assert r["ok"], r
        wait_for(lambda: gate.pause_count > n and gate.paused is not None, 30)
        assert gate.paused["at"] == "step" and gate.step == 1
        assert len([e for e in events(server, s.id, "scalar") if e["name"] == "loss"]) == 1
        r = c.emit("playground", {"action": "feature_maps", "session": s.id, "sample": 5},
                   callback=True)
        assert r == {"ok": True}
        fm = wait_for(lambda: [e for e in events(server, s.id, "feature_maps")
                               if e["sample"] == 5], 10)[-1]
        assert [L["shape"] for L in fm["layers"]][:3] == [[4, 8, 8], [4, 8, 8], [4, 4, 4]]
        names = {e["name"] for e in events(server, s.id, "leaf") if e["name"]}
        assert names == {"0.weight", "0.bias", "4.weight", "4.bias"}   # dotted, as torch
        r = c.emit("playground", {"action": "feature_maps", "session": s.id, "sample": 10**6},
                   callback=True)
        assert r["error"]["code"] == "PLAYGROUND"
        s.job.stop()


def test_feature_maps_after_training_ended_reach_the_session(tmp_path):
    spec = {"dataset": "digits", "layers": [
        {"type": "Conv2d", "out_channels": 2, "padding": 1}, {"type": "ReLU"},
        {"type": "Flatten"}, {"type": "Linear", "out_features": 10}],
        "batch_size": 256, "epochs": 1}
    with make_app(tmp_path) as (app, server):
        c = sio_client(app)
        r = c.emit("playground", {"spec": spec, "paused": False}, callback=True)
        s = server.manager.get(r["session"])
        wait_for(lambda: not s.job.alive(), 60)
        assert s.job.status == "done", s.job.message
        r = c.emit("playground", {"action": "feature_maps", "session": s.id, "sample": 3},
                   callback=True)
        assert r == {"ok": True}
        fm = [e for e in events(server, s.id, "feature_maps") if e["sample"] == 3]
        assert len(fm) == 1 and fm[0]["session"] == s.id and fm[0]["v"] == 1
        assert [L["shape"] for L in fm[0]["layers"]][:2] == [[2, 8, 8], [2, 8, 8]]


def test_bad_spec_is_structured_and_allocates_nothing(tmp_path):
    with make_app(tmp_path) as (app, server):
        c = sio_client(app)
        r = c.emit("playground", {"spec": {"dataset": "digits", "layers": [
            {"type": "Linear", "out_features": 10}]}}, callback=True)
        assert r["error"]["code"] == "SHAPE_MISMATCH" and r["error"]["layer"] == 0
        r = c.emit("playground", {"action": "validate", "spec": {"layers": [
            {"type": "Linear", "out_features": 10**7}]}}, callback=True)
        assert r["ok"] is False and r["error"]["code"] == "LAYER_TOO_WIDE"
        r = c.emit("playground", {"action": "nope"}, callback=True)
        assert r["error"]["code"] == "BAD_ACTION"
        r = c.emit("playground", {"action": "weights", "session": "missing"}, callback=True)
        assert "error" in r
        assert server.manager.sessions == {}
        r = c.emit("playground", {"action": "datasets"}, callback=True)
        rows = {d["name"]: d for d in r["datasets"]}
        assert rows["digits"]["available"] and rows["circles"]["available"]
        if not rows["mnist"]["available"]:
            assert "not found" in rows["mnist"]["reason"]


def test_generated_script_runs_as_is(tmp_path):
    from gradviz.web.limits import DEFAULT_LIMITS
    from gradviz.web.playground.codegen import script
    from gradviz.web.playground.spec import validate
    specs = [dict(MLP, epochs=2),
             {"dataset": {"name": "digits", "n": 200}, "epochs": 1, "batch_size": 50,
              "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9}, "layers": [
                  {"type": "Conv2d", "out_channels": 2, "padding": 1}, {"type": "BatchNorm"},
                  {"type": "AvgPool2d"}, {"type": "Flatten"}, {"type": "Dropout", "p": 0.1},
                  {"type": "Linear", "out_features": 10}]},
             {"dataset": {"name": "digits_rows", "n": 100}, "epochs": 1, "layers": [
                 {"type": "GRU", "hidden_size": 4}, {"type": "Linear", "out_features": 10}]},
             {"dataset": {"name": "digits_rows", "n": 100}, "epochs": 1,
              "optimizer": {"type": "NAdam", "lr": 0.01, "momentum_decay": 0.005}, "layers": [
                 {"type": "TransformerEncoderLayer", "nhead": 2, "dropout": 0.1},
                 {"type": "AdaptiveAvgPool1d", "output_size": 2}, {"type": "Flatten"},
                 {"type": "Linear", "out_features": 10}]},
             {"dataset": {"name": "digits", "n": 100}, "epochs": 1, "layers": [
                 {"type": "Conv2d", "out_channels": 4}, {"type": "GroupNorm"},
                 {"type": "AdaptiveAvgPool2d", "output_size": 2}, {"type": "Flatten"},
                 {"type": "Linear", "out_features": 10}]}]
    for i, spec in enumerate(specs):
        path = tmp_path / f"model{i}.py"
        path.write_text(script(validate(spec, DEFAULT_LIMITS)))
        env = dict(os.environ, PYTHONPATH=ROOT)
        p = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert "test accuracy" in p.stdout and (tmp_path / "model.gvz").exists()


def test_code_mode_runs_limited_and_attached(tmp_path):
    from test_server_util import TOKEN  # noqa: F401
    with make_app(tmp_path) as (app, server):
        c = sio_client(app)
        r = c.emit("playground", {"action": "run_code", "code": "def f(:\n"}, callback=True)
        assert r["error"]["code"] == "SYNTAX_ERROR"
        r = c.emit("playground", {"action": "run_code", "code": "x" * 200_000}, callback=True)
        assert r["error"]["code"] == "CODE_TOO_LARGE"
    with make_app(tmp_path, token=None) as (app, server):
        c = sio_client(app, token=None)
        r = c.emit("playground", {"action": "run_code", "code": "print(1)"}, callback=True)
        assert r["error"]["code"] == "CODE_MODE_DISABLED" and "--no-token" in r["error"]["message"]


def test_code_mode_child_has_rlimits():
    """The child sets its CPU and memory limits before anything else runs."""
    from gradviz.web.playground.codemode import PRELUDE
    code = PRELUDE + ("print(resource.getrlimit(resource.RLIMIT_CPU)[0], "
                      "resource.getrlimit(resource.RLIMIT_AS)[0])\n"
                      "import numpy as np\nnp.ones(10**9)\n")
    env = dict(os.environ, GRADVIZ_CPU_SECONDS="7", GRADVIZ_MEMORY_BYTES=str(1 << 30),
               OPENBLAS_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=60, check=False)
    assert p.stdout.split() == ["7", str(1 << 30)]
    assert p.returncode != 0 and "MemoryError" in p.stderr


def _idx(path, arr):
    code = {np.dtype(np.uint8): 0x08}[arr.dtype]
    head = bytes([0, 0, code, arr.ndim]) + np.array(arr.shape, ">u4").tobytes()
    path.write_bytes(head + arr.tobytes())


def test_mnist_offered_only_when_its_files_exist(tmp_path, monkeypatch):
    from gradviz.web.limits import DEFAULT_LIMITS
    from gradviz.web.playground.build import available_datasets, load_arrays
    from gradviz.web.playground.spec import validate
    monkeypatch.setenv("GRADVIZ_DATA", str(tmp_path))
    rows = {d["name"]: d for d in available_datasets()}
    assert not rows["mnist"]["available"] and str(tmp_path) in rows["mnist"]["reason"]
    assert not rows["cifar10"]["available"]
    rng = np.random.default_rng(0)
    _idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 255, (50, 28, 28), dtype=np.uint8))
    _idx(tmp_path / "train-labels-idx1-ubyte", rng.integers(0, 10, (50,), dtype=np.uint8))
    rows = {d["name"]: d for d in available_datasets()}
    assert rows["mnist"]["available"] and rows["mnist"]["reason"] is None
    spec = validate({"dataset": {"name": "mnist", "n": 40}, "layers": [
        {"type": "Flatten"}, {"type": "Linear", "out_features": 10}]}, DEFAULT_LIMITS)
    Xtr, ytr, Xte, yte = load_arrays(spec["dataset"])
    assert Xtr.shape == (32, 1, 28, 28) and Xte.shape == (8, 1, 28, 28)
    assert Xtr.dtype == np.float32 and 0 <= Xtr.min() and Xtr.max() <= 1


def test_default_spiral_mlp_trains(tmp_path):
    """The builder's default model is the default session's (an MLP on the 3-class spiral
    set), offered with the datasets, and it learns the set."""
    from gradviz.web.runner import DEFAULT_SPEC
    with make_app(tmp_path) as (app, server):
        c = sio_client(app)
        spec = c.emit("playground", {"action": "datasets"}, callback=True)["default"]
        assert spec["layers"] == DEFAULT_SPEC["layers"]
        assert spec["dataset"]["classes"] == DEFAULT_SPEC["dataset"]["classes"] == 3
        assert spec["optimizer"] == DEFAULT_SPEC["optimizer"]
        r = c.emit("playground", {"spec": spec, "paused": False}, callback=True)
        s = server.manager.get(r["session"])
        t0 = time.monotonic()
        wait_for(lambda: not s.job.alive(), 120)
        acc = [e["value"] for e in events(server, s.id, "scalar") if e["name"] == "test_accuracy"]
        assert s.job.status == "done" and acc[-1] >= 0.9, acc[-5:]
        assert time.monotonic() - t0 < 60


def test_code_mode_cpu_limit_stops_a_runaway_loop(tmp_path):
    from test_server_util import received
    with make_app(tmp_path, limits={"code_cpu_seconds": 2}, port=9) as (app, server):
        c = sio_client(app)
        r = c.emit("playground", {"action": "run_code", "code": "print('start')\nwhile True:\n"
                                  "    pass\n"}, callback=True)
        assert r["ok"] and r["session"].startswith("code-")
        out = wait_for(lambda: received(c, "playground_output"), 60)[0]
        assert out["session"] == r["session"] and out["rc"] != 0
        assert "CPU-time limit" in out["message"] and "start" in out["output"]


def test_transformer_layer_on_digit_rows_learns(tmp_path):
    """Self-attention over the 8 rows of each digit, from the builder: it learns, and its
    attention parameters reach the graph with their dotted names."""
    spec = {"dataset": {"name": "digits_rows", "n": 600}, "epochs": 4, "batch_size": 32,
            "optimizer": {"type": "Adam", "lr": 0.01}, "layers": [
                {"type": "TransformerEncoderLayer", "nhead": 2, "dim_feedforward": 32},
                {"type": "Flatten"}, {"type": "Linear", "out_features": 10}]}
    with make_app(tmp_path) as (app, server):
        c = sio_client(app)
        r = c.emit("playground", {"spec": spec, "paused": False}, callback=True)
        assert r["ok"] and r["session"].startswith("transformer-digits-rows"), r
        s = server.manager.get(r["session"])
        wait_for(lambda: not s.job.alive(), 120)
        assert s.job.status == "done", s.job.message
        acc = [e["value"] for e in events(server, s.id, "scalar") if e["name"] == "test_accuracy"]
        assert acc[-1] >= 0.6, acc
        names = {e["name"] for e in events(server, s.id, "leaf") if e["name"]}
        assert {"0.self_attn.in_proj_weight", "0.linear1.weight", "0.norm2.bias"} <= names


def test_the_default_session_is_the_builders_spec_and_says_so(tmp_path):
    """The server's default session runs the builder's starting spec as a playground job, so
    the Playground tab can show and drive it: ``session`` answers the spec it was started
    with, whether a job runs it, and where it stands; other sessions have no spec."""
    with make_app(tmp_path, default_session=True) as (app, server):
        c = sio_client(app)
        default = c.emit("playground", {"action": "datasets"}, callback=True)["default"]
        (s,) = [s for s in server.manager.sessions.values() if s.source == "playground"]
        assert s.job.gate.wait_paused(20) is not None
        r = c.emit("playground", {"action": "session", "session": s.id}, callback=True)
        assert r == {"ok": True, "session": s.id, "spec": default, "drivable": True,
                     "status": "paused"}
        r = c.emit("playground", {"action": "step", "session": s.id}, callback=True)
        assert r["ok"]
        wait_for(lambda: any(e["name"] == "loss" for e in events(server, s.id, "scalar")), 20)
        s.job.stop()
        r = c.emit("playground", {"action": "session", "session": s.id}, callback=True)
        assert not r["drivable"] and r["status"] == "stopped" and r["spec"] == default
        other = server.manager.create("replay", prefix="rec")
        r = c.emit("playground", {"action": "session", "session": other.id}, callback=True)
        assert r["spec"] is None and not r["drivable"]
        r = c.emit("playground", {"action": "session", "session": "missing"}, callback=True)
        assert r["error"]["code"] == "NO_SESSION"
        r = c.emit("playground", {"action": "session"}, callback=True)
        assert r["error"]["code"] == "BAD_MESSAGE"
