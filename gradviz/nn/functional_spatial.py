"""Spatial transformer and distance functions composed of existing ops: ``affine_grid`` (a
Matmul of a fixed base grid with theta), ``grid_sample`` (one Gather of every tap, weighted by
products of the fractional coordinates, so gradients reach both the input and the grid),
``pdist`` (a Norm of row differences) and the deprecated ``upsample*`` aliases of
``interpolate``. Values, gradients, warnings and errors follow torch's."""
import itertools
import warnings

from ..engine.backend import xp_of
from ..engine.functional import stack
from ..engine.tensor import Tensor
from ..engine.tensor_methods import where
from ..errors import ArgumentError, GradvizError, ShapeError
from .functional_composite import _cubic_far, _cubic_near, interpolate

__all__ = ["affine_grid", "grid_sample", "pdist", "upsample", "upsample_nearest",
           "upsample_bilinear"]

class _UnsupportedSize(ShapeError, NotImplementedError):
    """A size affine_grid has no transform for (torch raises NotImplementedError)."""


_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def affine_grid(theta, size, align_corners=None):
    """A (N, H, W, 2) or (N, D, H, W, 3) sampling grid: theta (N, 2, 3) or (N, 3, 4) applied
    to the normalised ([-1, 1]) coordinates of every output pixel."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.dtype.is_floating_point:
        raise ArgumentError(f"Expected theta to have floating point type, but got "
                            f"{theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise _UnsupportedSize("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine "
                         f"transforms, respectively. Got size {size}.")
    k = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (k, k + 1):
        raise ShapeError(f"Expected a batch of {k}D affine matrices of shape Nx{k}x{k + 1} "
                         f"for size {size}. Got {tuple(theta.shape)}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ShapeError(f"Expected non-zero, positive output size. Got {size}")
    xp = xp_of(theta._data)
    axes = [_linspace(xp, n, align_corners) for n in spatial]
    # last grid channel is x (the last spatial dim), then y, then z; plus a 1 for the shift
    mesh = xp.meshgrid(*axes, indexing="ij")
    base = xp.stack([*mesh[::-1], xp.ones(spatial)], axis=-1).reshape(-1, k + 1)
    base = Tensor._wrap(base.astype(theta._data.dtype))
    grid = base @ theta.transpose(1, 2)
    return grid.reshape(size[0], *spatial, k)


def _linspace(xp, n, align_corners):
    """Pixel positions in [-1, 1] (pixel centres unless ``align_corners``), 0 when n == 1."""
    if n <= 1:
        return xp.zeros(max(n, 0))
    steps = xp.linspace(-1.0, 1.0, n)
    return steps if align_corners else steps * ((n - 1) / n)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) or (N, C, D, H, W) at the normalised positions of
    ``grid`` (N, Ho, Wo, 2) or (N, Do, Ho, Wo, 3); modes bilinear, nearest, bicubic (4-D)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ArgumentError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                            f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ArgumentError("nn.functional.grid_sample(): expected padding_mode to be "
                            f"'zeros', 'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    _check_grid(input, grid, mode)
    N, C, spatial = input.shape[0], input.shape[1], tuple(input.shape[2:])
    k, out_spatial = len(spatial), tuple(grid.shape[1:-1])
    flat = grid.reshape(N, -1, k)
    # grid channel 0 is x (the last spatial dim): coords[d] indexes spatial dim d
    coords = [_unnormalize(flat[..., k - 1 - d], n, align_corners)
              for d, n in enumerate(spatial)]
    xp = xp_of(input._data)
    if mode == "bicubic":
        idx, weights = _cubic_taps(xp, coords, spatial, padding_mode, align_corners)
    else:
        coords = [_pad_coord(xp, c, n, padding_mode, align_corners)
                  for c, n in zip(coords, spatial)]
        if mode == "nearest":
            idx, weights = _nearest_taps(xp, coords, spatial)
        else:
            idx, weights = _linear_taps(xp, coords, spatial)
    taps, points = idx.shape[1], idx.shape[2]
    index = xp.broadcast_to(idx.reshape(N, 1, -1), (N, C, taps * points))
    picked = input.reshape(N, C, -1).gather(2, Tensor._wrap(xp.ascontiguousarray(index)))
    out = (picked.reshape(N, C, taps, points) * weights.unsqueeze(1)).sum(2)
    return out.reshape(N, C, *out_spatial)


def _check_grid(input, grid, mode):
    if input.ndim not in (4, 5):
        raise ShapeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                         f"of dimensions, but got input with sizes {tuple(input.shape)} and "
                         f"grid with sizes {tuple(grid.shape)}")
    k = input.ndim - 2
    if grid.ndim != input.ndim:
        raise ShapeError(f"grid_sampler(): expected grid to have {input.ndim} dims like the "
                         f"input, but got grid with sizes {list(grid.shape)}")
    if grid.shape[0] != input.shape[0]:
        raise ShapeError(f"grid_sampler(): expected grid and input to have same batch size, "
                         f"but got input with sizes {list(input.shape)} and grid with sizes "
                         f"{list(grid.shape)}")
    if grid.shape[-1] != k:
        raise ShapeError(f"grid_sampler(): expected grid to have size {k} in last dimension, "
                         f"but got grid with sizes {list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise GradvizError(f"grid_sampler(): expected input and grid to have same dtype, "
                           f"but input has {input.dtype} and grid has {grid.dtype}")
    if mode == "bicubic" and k != 2:
        raise GradvizError("grid_sampler(): bicubic interpolation only supports 4D input")


def _unnormalize(coord, n, align_corners):
    """[-1, 1] to pixel units: -1 and 1 are the corner pixels' centres or their outer edges."""
    if align_corners:
        return (coord + 1) * ((n - 1) / 2)
    return ((coord + 1) * n - 1) / 2


