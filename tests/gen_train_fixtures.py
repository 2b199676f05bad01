#!/usr/bin/env python3
"""Step-for-step training parity and Hessian-vector products with PyTorch
(tests/tests/train_parity.rs).

Run (from the repository root):

    ~/.cache/lantern-venv/bin/python tests/gen_train_fixtures.py

It writes two files, deterministically (fixed seeds, one thread):

tests/fixtures/train.safetensors   (safetensors.torch.save_file, metadata {"format": "pt"})
  Training, all float32 (as users train):
  - "mlp.init.<key>": the state dict of
        Sequential(Linear(64, 32), ReLU, Linear(32, 16), ReLU, Linear(16, 10))
    with torch's default init (seed 0); "mlp.x" [20, 8, 64] and "mlp.y" [20, 8] int64: the
    20 batches; "mlp.<opt>.final.<key>": the parameters after 20 steps of <opt>.
  - "cnn.*": the same for
        Sequential(Conv2d(1, 4, 3, padding=1), ReLU, MaxPool2d(2),
                   Conv2d(4, 8, 3, padding=1), ReLU, MaxPool2d(2), Flatten, Linear(72, 10))
    on "cnn.x" [20, 8, 1, 12, 12].
    Both use loss = cross_entropy(model(x), y) (mean), and <opt> is
        sgd:   SGD(lr=0.05, momentum=0.9)
        adamw: AdamW(lr=1e-3) (weight_decay 0.01, PyTorch's default)
    starting from the same init.
  - "lstm.*": one AdamW step of LSTM(5, 6) on x [4, 3, 5] (seq-first) with
    loss = mse_loss(y, target); "lstm.init.<key>", "lstm.x", "lstm.target",
    "lstm.grad.<key>" (gradients of the first step) and "lstm.after.<key>" (parameters
    after the step).
  - "tel.*": the same with SGD-momentum for TransformerEncoderLayer(8, 2,
    dim_feedforward=16, dropout=0.0, batch_first=True) on x [3, 5, 8]. Not AdamW: the key
    projection's bias has an exactly zero gradient (softmax ignores a constant added to
    every score), so both sides hold only rounding noise there (~1e-9), which Adam's first
    step divides by its own magnitude into an update of either sign.
  Hessian-vector products, float64 (so the check is tight; they test the double-backward
  rules, not f32 rounding):
  - "hvp_mlp.*": params w1 [5, 4], b1 [5], w2 [3, 5], b2 [3]; x [6, 4], t [6, 3];
        loss = mean((softplus(tanh(x w1ᵀ + b1) w2ᵀ + b2) - t)²)
    "hvp_mlp.v.<name>" the direction, "hvp_mlp.grad.<name>" the gradient and
    "hvp_mlp.hv.<name>" = d/dθ (Σ grad·v), through create_graph=True.
  - "hvp_ce.*": w [4, 5], x [6, 4], y [6] int64; loss = cross_entropy(x w, y) +
    0.5·sum(softmax(x w, -1)²) (matmul + log_softmax + softmax), same outputs for w.

tests/fixtures/train.json
  {"generator", "torch", "steps", "hyper": {opt: kwargs},
   "losses": {"mlp.sgd": [20 losses], "mlp.adamw": [...], "cnn.sgd": [...],
              "cnn.adamw": [...], "lstm": [loss], "tel": [loss], "hvp_mlp": [loss],
              "hvp_ce": [loss]}}
  with floats as Python's repr of the float64 value (the f32 loss widened exactly).
"""

import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")
GENERATOR = "tests/gen_train_fixtures.py"
STEPS = 20
BATCH = 8
HYPER = {
    "sgd": {"lr": 0.05, "momentum": 0.9},
    "adamw": {"lr": 1e-3, "weight_decay": 0.01},
}

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def optimizer(name, params):
    if name == "sgd":
        return torch.optim.SGD(params, **HYPER["sgd"])
    return torch.optim.AdamW(params, **HYPER["adamw"])


def mlp():
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(72, 10),
    )


def state(m):
    return {k: v.detach().clone().contiguous() for k, v in m.state_dict().items()}


