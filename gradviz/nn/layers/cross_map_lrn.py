"""CrossMapLRN2d (torch's legacy cross-channel local response norm of 4-D input)."""
from ...errors import ShapeError
from ..module import Module
from ..ops.cross_map_lrn import CrossMapLRN2d as _CrossMapLRN2d


class CrossMapLRN2d(Module):
    """Local response normalisation across channels of (N, C, H, W), as torch's legacy
    module computes it (values and gradients)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        """Normalise across channels."""
        if input.ndim != 4:
            raise ShapeError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D "
                             "instead.")
        return _CrossMapLRN2d.apply(input, size=self.size, alpha=self.alpha, beta=self.beta,
                                    k=self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
