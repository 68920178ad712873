"""Dropout, Dropout1d/2d/3d (whole channels), AlphaDropout and FeatureAlphaDropout (gv's
generator; each the identity in eval mode)."""
from ...errors import ArgumentError
from .. import functional as F
from ..module import Module


class _DropoutNd(Module):
    """Holds ``p`` (checked) and ``inplace``; ``forward`` calls ``F.<fn>``."""

    fn = "dropout"

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ArgumentError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        """Drop in training mode; pass through in eval mode."""
        return getattr(F, self.fn)(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability p in training and scale the rest by 1/(1-p)."""


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) with probability p in training."""

    fn = "dropout1d"


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) with probability p in training."""

    fn = "dropout2d"


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p in
    training."""

    fn = "dropout3d"


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: keeps zero mean and unit variance (training only)."""

    fn = "alpha_dropout"


class FeatureAlphaDropout(_DropoutNd):
    """AlphaDropout of whole channels (training only)."""

    fn = "feature_alpha_dropout"
