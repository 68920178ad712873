"""``gv.nn.utils.rnn``: batches of variable-length sequences, padded (``pad_sequence``) or
packed (``PackedSequence``, ``pack_padded_sequence``, ``pad_packed_sequence``,
``pack_sequence``) as torch's.

A packed batch keeps only the real steps, time-major: step 0 of every sequence, then step 1
of those that have one, ... with the sequences sorted longest first. Packing and unpacking
are one Getitem op each (an index built on the host from the lengths, as torch also needs
them there), so gradients flow through both.
"""
from collections import namedtuple

import numpy as np

from ...engine.backend import xp_of
from ...engine.functional import stack
from ...engine.tensor import Tensor
from ...errors import DeviceError, GradvizError, ShapeError

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "pad_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation"]


def _F():
    from .. import functional  # noqa: PLC0415 - functional imports nn, which imports this
    return functional


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences (L_i, *) into (L_max, B, *) (``batch_first``: (B, L_max, *)),
    padded with ``padding_value`` on the ``padding_side``; gradients flow to each sequence."""
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
    padded = [_F().pad(s, lead + ((0, n - s.shape[0]) if padding_side == "right"
                                  else (n - s.shape[0], 0)), value=padding_value)
              if s.shape[0] < n else s for s in seqs]
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (L_i, *) that ``pad_sequence`` padded into one batch."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(x, _host_ints(lengths))]


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None), on its device."""
    if permutation is None:
        return None
    return Tensor._wrap(xp_of(permutation._data).argsort(permutation._data))


_Fields = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                         "unsorted_indices"])


class PackedSequence(_Fields):
    """A packed batch: ``data`` (sum of lengths, *) holds the real steps time-major,
    ``batch_sizes`` (a CPU int64 tensor) how many sequences have step t, ``sorted_indices``
    the batch order it was packed in (None: already longest first) and ``unsorted_indices``
    its inverse. Made by ``pack_padded_sequence`` / ``pack_sequence``; RNN, LSTM and GRU take
    and return it."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:     # torch's old form: one (data, batch_sizes) pair
            data, batch_sizes = data
        if batch_sizes.device.type != "cpu":
            raise DeviceError("batch_sizes should always be on CPU: make a PackedSequence "
                              "with pack_padded_sequence or pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data`` converted as ``Tensor.to``; the indices follow it to its device (self
        when nothing changes)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_indices, unsorted_indices = (None if t is None else t.to(data.device)
                                            for t in (self.sorted_indices,
                                                      self.unsorted_indices))
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, device=None):
        """This batch on the GPU."""
        return self.to("cuda" if device is None else f"cuda:{int(device)}")

    def cpu(self):
        """This batch on the CPU."""
        return self.to("cpu")

    def double(self):
        """``data`` as float64."""
        return self.to(dtype="float64")

    def float(self):
        """``data`` as float32."""
        return self.to(dtype="float32")

    def half(self):
        """``data`` as float16."""
        return self.to(dtype="float16")

    def long(self):
        """``data`` as int64."""
        return self.to(dtype="int64")

    def int(self):
        """``data`` as int32."""
        return self.to(dtype="int32")

    @property
    def is_cuda(self):
        """Whether ``data`` is on the GPU."""
        return self.data.is_cuda


def _host_ints(lengths):
    """``lengths`` (a list, an array or a CPU tensor) as a host int64 array."""
    if isinstance(lengths, Tensor):
        if lengths.device.type != "cpu":
            raise DeviceError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                              f"{lengths.ndim}D {lengths.device} tensor")
        lengths = lengths.numpy()
    return np.asarray(lengths).astype(np.int64)


def _real_steps(lengths, steps):
    """(steps, B) bool: step t of sequence b is a real one (lengths sorted or not)."""
    return np.arange(steps)[:, None] < lengths[None, :]


def _batch_sizes(lengths):
    """A CPU int64 tensor: how many of the sequences (``lengths``) have each step."""
    return Tensor._wrap(_real_steps(lengths, int(lengths.max())).sum(axis=1).astype(np.int64))


def lengths_of(batch_sizes):
    """The sequences' lengths (longest first, a host int64 array) from ``batch_sizes``."""
    sizes = _host_ints(batch_sizes)
    return (sizes[None, :] > np.arange(sizes[0])[:, None]).sum(axis=1)


