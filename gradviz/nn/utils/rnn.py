"""``gv.nn.utils.rnn``: padding a list of variable-length sequences into one batch."""
from ...engine.functional import stack
from ...errors import GradvizError, ShapeError

__all__ = ["pad_sequence"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences (L_i, *) into (L_max, B, *) (``batch_first``: (B, L_max, *)),
    padded with ``padding_value`` on the ``padding_side``; gradients flow to each sequence."""
    from .. import functional as F  # noqa: PLC0415
    seqs = list(sequences)
    if not seqs:
        raise GradvizError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise GradvizError(f"pad_sequence: padding_side must be 'left' or 'right', not "
                           f"{padding_side!r}")
    trailing = tuple(seqs[0].shape[1:])
    if any(tuple(s.shape[1:]) != trailing for s in seqs):
        raise ShapeError("pad_sequence: every sequence must have the same trailing dims, got "
                         f"{[tuple(s.shape) for s in seqs]}")
    n = max(s.shape[0] for s in seqs)
    lead = (0, 0) * len(trailing)
    padded = [F.pad(s, lead + ((0, n - s.shape[0]) if padding_side == "right"
                               else (n - s.shape[0], 0)), value=padding_value)
              if s.shape[0] < n else s for s in seqs]
    return stack(padded, 0 if batch_first else 1)
