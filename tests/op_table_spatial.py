"""Op table rows for the spatial-transformer functions composed of existing ops
(``affine_grid``, ``grid_sample``) and ``pdist``: each against torch.nn.functional, by finite
differences and (tests/test_cuda.py) on the fake CuPy. ``fns`` names the ops each runs."""
import math

import torch.nn.functional as TF
from op_table import C, Case, OpRow, X, fixed

import gradviz.nn.functional as F
from gradviz.engine import ops as EO


def _grid_cases(mode, spatial=2):
    shapes = {2: [((2, 3, 4, 5), (2, 3, 6, 2)), ((1, 2, 1, 3), (1, 2, 2, 2)),
                  ((1, 1, 3, 1), (1, 1, 4, 2))],
              3: [((2, 2, 3, 4, 2), (2, 2, 3, 2, 3)), ((1, 1, 1, 2, 3), (1, 2, 1, 2, 3))]}
    return fixed(*[Case([X(si), X(sg)], {"mode": mode, "padding_mode": pad,
                                          "align_corners": ac})
                   for si, sg in shapes[spatial] for pad in ("zeros", "border", "reflection")
                   for ac in (False, True)])


ROWS = [
    OpRow("affine_grid", (EO.Matmul,), F.affine_grid, TF.affine_grid, fixed(
        Case([X((2, 2, 3)), C((2, 3, 4, 5))], {"align_corners": False}),
        Case([X((1, 2, 3)), C((1, 1, 3, 1))], {"align_corners": False}),
        Case([X((2, 2, 3)), C([2, 1, 2, 3])], {"align_corners": True}),
        Case([X((2, 3, 4)), C((2, 1, 3, 2, 4))], {"align_corners": False}),
        Case([X((1, 3, 4)), C((1, 2, 2, 3, 2))], {"align_corners": True}))),
    OpRow("grid_sample_bilinear", (EO.Gather, EO.Mul, EO.Sum), F.grid_sample, TF.grid_sample,
          _grid_cases("bilinear")),
    OpRow("grid_sample_nearest", (EO.Gather,), F.grid_sample, TF.grid_sample,
          _grid_cases("nearest")),
    OpRow("grid_sample_bicubic", (EO.Gather, EO.Mul), F.grid_sample, TF.grid_sample,
          _grid_cases("bicubic")),
    OpRow("grid_sample_trilinear", (EO.Gather, EO.Mul), F.grid_sample, TF.grid_sample,
          _grid_cases("bilinear", 3)),
    OpRow("grid_sample_nearest_3d", (EO.Gather,), F.grid_sample, TF.grid_sample,
          _grid_cases("nearest", 3)),
    OpRow("pdist", (EO.Getitem, EO.Norm), F.pdist, TF.pdist, fixed(
        Case([X((4, 3))]), Case([X((5, 2)), C(1)]), Case([X((3, 4)), C(math.inf)]),
        Case([X((4, 3)), C(3.5)]), Case([X((2, 1)), C(0.7)]), Case([X((1, 3))]),
        Case([X((4, 3))], {"p": 0}))),
]