def pack_rows(padded, lengths, order=None, batch_first=False):
    """The real steps of ``padded`` ((T, B, *), or (B, T, *) when ``batch_first``), time-major
    with the sequences taken in ``order`` (host ints; None: as they are), as (sum, *)."""
    T, B = (padded.shape[1], padded.shape[0]) if batch_first else padded.shape[:2]
    t, b = np.nonzero(_real_steps(lengths, T))     # time-major: t, then b in packed order
    seq = b if order is None else order[b]
    rows = seq * T + t if batch_first else t * B + seq
    flat = padded.reshape(T * B, *padded.shape[2:])
    return flat[Tensor._wrap(xp_of(padded._data).asarray(rows))]


def unpack_rows(data, lengths, steps, padding_value=0.0, order=None, batch_first=False):
    """Packed ``data`` back into (steps, B, *) (``batch_first``: (B, steps, *)), the missing
    steps ``padding_value``; sequence i of the result is packed sequence ``order[i]``."""
    real = _real_steps(lengths, steps)
    rows = np.full(real.shape, data.shape[0])      # the row after the data: padding
    rows[real] = np.arange(data.shape[0])
    if order is not None:
        rows = rows[:, order]
    padded = _F().pad(data, (0, 0) * (data.ndim - 1) + (0, 1), value=padding_value)
    return padded[Tensor._wrap(xp_of(data._data).asarray(rows.T if batch_first else rows))]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ((T, B, *), or (B, T, *) when ``batch_first``) whose sequence b
    has ``lengths[b]`` real steps (host lengths: a list or a CPU tensor). With
    ``enforce_sorted`` the lengths must be decreasing; otherwise the batch is sorted and
    ``sorted_indices`` records how."""
    lengths = _host_ints(lengths)
    if lengths.ndim != 1:
        raise ShapeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                         f"{lengths.ndim}D")
    if input.ndim < 2:
        raise ShapeError(f"pack_padded_sequence: expected input of at least 2 dims (T, B, *), "
                         f"got {input.ndim}-D")
    batch = input.shape[0 if batch_first else 1]
    if len(lengths) != batch:
        raise ShapeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                         f"{len(lengths)} (batch_size={batch})")
    order, sorted_indices = None, None
    if not enforce_sorted:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = Tensor._wrap(xp_of(input._data).asarray(order.astype(np.int64)))
    if lengths[-1] <= 0:
        raise GradvizError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if np.any(lengths[1:] > lengths[:-1]):
        raise GradvizError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    steps = input.shape[1 if batch_first else 0]
    if lengths[0] > steps:
        raise ShapeError(f"pack_padded_sequence: a sequence of length {lengths[0]} does not "
                         f"fit an input of {steps} steps")
    data = pack_rows(input, lengths, order, batch_first)
    return PackedSequence(data, _batch_sizes(lengths), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack to (T, B, *) (``batch_first``: (B, T, *)), padded with ``padding_value`` to the
    longest sequence or to ``total_length`` steps, in the batch's original order; returns
    (padded, lengths) with lengths a CPU int64 tensor."""
    lengths = lengths_of(sequence.batch_sizes)
    steps = len(sequence.batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ShapeError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = int(total_length)
    order = None if sequence.unsorted_indices is None else \
        _host_ints(sequence.unsorted_indices.cpu())
    padded = unpack_rows(sequence.data, lengths, steps, padding_value, order, batch_first)
    return padded, Tensor._wrap(lengths if order is None else lengths[order])


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) (longest first, unless not ``enforce_sorted``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences (L_i, *) that ``pack_sequence`` packed, in their order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
