"""Batch vs mini-batch vs stochastic gradient descent on one problem, side by side.

The same small MLP (same initial weights) learns the two-moons set three ways, each for the
same number of epochs (passes over the data): full-batch GD takes one step per epoch,
mini-batch GD one per 32 points, SGD one per point. The table shows loss per epoch.
Run: python examples/gd_variants.py [--quick]
"""
import time

import gradviz as gv
from gradviz import nn
from _progress import progress, quick

gv.manual_seed(0)
X, y = gv.data.moons(n=200 if quick() else 400, noise=0.15)
data = gv.data.TensorDataset(X, y)
start = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)).state_dict()
variants = {"batch GD": (len(data), 0.5), "mini-batch (32)": (32, 0.2), "SGD (1)": (1, 0.02)}
epochs = 3 if quick() else 15
loss_fn = nn.CrossEntropyLoss()
curves, results = {}, {}

for name, (batch_size, lr) in variants.items():
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    model.load_state_dict(start)
    opt = gv.optim.SGD(model.parameters(), lr=lr)
    gv.manual_seed(1)  # the same shuffles for everyone
    loader = gv.data.DataLoader(data, batch_size=batch_size, shuffle=True)
    curve, steps, t0 = [], 0, time.perf_counter()
    for epoch in progress(range(epochs), desc=f"{name:>16}"):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
        with gv.no_grad():
            curve.append(loss_fn(model(X), y).item())
    with gv.no_grad():
        acc = (model(X).argmax(1) == y).float().mean().item()
    curves[name] = curve
    results[name] = (steps, time.perf_counter() - t0, acc)

names = list(variants)
print("\nloss on the whole set after each epoch")
print("epoch " + "".join(f"{n:>18}" for n in names))
for e in range(epochs):
    print(f"{e + 1:5d} " + "".join(f"{curves[n][e]:18.4f}" for n in names))
print("steps " + "".join(f"{results[n][0]:18d}" for n in names))
print("time  " + "".join(f"{results[n][1]:17.2f}s" for n in names))
print("acc   " + "".join(f"{results[n][2]:18.3f}" for n in names))
