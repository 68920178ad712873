// The Playground's vocabulary: layer types and their parameters, datasets, presets, the
// default spec, and the share-link encoding of a spec.
export const ACTS = ["ReLU", "Tanh", "Sigmoid", "LeakyReLU", "GELU", "ELU", "SiLU", "Softplus", "Identity"];
export const TYPES = ["Linear", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "SumPool1d", "SumPool2d",
  "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "Flatten", "Dropout", "BatchNorm", "LayerNorm", "GroupNorm", "RNN", "LSTM", "GRU",
  "TransformerEncoderLayer", ...ACTS];
export const PARAMS = {
  Linear: { out_features: 16 }, Conv1d: { out_channels: 8, kernel_size: 3, stride: 1, padding: 1 },
  Conv2d: { out_channels: 8, kernel_size: 3, stride: 1, padding: 1 }, Dropout: { p: 0.2 },
  RNN: { hidden_size: 32, num_layers: 1 }, LSTM: { hidden_size: 32, num_layers: 1 }, GRU: { hidden_size: 32, num_layers: 1 },
  GroupNorm: { num_groups: 2 }, TransformerEncoderLayer: { nhead: 2, dim_feedforward: 32, dropout: 0 },
};
for (const t of TYPES) if (t.includes("Pool")) PARAMS[t] = t.startsWith("Adaptive") ? { output_size: 4 } : { kernel_size: 2, stride: 2 };
// short labels of layer settings in the builder (others show their own name)
export const PARAM_LABELS = { out_features: "out", out_channels: "out ch", kernel_size: "kernel", hidden_size: "hidden", num_layers: "layers",
  num_groups: "groups", dim_feedforward: "ff", output_size: "out" };
// settings that are fractions (the others are whole numbers)
export const FRACTIONS = new Set(["p", "dropout"]);
export const OPT_FIELDS = { SGD: ["momentum", "weight_decay"], Adam: ["weight_decay"], AdamW: ["weight_decay"], RMSprop: ["momentum", "alpha", "weight_decay"], Adagrad: ["weight_decay"],
  NAdam: ["weight_decay"], RAdam: ["weight_decay"], Adamax: ["weight_decay"], Adadelta: ["weight_decay"] };
export const PRESETS = {
  "2d": (c) => [{ type: "Linear", out_features: 32 }, { type: "Tanh" }, { type: "Linear", out_features: 32 }, { type: "Tanh" }, { type: "Linear", out_features: c }],
  image: (c) => [{ type: "Conv2d", out_channels: 8, kernel_size: 3, stride: 1, padding: 1 }, { type: "ReLU" }, { type: "MaxPool2d", kernel_size: 2, stride: 2 },
    { type: "Flatten" }, { type: "Linear", out_features: 32 }, { type: "ReLU" }, { type: "Linear", out_features: c }],
  sequence: (c) => [{ type: "GRU", hidden_size: 32, num_layers: 1 }, { type: "Linear", out_features: c }],
};
export const KIND = { spiral: "2d", circles: "2d", moons: "2d", xor: "2d", gaussians: "2d", digits: "image", digits_rows: "sequence", mnist: "image", cifar10: "image" };
export const CLASSES = { circles: 2, moons: 2, xor: 2, gaussians: 4, digits: 10, digits_rows: 10, mnist: 10, cifar10: 10 };
export const CODE_EXAMPLE = `# Code mode: any gradviz Python. It runs in a separate, limited process and
# streams into a new session (open the Debugger tab to step through it).
import gradviz as gv
from gradviz import nn, optim, data
from gradviz.nn import functional as F

class Residual(nn.Module):
    """x + f(x): what the layer builder cannot express."""
    def __init__(self, width):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(width, width), nn.Tanh(), nn.Linear(width, width))
    def forward(self, x):
        return x + self.f(x)

X, y = data.spiral(300, noise=0.1, seed=0)
model = nn.Sequential(nn.Linear(2, 32), Residual(32), nn.Tanh(), nn.Linear(32, 2))
opt = optim.Adam(model.parameters(), lr=0.02)
for step in range(200):
    opt.zero_grad()
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    opt.step()
    gv.trace.scalar("loss", loss.item(), step)
print("final loss", loss.item())
`;

export const clone = (o) => JSON.parse(JSON.stringify(o));
export const $ = (root, sel) => root.querySelector(sel);

export function encodeSpec(spec) { return btoa(unescape(encodeURIComponent(JSON.stringify(spec)))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""); }
export function decodeSpec(text) {
  const b = text.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(decodeURIComponent(escape(atob(b + "===".slice((b.length + 3) % 4)))));
}
