"""gv.load on hostile files: crafted structures, lying .npy headers, zip bombs, junk, and
torch's dict / callable ``map_location``."""
import io
import json
import resource
import zipfile

import numpy as np
import pytest
import torch

import gradviz as gv


def _blob(obj, version=1):
    return json.dumps({"format": "gradviz-save", "version": version, "obj": obj}).encode()


def _write(path, obj, version=1, **arrays):
    """A gv.save-shaped archive with a hand-written structure."""
    with open(path, "wb") as f:
        np.savez(f, __gradviz__=np.frombuffer(_blob(obj, version), np.uint8), **arrays)
    return path


def _npy_header(shape, descr="<f8"):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    hdr += " " * (63 - (len(hdr) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr.encode()


def _zip(path, a0_bytes, compression=zipfile.ZIP_STORED):
    """An archive whose tensor entry ``a0.npy`` holds exactly ``a0_bytes``."""
    struct = io.BytesIO()
    np.save(struct, np.frombuffer(_blob({"tensor": "a0"}), np.uint8))
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr("__gradviz__.npy", struct.getvalue())
        z.writestr("a0.npy", a0_bytes)
    return path


@pytest.mark.parametrize("obj, version", [
    ({"dict": [5]}, 1),
    ({"dict": 5}, 1),
    ({"dict": [[{"dict": []}, 1]]}, 1),         # a dict as a dict key: unhashable
    ({"dict": [[{"tuple": [[1]]}, 1]]}, 1),     # a tuple holding a list as a key
    ({"dict": [[1, 2, 3]]}, 1),
    ({"dict": [], "ordered": "yes"}, 1),
    ({"float": [1]}, 1),
    ({"float": "abc"}, 1),
    ({"tuple": 5}, 1),
    ({"dtype": [1]}, 1),
    ({"dtype": 5}, 1),
    ({"dtype": "no-such-dtype"}, 1),
    ({"tensor": 5}, 1),
    ({"tensor": "a0", "requires_grad": "yes"}, 1),
    ({"tensor": "a0", "device": 0}, 1),
    ({"what": 1}, 1),
    (1, "2"),                                     # '>' between str and int
    (1, None),
    (1, [1]),
])
def test_crafted_structures_raise_a_gradviz_error(tmp_path, obj, version):
    path = _write(tmp_path / "c.gv", obj, version, a0=np.ones(2))
    with pytest.raises(gv.GradvizError, match="corrupt|newer|unknown"):
        gv.load(path)


def test_header_claiming_a_huge_shape_is_refused_before_allocating(tmp_path):
    path = _zip(tmp_path / "hdr.gv", _npy_header((10 ** 10,)))
    assert path.stat().st_size < 1000
    with pytest.raises(gv.GradvizError, match=r"claims shape \(10000000000,\)"):
        gv.load(path)


@pytest.mark.parametrize("n_data", [79, 81])
def test_entry_whose_size_does_not_match_its_shape_is_refused(tmp_path, n_data):
    path = _zip(tmp_path / "m.gv", _npy_header((10,)) + b"\0" * n_data)   # needs 80 bytes
    with pytest.raises(gv.GradvizError, match="claims shape"):
        gv.load(path)
    ok = _zip(tmp_path / "ok.gv", _npy_header((10,)) + np.arange(10.0).tobytes())
    assert gv.load(ok).tolist() == list(range(10))


def test_zip_bomb_is_refused_without_inflating_it(tmp_path):
    # 64 MB of zeros deflates to ~64 KB; the header and entry sizes all agree
    n = 8 * 2 ** 20
    path = _zip(tmp_path / "bomb.gv", _npy_header((n,)) + bytes(8 * n), zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 2 ** 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(gv.GradvizError, match="zip bomb"):
        gv.load(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 32 * 1024  # KiB


def test_compressed_archive_of_real_data_still_loads(tmp_path):
    data = np.random.default_rng(0).standard_normal((50, 40))
    with open(tmp_path / "c.gv", "wb") as f:
        np.savez_compressed(f, a0=data,
                            __gradviz__=np.frombuffer(_blob({"tensor": "a0"}), np.uint8))
    np.testing.assert_array_equal(gv.load(tmp_path / "c.gv").numpy(), data)


def test_damaged_entry_gives_a_gradviz_error(tmp_path):
    gv.save({"w": gv.randn(100)}, tmp_path / "w.gv")
    raw = bytearray((tmp_path / "w.gv").read_bytes())
    i = raw.index(b"a0.npy") + 200   # inside the tensor's data: the CRC no longer matches
    raw[i] ^= 0xFF
    (tmp_path / "bad.gv").write_bytes(bytes(raw))
    with pytest.raises(gv.GradvizError, match="corrupt"):
        gv.load(tmp_path / "bad.gv")


@pytest.mark.parametrize("content", [bytes(range(256)) * 4, b"PK\x03\x04" + b"\0" * 50,
                                     b"hello world"], ids=["bytes", "zip-magic", "text"])
def test_junk_gets_our_message_not_numpys_pickle_advice(tmp_path, content):
    (tmp_path / "junk").write_bytes(content)
    with pytest.raises(gv.GradvizError, match="not a gv.save file") as info:
        gv.load(tmp_path / "junk")
    assert "allow_pickle" not in str(info.value) and "unsafely" not in str(info.value)


def test_truncated_file_gets_our_message(tmp_path):
    gv.save({"w": gv.randn(1000)}, tmp_path / "w.gv")
    data = (tmp_path / "w.gv").read_bytes()
    (tmp_path / "cut.gv").write_bytes(data[: len(data) // 2])
    with pytest.raises(gv.GradvizError) as info:
        gv.load(tmp_path / "cut.gv")
    assert "allow_pickle" not in str(info.value)


def _saved_on_cuda(tmp_path):
    """What gv.save writes for a tensor that lived on cuda:0 (its data is stored on the CPU)."""
    return _write(tmp_path / "cuda.gv", {"dict": [["w", {"tensor": "a0", "requires_grad": True,
                                                            "device": "cuda:0"}]]},
                  a0=np.arange(3.0))


def test_map_location_dict_as_torch(tmp_path):
    # torch's idiom, checked against torch on a CPU file first
    torch.save({"w": torch.arange(3.0)}, tmp_path / "t.pt")
    ref = torch.load(tmp_path / "t.pt", map_location={"cuda:0": "cpu"})["w"]
    gv.save({"w": gv.arange(3.0)}, tmp_path / "g.gv")
    back = gv.load(tmp_path / "g.gv", map_location={"cuda:0": "cpu"})["w"]
    assert str(back.device) == str(ref.device) == "cpu"
    assert back.tolist() == ref.tolist()
    # a file saved from the GPU comes back on the CPU, gradients flag kept
    w = gv.load(_saved_on_cuda(tmp_path), map_location={"cuda:0": "cpu"})["w"]
    assert str(w.device) == "cpu" and w.requires_grad and w.tolist() == [0.0, 1.0, 2.0]
    w = gv.load(_saved_on_cuda(tmp_path), map_location={"cuda": gv.device("cpu")})["w"]
    assert str(w.device) == "cpu"
    with pytest.raises(gv.GradvizError, match="device"):
        gv.load(_saved_on_cuda(tmp_path), map_location={"cuda:0": "tpu"})


def test_map_location_callable_as_torch(tmp_path):
    seen = []

    def keep(storage, location):
        seen.append((type(storage).__name__, location))
        return storage

    w = gv.load(_saved_on_cuda(tmp_path), map_location=keep)["w"]
    assert seen == [("Tensor", "cuda:0")]
    assert str(w.device) == "cpu" and w.requires_grad and w.tolist() == [0.0, 1.0, 2.0]
    assert gv.load(_saved_on_cuda(tmp_path), map_location=lambda s, loc: None)["w"].tolist() \
        == [0.0, 1.0, 2.0]
    assert str(gv.load(_saved_on_cuda(tmp_path),
                       map_location=lambda s, loc: "cpu")["w"].device) == "cpu"
    # torch's own idiom, for comparison
    torch.save(torch.ones(2), tmp_path / "t.pt")
    assert torch.load(tmp_path / "t.pt", map_location=lambda s, loc: s).tolist() == \
        gv.load(io.BytesIO(_bytes_of(gv.ones(2))), map_location=lambda s, loc: s).tolist()


def _bytes_of(obj):
    buf = io.BytesIO()
    gv.save(obj, buf)
    return buf.getvalue()
