"""gv.save / gv.load: round trips, and files that could run code are refused."""
import io
import json
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import gradviz as gv


def test_tensor_round_trip(tmp_path):
    for t in (gv.randn(3, 4), gv.arange(5), gv.tensor([True, False]),
              gv.randn(2, dtype=gv.float64), gv.tensor(3.5), gv.zeros(0, 3)):
        path = tmp_path / "t.gv"
        gv.save(t, path)
        back = gv.load(path)
        assert isinstance(back, gv.Tensor) and back.dtype == t.dtype and back.shape == t.shape
        np.testing.assert_array_equal(back.numpy(), t.numpy())
    assert not (tmp_path / "t.gv.npz").exists()  # the path is used as given


def test_nested_structure_round_trip(tmp_path):
    obj = {"w": gv.randn(2, 2), "layers": [gv.ones(1), {"k": 3}], "betas": (0.9, 0.999),
           1: "int key", "none": None, "flag": True, "nan": float("nan"), "inf": float("-inf"),
           "arr": np.arange(3), "od": OrderedDict([("b", 1), ("a", 2)])}
    buf = io.BytesIO()
    gv.save(obj, buf)
    buf.seek(0)
    back = gv.load(buf)
    assert list(back) == list(obj)
    assert back[1] == "int key" and back["betas"] == (0.9, 0.999) and back["none"] is None
    assert back["flag"] is True and np.isnan(back["nan"]) and back["inf"] == float("-inf")
    assert back["layers"][1] == {"k": 3} and back["layers"][0].tolist() == [1.0]
    assert isinstance(back["arr"], np.ndarray) and back["arr"].tolist() == [0, 1, 2]
    assert isinstance(back["od"], OrderedDict) and list(back["od"]) == ["b", "a"]


def test_requires_grad_is_kept(tmp_path):
    w = gv.randn(3, requires_grad=True)
    gv.save({"w": w}, tmp_path / "w.gv")
    back = gv.load(tmp_path / "w.gv")["w"]
    assert back.requires_grad and back.is_leaf


def test_optimizer_state_dict_round_trip(tmp_path):
    w = gv.randn(4, requires_grad=True)
    opt = gv.optim.Adam([w], lr=0.01, amsgrad=True)
    (w * w).sum().backward()
    opt.step()
    sd = opt.state_dict()
    gv.save(sd, tmp_path / "opt.gv")
    back = gv.load(tmp_path / "opt.gv")
    assert list(back["state"]) == [0] and back["param_groups"][0]["betas"] == (0.9, 0.999)
    for k, v in sd["state"][0].items():
        np.testing.assert_array_equal(back["state"][0][k].numpy(), v.numpy())


def test_unsupported_objects_are_rejected(tmp_path):
    with pytest.raises(gv.GradvizError, match="state_dict"):
        gv.save({"f": lambda: 0}, tmp_path / "x.gv")
    with pytest.raises(gv.GradvizError):
        gv.save(np.array(["a"], dtype=object), tmp_path / "x.gv")


class _Boom:
    def __reduce__(self):
        return (print, ("pickle ran",))


def test_pickle_file_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"x": _Boom()}))
    with pytest.raises(gv.GradvizError, match="pickle"):
        gv.load(path)
    assert "pickle ran" not in capsys.readouterr().out


def test_torch_save_file_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(gv.GradvizError, match="torch.save"):
        gv.load(path)


def test_object_array_inside_npz_is_refused(tmp_path):
    """A crafted archive whose structure points at a pickled object array."""
    path = tmp_path / "crafted.gv"
    blob = json.dumps({"format": "gradviz-save", "version": 1,
                       "obj": {"ndarray": "a0"}}).encode()
    with open(path, "wb") as f:
        np.savez(f, a0=np.array([_Boom()], dtype=object),
                 __gradviz__=np.frombuffer(blob, np.uint8))
    with pytest.raises(gv.GradvizError, match="refused"):
        gv.load(path)


def test_garbage_and_foreign_files_are_refused(tmp_path):
    (tmp_path / "junk").write_bytes(b"hello world")
    with pytest.raises(gv.GradvizError):
        gv.load(tmp_path / "junk")
    with open(tmp_path / "plain.npz", "wb") as f:
        np.savez(f, x=np.ones(2))
    with pytest.raises(gv.GradvizError, match="not a gv.save file"):
        gv.load(tmp_path / "plain.npz")
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as z:
        z.writestr("__gradviz__.npy", b"garbage")
    with pytest.raises(gv.GradvizError):
        gv.load(tmp_path / "z.zip")


def test_deeply_nested_structure_is_refused(tmp_path):
    path = tmp_path / "deep.gv"
    blob = ('{"format": "gradviz-save", "version": 1, "obj": ' + "[" * 100000
            + "]" * 100000 + "}").encode()
    with open(path, "wb") as f:
        np.savez(f, __gradviz__=np.frombuffer(blob, np.uint8))
    with pytest.raises(gv.GradvizError):
        gv.load(path)
    with pytest.raises(gv.GradvizError, match="nested"):
        deep = []
        for _ in range(300):
            deep = [deep]
        gv.save(deep, tmp_path / "d2.gv")
