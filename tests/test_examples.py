"""Every script in examples/ runs to the end on its reduced size (GRADVIZ_SMOKE=1)."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT

EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
EXPECT = {"linear_regression.py": "learned y =", "perceptron.py": "decision boundary",
          "mlp_digits.py": "test accuracy", "cnn_digits.py": "test accuracy",
          "autoencoder.py": "test MSE", "ctc_sequence.py": "greedy decode accuracy",
          "gd_variants.py": "mini-batch", "attention_sort.py": "sorted exactly"}


def test_every_example_is_covered():
    assert set(EXAMPLES) == set(EXPECT)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_quick(name):
    env = dict(os.environ, GRADVIZ_SMOKE="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert EXPECT[name] in proc.stdout
    assert "[" in proc.stderr and "]" in proc.stderr  # the progress bar was drawn
