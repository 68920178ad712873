"""Linear regression: fit y = 3x - 2 (plus noise) with one nn.Linear, MSE loss and SGD.

Run: python examples/linear_regression.py [--quick]
"""
import gradviz as gv
from gradviz import nn
from _progress import progress, quick

gv.manual_seed(0)
n = 200 if quick() else 1000
x = gv.rand(n, 1) * 4 - 2
y = 3 * x - 2 + 0.1 * gv.randn(n, 1)

model = nn.Linear(1, 1)
loss_fn = nn.MSELoss()
opt = gv.optim.SGD(model.parameters(), lr=0.1)
loader = gv.data.DataLoader(gv.data.TensorDataset(x, y), batch_size=50, shuffle=True)

epochs = 10 if quick() else 40
bar = progress(range(epochs), desc="training")
for epoch in bar:
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    bar.set(loss=loss.item())

w, b = model.weight.item(), model.bias.item()
print(f"learned y = {w:.3f} x {'+' if b >= 0 else '-'} {abs(b):.3f}   (true: y = 3x - 2)")
with gv.no_grad():
    print(f"final MSE on all points: {loss_fn(model(x), y).item():.5f} (noise variance 0.01)")
