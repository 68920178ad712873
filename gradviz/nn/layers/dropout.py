"""Dropout (gv's generator; the identity in eval mode)."""
from ...errors import GradvizError
from .. import functional as F
from ..module import Module


class Dropout(Module):
    """Zero each element with probability p in training and scale the rest by 1/(1-p)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise GradvizError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        """Drop in training mode; pass through in eval mode."""
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
