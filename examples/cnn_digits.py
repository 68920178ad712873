"""A small convolutional network (conv + max-pool, twice) on the shipped 8x8 digits.

Run: python examples/cnn_digits.py [--quick]
"""
import gradviz as gv
from gradviz import nn
from _progress import progress, quick

gv.manual_seed(0)
Xtr, ytr = gv.data.digits("train", flatten=False)     # (n, 1, 8, 8)
Xte, yte = gv.data.digits("test", flatten=False)
loader = gv.data.DataLoader(gv.data.TensorDataset(Xtr, ytr), batch_size=32, shuffle=True)

model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # 16 x 4 x 4
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 2 x 2
    nn.Flatten(), nn.Linear(32 * 2 * 2, 10))
loss_fn = nn.CrossEntropyLoss()
opt = gv.optim.Adam(model.parameters(), lr=3e-3)


def accuracy(X, y):
    """Fraction of correctly classified images."""
    with gv.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


epochs = 2 if quick() else 20
bar = progress(range(epochs), desc="training")
for epoch in bar:
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    bar.set(loss=loss.item())

print(f"test accuracy: {accuracy(Xte, yte):.4f} on {len(yte)} held-out digits")
