"""The one exception family for errors a user can cause."""


class GradvizError(RuntimeError):
    """Base of every error gradviz raises for something the caller did wrong.

    Subclasses RuntimeError so that code written for PyTorch (which raises
    RuntimeError for most misuse) catches it unchanged.
    """


class ShapeError(GradvizError, ValueError):
    """Shapes that do not fit an op (broadcasting, matmul, cat, view...)."""


class DimError(ShapeError, IndexError):
    """A dim outside a tensor's range (an IndexError too, as torch raises)."""


class DeviceError(GradvizError):
    """A device that is missing, or tensors on different devices in one op."""


class BackwardError(GradvizError):
    """Misuse of autograd: freed graph, missing rule, non-scalar root..."""


class AnomalyError(GradvizError):
    """detect_anomaly found a NaN or Inf; the message names the op."""


class ArgumentError(GradvizError, ValueError):
    """An argument a function cannot take (a probability outside [0, 1], an unknown mode...):
    a ValueError too, as torch raises there."""


class LinAlgError(GradvizError):
    """A matrix a linalg op cannot take: singular (inv, solve), not positive-definite
    (cholesky): torch's ``torch.linalg.LinAlgError``, a RuntimeError too."""
