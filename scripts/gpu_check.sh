#!/usr/bin/env bash
# One prepared GPU check for a machine with an NVIDIA GPU (issue 8): the device tests and B8.
#
#   scripts/gpu_check.sh      # from anywhere; results and a summary under $OUT (/tmp/gpu_check)
#
# Needs nothing installed from the network: gradviz runs from this tree (PYTHONPATH), and the
# interpreter ($PYTHON, default python3) must already have numpy, scipy, pytest, hypothesis and
# CuPy (the device machines' image has cupy-cuda13x and a CUDA torch, which B8 uses as its peer).
# Elsewhere: GV_PIP="cupy-cuda12x" (or a wheel path) pip-installs that first.
# Budget: about 5-6 minutes on a bare H200 (test_cuda ~255 s, B8 ~50 s; CuPy compiles each
# kernel once).
set -u
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
OUT="${OUT:-/tmp/gpu_check}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ -n "${GV_PIP:-}" ]; then
  "$PY" -m pip install --quiet $GV_PIP || echo "pip install $GV_PIP failed"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$OUT/gpu.txt"
"$PY" - <<'PY' 2>&1 | tee "$OUT/cupy.txt"
import sys, numpy
import gradviz as gv
from gradviz.engine import backend
print("python", sys.version.split()[0], "numpy", numpy.__version__)
print("gv.cuda.is_available():", gv.cuda.is_available(), backend._cupy_error or "")
if gv.cuda.is_available():
    import cupy
    print("cupy", cupy.__version__, "device:", gv.cuda.get_device_name())
try:
    import torch
    print("torch", torch.__version__, "cuda:", torch.cuda.is_available())
except ImportError:
    print("torch: not installed (B8 has no torch peer)")
PY
# Both the real GPU ("cuda") and the fake-CuPy ids run: the fake ones check this NumPy too.
# -W default: a warning new to that NumPy/CuPy is listed, not turned into a failure.
timeout 300 "$PY" -m pytest -q -p no:cacheprovider -W default --tb=short -rfEs tests/test_cuda.py 2>&1 \
  | tee "$OUT/test_cuda.txt" | tail -40
timeout 150 "$PY" -m bench --only B8 --json "$OUT/b8.json" 2>&1 | tee "$OUT/b8.txt" | tail -30
{
  echo "==== summary ===="
  cat "$OUT/gpu.txt" "$OUT/cupy.txt"
  grep -E "[0-9]+ (passed|failed)|error" "$OUT/test_cuda.txt" | tail -3
  grep -E "^B8|crossover|step|skipped|card" "$OUT/b8.txt"
} | tee "$OUT/summary.txt"
