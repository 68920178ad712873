"""AdaptiveLogSoftmaxWithLoss (Grave et al., "Efficient softmax approximation for GPUs"):
frequent classes in a head softmax, the rest in clusters reached through the head, each
cluster's projection narrower by ``div_value``. Parameters and names as torch's, so a
state_dict copies across."""
import collections

import numpy as np

from ...engine import creation
from ...engine.functional import cat
from ...engine.tensor import Tensor
from ...errors import ArgumentError, GradvizError
from .. import functional as F
from ..containers import ModuleList, Sequential
from ..module import Module
from .linear import Linear

_ASMoutput = collections.namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: ``forward(input, target)`` gives (each target's log-probability,
    the mean negative log-likelihood); ``log_prob`` every class's; ``predict`` the argmax."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ArgumentError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ArgumentError("cutoffs should be a sequence of unique, positive integers "
                                "sorted in an increasing order, where each value is between "
                                "1 and n_classes-1")
        kw = {"device": device, "dtype": dtype}
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, **kw),
                                        Linear(hsz, osz, bias=False, **kw)))

    def reset_parameters(self):
        """Re-initialise the head and every cluster's projections."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        """(log-probability of each target, mean negative log-likelihood) as a named tuple."""
        if target_.ndim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise GradvizError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input_.ndim != 2:
                raise GradvizError("1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {tuple(input_.shape)}")
        elif target_.ndim == 0:
            if input_.ndim != 1:
                raise GradvizError("0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {tuple(input_.shape)}")
        else:
            raise GradvizError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.ndim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = np.asarray(target_.detach().cpu().numpy()).reshape(-1).astype(np.int64)
        n = target.shape[0]
        if n and (target.min() < 0 or target.max() >= self.n_classes):
            raise GradvizError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{target.min()}, {target.max()}] were found. ")
        # the head's column: the class itself in the shortlist, else its cluster's entry
        cluster = np.searchsorted(np.asarray(self.cutoffs), target, side="right")
        gather = np.where(cluster == 0, target, self.shortlist_size + cluster - 1)
        output = creation.zeros(n, dtype=input.dtype, device=input.device)
        for i in range(1, len(self.cutoffs)):
            rows = np.nonzero(cluster == i)[0]
            if rows.size == 0:
                continue
            rows_t = self._index(rows, input)
            relative = self._index(target[rows] - self.cutoffs[i - 1], input).unsqueeze(1)
            cluster_logprob = F.log_softmax(self.tail[i - 1](input.index_select(0, rows_t)),
                                            dim=1)
            output = output.index_add(0, rows_t, cluster_logprob.gather(1, relative)
                                      .squeeze(1))
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = output + head_logprob.gather(1, self._index(gather, input).unsqueeze(1))\
            .squeeze(1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    @staticmethod
    def _index(arr, like):
        return Tensor._wrap(np.ascontiguousarray(arr, dtype=np.int64)).to(like.device)

    def _get_full_log_prob(self, input, head_output):
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster_logprob
                         + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, dim=1)

    def log_prob(self, input):
        """Log-probabilities of every class, (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class of each row (as ``log_prob(input).argmax(dim=1)``)."""
        head_output = self.head(input)
        output = head_output.argmax(dim=1)
        outside = output.cpu().numpy() >= self.shortlist_size
        if not outside.any():
            return output
        rows = self._index(np.nonzero(outside)[0], input)
        best = self._get_full_log_prob(input.index_select(0, rows),
                                       head_output.index_select(0, rows)).argmax(dim=1)
        out = output.cpu().numpy().copy()
        out[outside] = best.detach().cpu().numpy()
        return Tensor._wrap(out).to(input.device)
