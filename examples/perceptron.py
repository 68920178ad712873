"""A perceptron: one linear unit with a step output, trained by Rosenblatt's rule (on each
misclassified point, w += lr·t·x with t = ±1) written as the loss ``-t·(w·x + b)`` over the
mistakes, on two Gaussian blobs.

Run: python examples/perceptron.py [--quick]
"""
import gradviz as gv
from gradviz import nn
from _progress import progress, quick

gv.manual_seed(0)
X, y = gv.data.gaussians(n=200 if quick() else 600, noise=0.0)
t = y.float() * 2 - 1                       # labels as -1 / +1

unit = nn.Linear(2, 1)
nn.init.zeros_(unit.weight)                 # the classic perceptron starts from w = 0
nn.init.zeros_(unit.bias)
opt = gv.optim.SGD(unit.parameters(), lr=0.1)
loader = gv.data.DataLoader(gv.data.TensorDataset(X, t), batch_size=1, shuffle=True)


def accuracy():
    """Fraction of points on the right side of the line."""
    with gv.no_grad():
        pred = gv.where(unit(X).squeeze(1) >= 0, 1.0, -1.0)
    return (pred == t).float().mean().item()


print(f"before training: accuracy {accuracy():.3f}")
for epoch in range(3 if quick() else 10):
    mistakes = 0
    for xb, tb in progress(loader, desc=f"epoch {epoch + 1}"):
        score = unit(xb).squeeze(1)
        wrong = (tb * score <= 0).float()   # a point on the line counts as a mistake
        loss = -(wrong * tb * score).sum()  # its gradient is the perceptron rule: w += lr·t·x
        mistakes += int(wrong.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"epoch {epoch + 1}: {mistakes} updates, accuracy {accuracy():.3f}")
    if mistakes == 0:
        print("converged: every training point is on the right side")
        break

w = unit.weight.detach()[0].tolist()
print(f"decision boundary: {w[0]:.3f}·x1 + {w[1]:.3f}·x2 + {unit.bias.item():.3f} = 0")
