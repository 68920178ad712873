"""The wheel carries the UI (static/, templates/, vendored browser libraries), the shipped
data and the `gradviz` console script, and works installed non-editable.

The wheel is built from a copy of the sources so that the test never writes build/ or
*.egg-info into the working tree and stale build/lib files cannot leak into it.
"""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "gradviz"
INDEX_HTML = PKG / "templates" / "index.html"
VENDOR = PKG / "static" / "vendor"

# What scripts/vendor.py must have put in static/vendor/ (the files the UI imports).
REQUIRED_VENDOR = [
    "socket.io.esm.min.js",
    "socket.io.min.js",
    "wasm-graphviz/index.js",
    "uPlot.esm.js",
    "uPlot.min.css",
]

needs_ui = pytest.mark.skipif(
    not INDEX_HTML.is_file(),
    reason="gradviz/templates/index.html does not exist yet (the UI is not written); "
    "nothing to package-check",
)

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")


def _package_files(sub: str, pattern: str = "**/*") -> list[str]:
    """Paths (as in the wheel) of the files under gradviz/<sub> matching pattern."""
    base = PKG / sub
    if not base.is_dir():
        return []
    return sorted(
        p.relative_to(ROOT).as_posix()
        for p in base.glob(pattern)
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build a wheel the way `make wheel` does, from a clean copy of the sources."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "setup.py", "setup.cfg"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, src / name)
    shutil.copytree(PKG, src / "gradviz", ignore=_IGNORE)
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(out)],
        cwd=src, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, f"pip wheel failed:\n{proc.stdout}\n{proc.stderr}"
    wheels = list(out.glob("gradviz-*.whl"))
    assert len(wheels) == 1, f"expected one gradviz wheel in {out}, got {wheels}"
    return wheels[0]


@pytest.fixture(scope="module")
def wheel_names(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


@needs_ui
def test_wheel_contains_templates_and_static(wheel_names):
    assert "gradviz/templates/index.html" in wheel_names
    expected = _package_files("templates") + _package_files("static")
    assert any(n.startswith("gradviz/static/") for n in expected), "gradviz/static/ is empty"
    missing = [n for n in expected if n not in wheel_names]
    assert not missing, f"files under gradviz/ missing from the wheel (package-data globs?): {missing}"


@needs_ui
def test_wheel_contains_vendored_browser_libraries(wheel_names):
    if not VENDOR.is_dir():
        pytest.fail("gradviz/static/vendor/ is missing: run `make setup` (npm ci + scripts/vendor.py)")
    missing = [f for f in REQUIRED_VENDOR if f"gradviz/static/vendor/{f}" not in wheel_names]
    assert not missing, f"vendored files missing from the wheel: {missing}"
    # Nothing from node_modules itself rides along.
    assert not any("node_modules" in n for n in wheel_names)


@needs_ui
def test_wheel_contains_shipped_data(wheel_names):
    data = _package_files("data", "*.npz") + _package_files("data", "*.json")
    missing = [n for n in data if n not in wheel_names]
    assert not missing, f"dataset files missing from the wheel: {missing}"


@needs_ui
def test_wheel_declares_console_script(wheel, wheel_names):
    [entry_points] = [n for n in wheel_names if n.endswith(".dist-info/entry_points.txt")]
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(entry_points).decode()
    lines = [line.replace(" ", "") for line in text.splitlines()]
    section = lines.index("[console_scripts]")
    assert "gradviz=gradviz.cli:main" in lines[section + 1:], text


@needs_ui
def test_installed_wheel_is_self_contained(wheel, tmp_path):
    """Installed non-editable (into a plain folder), the package finds its UI files
    there, not in this checkout, and `gradviz --version` runs from it."""
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile",
         "--disable-pip-version-check", "-q", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"pip install failed:\n{proc.stdout}\n{proc.stderr}"

    # find_spec locates the package without running its __init__.
    probe = (
        "import importlib.util, json, pathlib, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "spec = importlib.util.find_spec('gradviz')\n"
        "base = pathlib.Path(list(spec.submodule_search_locations)[0])\n"
        "print(json.dumps({'base': str(base),\n"
        "  'index': (base / 'templates' / 'index.html').is_file(),\n"
        "  'static': sorted(p.relative_to(base).as_posix() for p in (base / 'static').rglob('*') if p.is_file())}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe, str(target)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert Path(found["base"]).resolve() == (target / "gradviz").resolve()
    assert found["index"]
    if VENDOR.is_dir():
        assert all(f"static/vendor/{f}" in found["static"] for f in REQUIRED_VENDOR), found["static"]

    if not (PKG / "cli.py").is_file() and not (PKG / "cli" / "__init__.py").is_file():
        pytest.skip("gradviz/cli.py does not exist yet: console script not checked")
    run_cli = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import os, gradviz, gradviz.cli\n"
        "assert os.path.realpath(gradviz.__file__).startswith(os.path.realpath(sys.argv[1])), gradviz.__file__\n"
        "sys.argv = ['gradviz', '--version']\n"
        "sys.exit(gradviz.cli.main())\n"
    )
    proc = subprocess.run([sys.executable, "-c", run_cli, str(target)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"gradviz --version failed from the installed wheel:\n{proc.stdout}\n{proc.stderr}"
    version = wheel.name.split("-")[1]
    assert version in proc.stdout + proc.stderr, f"`gradviz --version` did not print {version}: {proc.stdout!r}"
