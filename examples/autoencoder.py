"""An autoencoder squeezing the 64-pixel digits through an 8-number code and back.

The reconstruction loss (MSE) printed each epoch falls as it learns.
Run: python examples/autoencoder.py [--quick]
"""
import gradviz as gv
from gradviz import nn
from _progress import progress, quick

gv.manual_seed(0)
Xtr, _ = gv.data.digits("train")
Xte, _ = gv.data.digits("test")
loader = gv.data.DataLoader(gv.data.TensorDataset(Xtr), batch_size=64, shuffle=True)


class AutoEncoder(nn.Module):
    """64 → 32 → 8 → 32 → 64 with a sigmoid output (pixels are in [0, 1])."""

    def __init__(self, code=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, code))
        self.decoder = nn.Sequential(nn.Linear(code, 32), nn.ReLU(), nn.Linear(32, 64),
                                     nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


model = AutoEncoder()
loss_fn = nn.MSELoss()
opt = gv.optim.Adam(model.parameters(), lr=3e-3)

with gv.no_grad():
    print(f"before training: test reconstruction MSE {loss_fn(model(Xte), Xte).item():.5f}")
epochs = 3 if quick() else 30
for epoch in range(epochs):
    total = 0.0
    for (xb,) in progress(loader, desc=f"epoch {epoch + 1:2d}"):
        loss = loss_fn(model(xb), xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    with gv.no_grad():
        test = loss_fn(model(Xte), Xte).item()
    print(f"epoch {epoch + 1:2d}: train MSE {total / len(Xtr):.5f}  test MSE {test:.5f}")