def train_case(out, losses, name, make, xshape):
    torch.manual_seed(0)
    init = state(make())
    x = torch.randn([STEPS, BATCH] + xshape, dtype=torch.float64).to(torch.float32)
    y = torch.randint(0, 10, (STEPS, BATCH), dtype=torch.int64)
    out[f"{name}.x"], out[f"{name}.y"] = x, y
    for k, v in init.items():
        out[f"{name}.init.{k}"] = v
    for opt_name in HYPER:
        m = make()
        m.load_state_dict(init)
        opt = optimizer(opt_name, m.parameters())
        ls = []
        for s in range(STEPS):
            opt.zero_grad()
            loss = F.cross_entropy(m(x[s]), y[s])
            loss.backward()
            opt.step()
            ls.append(loss.item())
        losses[f"{name}.{opt_name}"] = ls
        for k, v in state(m).items():
            out[f"{name}.{opt_name}.final.{k}"] = v


def one_step(out, losses, name, m, x, target, opt_name, fwd):
    init = state(m)
    out[f"{name}.x"], out[f"{name}.target"] = x, target
    for k, v in init.items():
        out[f"{name}.init.{k}"] = v
    opt = optimizer(opt_name, m.parameters())
    opt.zero_grad()
    loss = F.mse_loss(fwd(m, x), target)
    loss.backward()
    for k, p in m.named_parameters():
        out[f"{name}.grad.{k}"] = p.grad.detach().clone()
    opt.step()
    for k, v in state(m).items():
        out[f"{name}.after.{k}"] = v
    losses[name] = [loss.item()]


def hvp(out, losses, name, params, loss_fn, inputs):
    for k, v in inputs.items():
        out[f"{name}.{k}"] = v
    names = list(params)
    leaves = [params[k].clone().requires_grad_(True) for k in names]
    vs = [torch.randn_like(p) for p in leaves]
    loss = loss_fn(dict(zip(names, leaves)))
    gs = torch.autograd.grad(loss, leaves, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(gs, vs))
    hv = torch.autograd.grad(dot, leaves)
    for k, p, v, g, h in zip(names, leaves, vs, gs, hv):
        out[f"{name}.param.{k}"] = p.detach()
        out[f"{name}.v.{k}"] = v
        out[f"{name}.grad.{k}"] = g.detach()
        out[f"{name}.hv.{k}"] = h
    losses[name] = [loss.item()]


def main():
    out, losses = {}, {}
    train_case(out, losses, "mlp", mlp, [64])
    train_case(out, losses, "cnn", cnn, [1, 12, 12])

    torch.manual_seed(1)
    lstm = nn.LSTM(5, 6)
    x = torch.randn(4, 3, 5)
    one_step(out, losses, "lstm", lstm, x, torch.randn(4, 3, 6), "adamw", lambda m, x: m(x)[0])

    torch.manual_seed(2)
    tel = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    x = torch.randn(3, 5, 8)
    one_step(out, losses, "tel", tel, x, torch.randn(3, 5, 8), "sgd", lambda m, x: m(x))

    f64 = torch.float64
    torch.manual_seed(3)
    params = {"w1": torch.randn(5, 4, dtype=f64) * 0.7, "b1": torch.randn(5, dtype=f64) * 0.3,
              "w2": torch.randn(3, 5, dtype=f64) * 0.7, "b2": torch.randn(3, dtype=f64) * 0.3}
    x, t = torch.randn(6, 4, dtype=f64), torch.randn(6, 3, dtype=f64)

    def mlp_loss(p):
        h = torch.tanh(x @ p["w1"].t() + p["b1"])
        return ((F.softplus(h @ p["w2"].t() + p["b2"]) - t) ** 2).mean()

    hvp(out, losses, "hvp_mlp", params, mlp_loss, {"x": x, "t": t})

    torch.manual_seed(4)
    params = {"w": torch.randn(4, 5, dtype=f64)}
    x, y = torch.randn(6, 4, dtype=f64), torch.randint(0, 5, (6,), dtype=torch.int64)

    def ce_loss(p):
        z = x @ p["w"]
        return F.cross_entropy(z, y) + 0.5 * (torch.softmax(z, -1) ** 2).sum()

    hvp(out, losses, "hvp_ce", params, ce_loss, {"x": x, "y": y})

    path = os.path.join(FIX, "train.safetensors")
    save_file(out, path, metadata={"format": "pt"})
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(out)} tensors)")
    doc = {"generator": GENERATOR, "torch": torch.__version__.split("+")[0], "steps": STEPS,
           "hyper": HYPER, "losses": losses}
    jpath = os.path.join(FIX, "train.json")
    with open(jpath, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {jpath} ({os.path.getsize(jpath)} bytes)")


if __name__ == "__main__":
    main()
