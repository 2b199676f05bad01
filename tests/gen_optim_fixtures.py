"""Fixtures for Lantern's optimizers, gradient clipping and LR schedulers
(tests/tests/optim.rs), computed with PyTorch in float64.

Run: ~/.cache/lantern-venv/bin/python tests/gen_optim_fixtures.py  →  tests/fixtures/optim.json

- "optimizers": each case runs 5 steps on the fixed quadratic
      loss = sum(a * (x - t) * (x - t)) + sum(c * (y - u) * (y - u))
  over two float64 parameters x [3] and y [2, 2] (initial values, a, t, c, u below), and
  records the loss before each step and both parameters after each step.
- "clip": gradients g1 [3], g2 [2, 2]; for each (max_norm, norm_type) the total norm
  returned by clip_grad_norm_ and the clipped gradients; and clip_grad_value_.
- "schedulers": the learning rate after construction and after each of `steps` steps
  (optimizer.step() then scheduler.step()), via get_last_lr(); with "momentum", the optimizer's
  momentum (SGD) or beta1 (Adam) at the same points.
Floats are written with Python's repr (shortest round-trip), so they parse exactly.
"""

import json
import math
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))

X0 = [1.5, -2.0, 0.25]
Y0 = [[0.5, -1.0], [2.0, 0.75]]
A = [1.0, 3.0, 0.5]
T = [0.2, 0.4, -0.6]
C = [[2.0, 0.25], [1.0, 4.0]]
U = [[-0.5, 0.5], [1.0, 0.0]]

OPTIMIZERS = [
    ("sgd", "SGD", dict(lr=0.1)),
    ("sgd_momentum", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd_nesterov", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("adam", "Adam", dict(lr=0.1)),
    ("adam_amsgrad_wd", "Adam", dict(lr=0.1, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("adamw", "AdamW", dict(lr=0.1, weight_decay=0.1)),
    ("adamw_amsgrad", "AdamW", dict(lr=0.1, amsgrad=True)),
    ("rmsprop", "RMSprop", dict()),
    ("rmsprop_momentum_centered", "RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.1)),
    ("rmsprop_centered", "RMSprop", dict(lr=0.05, centered=True)),
    ("adagrad", "Adagrad", dict(lr=0.1)),
    ("adagrad_decay", "Adagrad", dict(lr=0.5, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
]


def optimizer_case(name, cls, kw):
    x = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(Y0, dtype=torch.float64, requires_grad=True)
    a, t = torch.tensor(A, dtype=torch.float64), torch.tensor(T, dtype=torch.float64)
    c, u = torch.tensor(C, dtype=torch.float64), torch.tensor(U, dtype=torch.float64)
    opt = getattr(torch.optim, cls)([x, y], **kw)
    losses, xs, ys = [], [], []
    for _ in range(5):
        opt.zero_grad()
        loss = (a * (x - t) * (x - t)).sum() + (c * (y - u) * (y - u)).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        xs.append(x.detach().flatten().tolist())
        ys.append(y.detach().flatten().tolist())
    kw = {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()}
    return {"name": name, "optimizer": cls, "kwargs": kw, "losses": losses, "x": xs, "y": ys}


def clip_cases():
    g1 = [3.0, -4.0, 1.0]
    g2 = [[0.5, -2.5], [6.0, 0.125]]
    out = {"g1": g1, "g2": g2, "norm": [], "value": []}
    for max_norm, norm_type in [(1.0, 2.0), (100.0, 2.0), (2.0, 1.0), (3.0, math.inf), (0.5, 3.0)]:
        p1 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        p2 = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
        p1.grad = torch.tensor(g1, dtype=torch.float64)
        p2.grad = torch.tensor(g2, dtype=torch.float64)
        total = torch.nn.utils.clip_grad_norm_([p1, p2], max_norm, norm_type)
        out["norm"].append({
            "max_norm": max_norm,
            "norm_type": "inf" if math.isinf(norm_type) else norm_type,
            "total": total.item(),
            "g1": p1.grad.tolist(),
            "g2": p2.grad.flatten().tolist(),
        })
    for clip in [1.0, 0.3]:
        p1 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        p2 = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
        p1.grad = torch.tensor(g1, dtype=torch.float64)
        p2.grad = torch.tensor(g2, dtype=torch.float64)
        torch.nn.utils.clip_grad_value_([p1, p2], clip)
        out["value"].append({"clip": clip, "g1": p1.grad.tolist(), "g2": p2.grad.flatten().tolist()})
    return out


SCHEDULERS = [
    ("step", "SGD", 0.1, "StepLR", dict(step_size=3, gamma=0.5), 12),
    ("multistep", "SGD", 0.1, "MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3), 12),
    ("multistep_zero", "SGD", 0.1, "MultiStepLR", dict(milestones=[0, 3], gamma=0.5), 6),
    ("exponential", "SGD", 0.1, "ExponentialLR", dict(gamma=0.9), 12),
    ("cosine", "SGD", 0.1, "CosineAnnealingLR", dict(T_max=7, eta_min=0.001), 30),
    ("cosine_zero_min", "SGD", 0.05, "CosineAnnealingLR", dict(T_max=4), 12),
    ("linear", "SGD", 0.1, "LinearLR", dict(start_factor=0.25, end_factor=1.0, total_iters=6), 10),
    ("linear_default", "SGD", 0.1, "LinearLR", dict(), 8),
    ("linear_down", "SGD", 0.1, "LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=4), 6),
    ("onecycle", "SGD", 0.1, "OneCycleLR", dict(max_lr=0.5, total_steps=20), 20),
    ("onecycle_adam", "Adam", 0.1, "OneCycleLR", dict(max_lr=0.01, total_steps=15, pct_start=0.25), 15),
    ("onecycle_linear_3phase", "SGD", 0.1, "OneCycleLR",
     dict(max_lr=1.0, total_steps=25, anneal_strategy="linear", three_phase=True, div_factor=10.0,
          final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9), 25),
    ("onecycle_no_momentum", "Adagrad", 0.1, "OneCycleLR", dict(max_lr=0.2, total_steps=10, cycle_momentum=False), 10),
]


def momentum_of(opt):
    g = opt.param_groups[0]
    return g["betas"][0] if "betas" in g else g.get("momentum")


def scheduler_case(name, ocls, lr, scls, kw, steps):
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    okw = dict(lr=lr)
    if ocls == "SGD":
        okw["momentum"] = 0.9
    opt = getattr(torch.optim, ocls)([p], **okw)
    sched = getattr(torch.optim.lr_scheduler, scls)(opt, **kw)
    lrs, moms = [sched.get_last_lr()[0]], [momentum_of(opt)]
    for _ in range(steps):
        p.grad = torch.ones_like(p)
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        moms.append(momentum_of(opt))
    case = {"name": name, "optimizer": ocls, "lr": lr, "scheduler": scls, "kwargs": kw, "steps": steps, "lrs": lrs}
    if scls == "OneCycleLR" and kw.get("cycle_momentum", True):
        case["momentum"] = moms
    return case


def main():
    out = {
        "x0": X0, "y0": Y0, "a": A, "t": T, "c": C, "u": U,
        "optimizers": [optimizer_case(*c) for c in OPTIMIZERS],
        "clip": clip_cases(),
        "schedulers": [scheduler_case(*c) for c in SCHEDULERS],
    }
    path = os.path.join(HERE, "fixtures", "optim.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
