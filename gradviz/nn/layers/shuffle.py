"""PixelShuffle, PixelUnshuffle and ChannelShuffle: rearrangements of channels and pixels
(reshapes and permutes in the graph)."""
from .. import functional as F
from ..module import Module


class PixelShuffle(Module):
    """(*, C r², H, W) -> (*, C, H r, W r), r = ``upscale_factor`` (sub-pixel convolution)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        """Move channel groups into pixel blocks."""
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r², H, W), r = ``downscale_factor``: the inverse of
    PixelShuffle."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        """Move pixel blocks into channel groups."""
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups of (N, C, *) (ShuffleNet)."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        """Shuffle the channels."""
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
