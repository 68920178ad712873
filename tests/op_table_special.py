"""Op table rows: gv.special's own ops (erfc, erfinv, i0; the rest are compositions of
engine ops, tested in test_special.py)."""
import torch
from op_table import OpRow, unary

import gradviz.special as S

ROWS = [
    OpRow("special_erfc", (S.Erfc,), S.erfc, torch.special.erfc, unary()),
    OpRow("special_erfinv", (S.Erfinv,), S.erfinv, torch.special.erfinv, unary("unit")),
    OpRow("special_i0", (S.I0,), S.i0, torch.special.i0, unary()),
]
