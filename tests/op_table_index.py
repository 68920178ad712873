"""Op table rows: scatter_reduce, index_copy, index_put, masked_scatter."""
import numpy as np
import torch
from op_table import Case, OpRow, T, X, fixed

import gradviz as gv
from gradviz.engine import ops as O

_IDX = np.array([[0, 2, 2, 1], [1, 1, 3, 0], [4, 3, 4, 4]])
_REDUCE_CASES = fixed(*(Case([X((3, 5)), T(_IDX), X((3, 4))], {"reduce": r, "include_self": s})
                        for r in ("sum", "prod", "mean", "amax", "amin") for s in (True, False)),
                      Case([X((2, 3)), T(np.array([[1], [0], [1]])), X((3, 1))],
                           {"reduce": "mean", "include_self": False}))
_KEY = (np.array([0, 2, 1]), np.array([1, -1, 1]))   # no repeats: torch leaves their order open

ROWS = [
    OpRow("scatter_reduce", (O.ScatterReduce,),
          lambda x, i, src, **k: (x.scatter_reduce(1 if x.ndim == 2 and i.shape[0] == 3
                                                   and x.shape[0] == 3 else 0, i, src, **k)),
          lambda x, i, src, **k: (x.scatter_reduce(1 if x.ndim == 2 and i.shape[0] == 3
                                                   and x.shape[0] == 3 else 0, i, src, **k)),
          _REDUCE_CASES),
    OpRow("scatter_reduce_fn", (O.ScatterReduce,),
          lambda x, i, src: gv.scatter_reduce(x, 0, i, src, "amax", include_self=False),
          lambda x, i, src: torch.scatter_reduce(x, 0, i, src, "amax", include_self=False),
          fixed(Case([X((3, 2)), T(np.array([[2, 0], [0, 0]])), X((2, 2))]))),
    OpRow("scatter_reduce_prod_guard", (O.ProdZerosGuard,),   # its backward raises (as torch)
          lambda x: O.ProdZerosGuard.apply(x), lambda x: x.clone(),
          fixed(Case([X((3, 4))])), grad=False),
    OpRow("index_copy", (O.Scatter,),
          lambda x, i, src: (x.index_copy(1, i, src), gv.index_copy(x, 1, i[:1], src[:, :1])),
          lambda x, i, src: (x.index_copy(1, i, src), torch.index_copy(x, 1, i[:1], src[:, :1])),
          fixed(Case([X((3, 4)), T(np.array([3, 0])), X((3, 2))]))),
    OpRow("index_put", (O.IndexPut,),
          lambda x, v, a, b: (x.index_put((a, b), v), x.index_put((a, b), v, accumulate=True),
                              gv.index_put(x, (a,), v[:1].reshape(1, 1))),
          lambda x, v, a, b: (x.index_put((a, b), v), x.index_put((a, b), v, accumulate=True),
                              torch.index_put(x, (a,), v[:1].reshape(1, 1))),
          fixed(Case([X((3, 4)), X((3,)), T(_KEY[0]), T(_KEY[1])]),
                Case([X((3, 4)), X((1,)), T(_KEY[0]), T(_KEY[1])]))),
    OpRow("masked_scatter", (O.MaskedScatter,),
          lambda x, m, src: (x.masked_scatter(m, src), gv.masked_scatter(x, m[:1], src)),
          lambda x, m, src: (x.masked_scatter(m, src), torch.masked_scatter(x, m[:1], src)),
          fixed(Case([X((3, 4)), T(np.array([[True, False, True, True]] * 3)), X((4, 4))]),
                Case([X((2, 3)), T(np.array([[False] * 3, [True, False, True]])), X((2,))]))),
]