def _pad_coord(xp, coord, n, padding_mode, align_corners):
    """Border clamps into the image; reflection mirrors at its edges, then clamps. As torch's,
    the clamp passes gradient only strictly inside (0, n - 1): a point on the border gets 0."""
    if padding_mode == "zeros":
        return coord
    if padding_mode == "reflection":
        if align_corners:
            coord = coord * 0 if n == 1 else _reflect(xp, coord, 0.0, n - 1.0)
        else:
            coord = _reflect(xp, coord, -0.5, n - 0.5)
    inside = (coord._data > 0) & (coord._data < n - 1)
    return where(Tensor._wrap(inside), coord, Tensor._wrap(xp.clip(coord._data, 0, n - 1)))


def _reflect(xp, coord, low, high):
    """Mirror ``coord`` into [low, high]; the number of flips is a constant per point."""
    span = high - low
    dist = (coord - low).abs()
    flips = xp.floor(dist._data / span)
    inside = dist - Tensor._wrap(flips * span)    # fmod(dist, span), gradient 1
    return where(Tensor._wrap(flips % 2 == 0), inside + low, (span + low) - inside)


def _gather_index(xp, ints, spatial):
    """Flat indices (clipped into range) and the in-bounds mask of integer coordinates."""
    flat, mask = 0, True
    for i, n in zip(ints, spatial):
        mask = mask & (i >= 0) & (i < n)
        flat = flat * n + xp.clip(i, 0, n - 1)
    return flat, mask


def _nearest_taps(xp, coords, spatial):
    ints = [xp.rint(c._data).astype(xp.int64) for c in coords]   # round half to even
    flat, mask = _gather_index(xp, ints, spatial)
    # torch gives the grid a zero gradient here: the 0 * coord term keeps it in the graph
    weight = coords[0] * 0 + Tensor._wrap(mask.astype(coords[0]._data.dtype))
    return flat[:, None], weight.unsqueeze(1)


def _linear_taps(xp, coords, spatial):
    lows = [xp.floor(c._data) for c in coords]
    fracs = [c - Tensor._wrap(low) for c, low in zip(coords, lows)]
    idx, weights = [], []
    for corner in itertools.product((0, 1), repeat=len(coords)):
        ints = [low.astype(xp.int64) + o for low, o in zip(lows, corner)]
        flat, mask = _gather_index(xp, ints, spatial)
        weight = None
        for frac, o in zip(fracs, corner):
            w = frac if o else 1 - frac
            weight = w if weight is None else weight * w
        idx.append(flat)
        weights.append(weight * Tensor._wrap(mask.astype(lows[0].dtype)))
    return xp.stack(idx, axis=1), stack(weights, 1)


def _cubic_taps(xp, coords, spatial, padding_mode, align_corners):
    """4 x 4 taps around floor(coord); padding applies to each tap's integer position."""
    lows = [xp.floor(c._data) for c in coords]
    per_dim = []
    for c, low in zip(coords, lows):
        t = c - Tensor._wrap(low)
        per_dim.append([_cubic_far(t + 1), _cubic_near(t), _cubic_near(1 - t),
                        _cubic_far(2 - t)])
    idx, weights = [], []
    for (a, wa), (b, wb) in itertools.product(enumerate(per_dim[0]), enumerate(per_dim[1])):
        ints = [_pad_int(xp, low.astype(xp.int64) + o - 1, n, padding_mode, align_corners)
                for low, o, n in zip(lows, (a, b), spatial)]
        flat, mask = _gather_index(xp, ints, spatial)
        idx.append(flat)
        weights.append(wa * wb * Tensor._wrap(mask.astype(lows[0].dtype)))
    return xp.stack(idx, axis=1), stack(weights, 1)


def _pad_int(xp, i, n, padding_mode, align_corners):
    """An integer tap position after border or reflection padding (zeros: unchanged)."""
    if padding_mode == "zeros":
        return i
    if padding_mode == "reflection":
        f = i.astype(xp.float64)
        low, high = (0.0, n - 1.0) if align_corners else (-0.5, n - 0.5)
        if high == low:
            return xp.zeros_like(i)
        dist = xp.abs(f - low)
        flips = xp.floor(dist / (high - low))
        extra = dist - flips * (high - low)
        f = xp.where(flips % 2 == 0, extra + low, (high - low) - extra + low)
        i = xp.floor(xp.clip(f, 0, n - 1)).astype(xp.int64)
    return xp.clip(i, 0, n - 1)


def pdist(input, p=2):
    """The p-norm distance between every pair of rows i < j of a (N, M) input, row-major."""
    if input.ndim != 2:
        raise ShapeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise ArgumentError("pdist only supports non-negative p values")
    xp = xp_of(input._data)
    i, j = xp.triu_indices(input.shape[0], 1)
    return (input[Tensor._wrap(i)] - input[Tensor._wrap(j)]).norm(p, dim=1)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
