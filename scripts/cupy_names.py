"""Write the names CuPy has, for tests/fake_cupy.py to refuse the ones it lacks.

The fake CuPy is NumPy underneath, so without this list it would accept
``cupy.astype`` or ``cupy.put_along_axis`` (NumPy 2 has them; CuPy 13 does not).
CuPy imports without a GPU, so this runs anywhere the wheel installs:

    pip install --target /tmp/cupy13 cupy-cuda12x==13.6.0
    PYTHONPATH=/tmp/cupy13 python scripts/cupy_names.py tests/cupy_names.json

Run it once per supported CuPy version: when the file exists, the names kept are
those every version listed in it has (the intersection), a call must fit every version's
signature, and the version is added.
"""
import importlib
import inspect
import json
import sys
from pathlib import Path

MODULES = ["cupy", "cupy.random", "cupy.linalg", "cupy.lib", "cupy.lib.stride_tricks",
           "cupyx", "cupyx.scipy", "cupyx.scipy.special"]


def _signature(fn):
    """[[name, kind, has_default], ...] of a Python-level function; None for C ones."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return [[p.name, int(p.kind), p.default is not p.empty] for p in sig.parameters.values()]


def names_of_installed():
    """Public names of each module in MODULES, of ``cupy.ndarray`` and of a ufunc, and the
    signatures of the modules' Python-level functions."""
    import cupy  # noqa: PLC0415 - the point of the script
    names, sigs = {}, {}
    for m in MODULES:
        mod = importlib.import_module(m)
        names[m] = sorted(n for n in dir(mod) if not n.startswith("_"))
        for n in names[m]:
            obj = getattr(mod, n)
            if inspect.isfunction(obj) and (sig := _signature(obj)) is not None:
                sigs[f"{m}.{n}"] = [sig]
    names["ndarray"] = sorted(n for n in dir(cupy.ndarray) if not n.startswith("_"))
    names["ufunc"] = sorted(n for n in dir(cupy.add) if not n.startswith("_"))
    return cupy.__version__, names, sigs


def main(path):
    version, names, sigs = names_of_installed()
    path = Path(path)
    if path.exists():
        old = json.loads(path.read_text())
        versions = sorted(set(old["versions"]) | {version})
        names = {k: sorted(set(v) & set(old["names"].get(k, v))) for k, v in names.items()}
        for k, v in old["signatures"].items():   # a call must bind to every version's
            sigs[k] = v + [s for s in sigs.get(k, []) if s not in v]
    else:
        versions = [version]
    data = {"versions": versions, "names": names, "signatures": dict(sorted(sigs.items()))}
    path.write_text(json.dumps(data, separators=(",", ":")).replace('],"', '],\n"') + "\n")
    print(f"{path}: names common to CuPy {', '.join(versions)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/cupy_names.json")
