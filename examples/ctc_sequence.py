"""A small sequence model trained with CTC on synthetic data.

Each input is a sequence of noisy frames; a symbol (1..5) shows up as a run of 2-3 frames
holding its one-hot code, with 1-2 noise frames around it. The target is only the list of
symbols (2-4 of them), not where they are: CTC learns the alignment. A GRU reads the
frames, a linear layer scores "blank" + 5 symbols per frame, and greedy decoding (best
class per frame, merge repeats, drop blanks) reads the answer back.
Run: python examples/ctc_sequence.py [--quick]
"""
import numpy as np

import gradviz as gv
from gradviz import nn
from gradviz.nn import functional as F
from _progress import progress, quick

SYMBOLS, MAX_LEN = 5, 4
T = 2 * (MAX_LEN + 1) + 3 * MAX_LEN  # longest possible input: gaps + symbol runs


def make_data(n, rng):
    """Frames (n, T, SYMBOLS) float32, targets (n, MAX_LEN) int64 padded with 0, lengths."""
    lengths = rng.integers(2, MAX_LEN + 1, n)
    labels = rng.integers(1, SYMBOLS + 1, (n, MAX_LEN))
    labels[np.arange(MAX_LEN) >= lengths[:, None]] = 0
    runs = rng.integers(2, 4, (n, MAX_LEN))
    gaps = rng.integers(1, 3, (n, MAX_LEN))
    start = np.cumsum(gaps + runs, 1) - runs            # first frame of each symbol's run
    t = np.arange(T)
    frames = np.zeros((n, T), np.int64)
    for k in range(MAX_LEN):                            # vectorised over the samples
        on = (t >= start[:, k:k + 1]) & (t < start[:, k:k + 1] + runs[:, k:k + 1])
        frames = np.where(on & (k < lengths[:, None]), labels[:, k:k + 1], frames)
    x = np.eye(SYMBOLS + 1, dtype=np.float32)[frames][..., 1:]
    x += 0.3 * rng.standard_normal(x.shape).astype(np.float32)
    return gv.tensor(x), gv.tensor(labels), gv.tensor(lengths)


def greedy_accuracy(log_probs, labels, lengths):
    """Share of sequences whose greedy CTC decoding equals the target exactly."""
    best = log_probs.argmax(-1).numpy()                 # (n, T)
    prev = np.concatenate([np.zeros_like(best[:, :1]), best[:, :-1]], 1)
    keep = (best != 0) & (best != prev)
    order = np.argsort(~keep, axis=1, kind="stable")    # kept symbols first, in order
    decoded = np.take_along_axis(best * keep, order, 1)[:, :MAX_LEN]
    ok = (keep.sum(1) == lengths.numpy()) & (decoded == labels.numpy()).all(1)
    return ok.mean()


class Reader(nn.Module):
    """GRU over the frames, then per-frame log-probabilities of blank + symbols."""

    def __init__(self, hidden=48):
        super().__init__()
        self.rnn = nn.GRU(SYMBOLS, hidden, batch_first=True)
        self.out = nn.Linear(hidden, SYMBOLS + 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return F.log_softmax(self.out(h), dim=-1)       # (n, T, classes)


gv.manual_seed(0)
rng = np.random.default_rng(0)
train = make_data(400 if quick() else 2000, rng)
test = make_data(200 if quick() else 500, rng)
model = Reader()
opt = gv.optim.Adam(model.parameters(), lr=1e-2)
loader = gv.data.DataLoader(gv.data.TensorDataset(*train), batch_size=50, shuffle=True)


def ctc(log_probs, labels, lengths):
    n = log_probs.shape[0]
    return F.ctc_loss(log_probs.transpose(0, 1), labels, gv.full((n,), T, dtype=gv.int64),
                      lengths, blank=0)


epochs = 2 if quick() else 12
for epoch in range(epochs):
    bar = progress(loader, desc=f"epoch {epoch + 1:2d}")
    for x, labels, lengths in bar:
        loss = ctc(model(x), labels, lengths)
        opt.zero_grad()
        loss.backward()
        opt.step()
        bar.set(ctc=loss.item())
    with gv.no_grad():
        lp = model(test[0])
        acc = greedy_accuracy(lp, test[1], test[2])
        print(f"epoch {epoch + 1:2d}: test CTC loss {ctc(lp, *test[1:]).item():.4f}  "
              f"greedy decode accuracy {acc:.3f}")

with gv.no_grad():
    best = model(test[0][:3]).argmax(-1).numpy()
for row, lab, n in zip(best, test[1][:3].numpy(), test[2][:3].numpy()):
    frames = "".join("-" if c == 0 else str(c) for c in row)
    print(f"target {''.join(map(str, lab[:n])):<5} frames {frames}")
