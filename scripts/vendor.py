"""Copy the browser libraries the UI needs from node_modules/ into gradviz/static/vendor/.

Run after `npm ci` (make setup does both). The UI loads these files from
/static/vendor/... and never from a CDN. gradviz/static/vendor/ is ignored by
git but shipped in the wheel, so build wheels after vendoring.

To vendor another file: add a row to FILES and read it from the UI at
/static/vendor/<dst>. A required file that is missing fails the run.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "gradviz" / "static" / "vendor"

# (npm package, source path inside the package, destination under static/vendor/, required)
FILES: list[tuple[str, str, str, bool]] = [
    # Socket.IO client: ES module for the UI, classic script for anything that needs a global `io`.
    ("socket.io-client", "dist/socket.io.esm.min.js", "socket.io.esm.min.js", True),
    ("socket.io-client", "dist/socket.io.esm.min.js.map", "socket.io.esm.min.js.map", False),
    ("socket.io-client", "dist/socket.io.min.js", "socket.io.min.js", True),
    ("socket.io-client", "dist/socket.io.min.js.map", "socket.io.min.js.map", False),
    ("socket.io-client", "LICENSE", "LICENSE.socket.io-client", False),
    # Graphviz compiled to WebAssembly; the .wasm is embedded in this one ES module.
    # Kept in its own folder so its `//# sourceMappingURL=index.js.map` still resolves.
    ("@hpcc-js/wasm-graphviz", "dist/index.js", "wasm-graphviz/index.js", True),
    ("@hpcc-js/wasm-graphviz", "dist/index.js.map", "wasm-graphviz/index.js.map", False),
    ("@hpcc-js/wasm-graphviz", "LICENSE", "wasm-graphviz/LICENSE", False),
    # uPlot: charts (loss, gradient norms).
    ("uplot", "dist/uPlot.esm.js", "uPlot.esm.js", True),
    ("uplot", "dist/uPlot.min.css", "uPlot.min.css", True),
    ("uplot", "LICENSE", "LICENSE.uplot", False),
]

MANIFEST = "MANIFEST.json"


def package_version(package: str) -> str:
    """The installed version of an npm package, from its package.json."""
    meta = NODE_MODULES / package / "package.json"
    if not meta.is_file():
        raise SystemExit(
            f"vendor.py: npm package {package!r} is not installed ({meta} missing). "
            "Run `npm ci` at the repository root first (or `make setup`)."
        )
    return json.loads(meta.read_text(encoding="utf-8"))["version"]


def vendor() -> int:
    """Copy every row of FILES; return the number of files copied (unchanged files are skipped)."""
    missing = []
    copied = 0
    manifest: dict[str, dict[str, str]] = {}
    for package, src_rel, dst_rel, required in FILES:
        version = package_version(package)
        src = NODE_MODULES / package / src_rel
        dst = VENDOR / dst_rel
        if not src.is_file():
            if required:
                missing.append(f"{package}@{version}: {src_rel}")
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not (dst.is_file() and filecmp.cmp(src, dst, shallow=False)):
            shutil.copyfile(src, dst)
            copied += 1
        manifest[dst_rel] = {"package": package, "version": version, "source": src_rel}
    if missing:
        raise SystemExit(
            "vendor.py: required browser files are missing from node_modules:\n  "
            + "\n  ".join(missing)
            + "\nThe package layout may have changed: check node_modules and update FILES in scripts/vendor.py."
        )
    (VENDOR / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return copied


def main() -> None:
    copied = vendor()
    print(f"vendor.py: {len(FILES)} entries checked, {copied} file(s) copied into {VENDOR.relative_to(ROOT)}/")


if __name__ == "__main__":
    sys.exit(main())
