#!/usr/bin/env bash
# One prepared GPU check for a machine with an NVIDIA GPU (issue 8): the device tests and B8.
# Installs nothing unless told: GV_PIP="cupy-cuda12x" (or a wheel path) pip-installs that first.
# Usage: scripts/gpu_check.sh            # from the repository root; prints a summary at the end
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/gpu_check}"
mkdir -p "$OUT"
if [ -n "${GV_PIP:-}" ]; then
  python -m pip install --quiet $GV_PIP || echo "pip install $GV_PIP failed"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$OUT/gpu.txt"
python - <<'PY' 2>&1 | tee "$OUT/cupy.txt"
import gradviz as gv
from gradviz.engine import backend
print("gv.cuda.is_available():", gv.cuda.is_available(), backend._cupy_error or "")
if gv.cuda.is_available():
    import cupy
    print("cupy", cupy.__version__, "device:", gv.cuda.get_device_name())
PY
timeout 420 python -m pytest -q -p no:cacheprovider tests/test_cuda.py -k "not fake" 2>&1 \
  | tee "$OUT/test_cuda.txt" | tail -25
timeout 300 python -m bench --only B8 --quick --json "$OUT/b8.json" 2>&1 | tee "$OUT/b8.txt" | tail -25
echo "==== summary ===="
cat "$OUT/gpu.txt" "$OUT/cupy.txt"
grep -E "passed|failed|error" "$OUT/test_cuda.txt" | tail -1
grep -E "^B8|crossover|step|skipped" "$OUT/b8.txt"
