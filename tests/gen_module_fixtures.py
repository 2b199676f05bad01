#!/usr/bin/env python3
"""Forward and backward of every nn module and loss against PyTorch
(tests/tests/module_parity.rs).

Run (from the repository root):

    ~/.cache/lantern-venv/bin/python tests/gen_module_fixtures.py

Writes, deterministically (seed per case, one thread), in float32 as users run modules:

tests/fixtures/modules.json
  {"generator", "torch", "cases": [{"id", "module", "args", "train", "inputs", "outputs",
   "rtol", "atol"}, ...]}
  "module" is the PyTorch class name, "args" its constructor arguments (PyTorch names; for
  losses also the reduction), "train" the mode the forward ran in, "inputs" the number of
  positional inputs and "outputs" the number of outputs compared.

tests/fixtures/modules.safetensors   (tensors of case <id>)
  "<id>/in<i>"          the i-th input (a loss's target is its input 1; class indices int64)
  "<id>/state/<key>"    the module's whole state dict before the forward (the Rust test
                        loads it with Module::load_state_dict), for modules that have one
  "<id>/weight", "<id>/pos_weight"  a loss's weights, when it has them
  "<id>/out<i>"         the i-th output
  "<id>/after/<key>"    buffers after the forward (batch norm in training mode)
  "<id>/cot<i>"         a random cotangent for output i: the backward is of
                        Σᵢ sum(outᵢ · cotᵢ)
  "<id>/gin<i>"         the gradient of that with respect to float input i (a loss's input
                        0 only; targets get none)
  "<id>/grad/<key>"     ... with respect to each parameter
"""

import json
import os

import torch
import torch.nn as nn
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")
GENERATOR = "tests/gen_module_fixtures.py"

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

# (rtol, atol): float32 layers whose outputs are short sums; recurrent and attention
# layers chain more rounding.
TOL = (1e-5, 1e-5)
TOL_DEEP = (1e-4, 2e-5)

CASES = []
TENSORS = {}


def rand(*shape, scale=1.0, offset=0.0):
    return (torch.randn(tuple(shape), dtype=torch.float64) * scale + offset).to(torch.float32)


def emit(cid, module, args, inputs, fwd, train=True, grad_inputs=None, extra=None, tol=TOL):
    """Runs `fwd(inputs)` on `module` (an nn.Module or None) and records the case."""
    assert cid not in {c["id"] for c in CASES}, cid
    if module is not None:
        # Random parameters and buffers (the default init is often ones/zeros).
        with torch.no_grad():
            for _, p in module.named_parameters():
                p.copy_(rand(*p.shape, scale=0.5))
        module.train(train)
        for k, v in module.state_dict().items():
            TENSORS[f"{cid}/state/{k}"] = v.detach().clone().contiguous()
    if grad_inputs is None:
        grad_inputs = [i for i, x in enumerate(inputs) if x.is_floating_point()]
    inputs = [x.clone().requires_grad_(i in grad_inputs) for i, x in enumerate(inputs)]
    for i, x in enumerate(inputs):
        TENSORS[f"{cid}/in{i}"] = x.detach().clone()
    for k, v in (extra or {}).items():
        TENSORS[f"{cid}/{k}"] = v.clone()
    outs = fwd(*inputs)
    if isinstance(outs, torch.Tensor):
        outs = [outs]
    total = 0
    for i, o in enumerate(outs):
        TENSORS[f"{cid}/out{i}"] = o.detach().clone().contiguous()
        cot = rand(*o.shape)
        TENSORS[f"{cid}/cot{i}"] = cot
        total = total + (o.double() * cot.double()).sum()
    total.backward()
    for i in grad_inputs:
        TENSORS[f"{cid}/gin{i}"] = inputs[i].grad.detach().clone()
    if module is not None:
        for k, p in module.named_parameters():
            TENSORS[f"{cid}/grad/{k}"] = p.grad.detach().clone()
        if train:
            for k, b in module.named_buffers():
                TENSORS[f"{cid}/after/{k}"] = b.detach().clone()
    CASES.append({"id": cid, "module": type(module).__name__ if module is not None else args.pop("_name"),
                  "args": args, "train": train, "inputs": len(inputs), "outputs": len(outs),
                  "rtol": tol[0], "atol": tol[1]})


def seeded(i):
    torch.manual_seed(1000 + i)


def modules():
    # The inputs below are drawn as the list is built.
    seeded(999)
    cases = [
        ("linear", lambda: nn.Linear(5, 3), dict(in_features=5, out_features=3, bias=True), [rand(4, 5)]),
        ("linear_nobias_3d", lambda: nn.Linear(5, 3, bias=False), dict(in_features=5, out_features=3, bias=False),
         [rand(2, 3, 5)]),
        ("conv1d", lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1),
         dict(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1, dilation=1, groups=1, bias=True),
         [rand(2, 3, 9)]),
        ("conv1d_groups_dilated", lambda: nn.Conv1d(4, 6, 3, padding=2, dilation=2, groups=2, bias=False),
         dict(in_channels=4, out_channels=6, kernel_size=3, stride=1, padding=2, dilation=2, groups=2, bias=False),
         [rand(2, 4, 7)]),
        ("conv2d", lambda: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0)),
         dict(in_channels=2, out_channels=3, kernel_size=[3, 2], stride=[2, 1], padding=[1, 0], dilation=[1, 1],
              groups=1, bias=True),
         [rand(2, 2, 6, 5)]),
        ("conv2d_groups", lambda: nn.Conv2d(4, 4, 3, padding=1, groups=2, dilation=1),
         dict(in_channels=4, out_channels=4, kernel_size=[3, 3], stride=[1, 1], padding=[1, 1], dilation=[1, 1],
              groups=2, bias=True),
         [rand(1, 4, 5, 5)]),
        ("layernorm", lambda: nn.LayerNorm([3, 4]), dict(normalized_shape=[3, 4], eps=1e-5, elementwise_affine=True,
                                                          bias=True), [rand(2, 3, 4)]),
        ("layernorm_nobias", lambda: nn.LayerNorm(4, eps=1e-3, bias=False),
         dict(normalized_shape=[4], eps=1e-3, elementwise_affine=True, bias=False), [rand(2, 3, 4, scale=2.0)]),
        ("groupnorm", lambda: nn.GroupNorm(2, 6), dict(num_groups=2, num_channels=6, eps=1e-5, affine=True),
         [rand(2, 6, 3, 2)]),
        ("maxpool2d", lambda: nn.MaxPool2d(2), dict(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0]),
         [rand(2, 3, 6, 6)]),
        ("maxpool2d_stride_pad", lambda: nn.MaxPool2d(3, stride=2, padding=1),
         dict(kernel_size=[3, 3], stride=[2, 2], padding=[1, 1]), [rand(1, 2, 7, 6)]),
        ("avgpool2d", lambda: nn.AvgPool2d(2), dict(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0],
                                                    count_include_pad=True), [rand(2, 3, 6, 6)]),
        ("avgpool2d_pad_include", lambda: nn.AvgPool2d(3, stride=2, padding=1),
         dict(kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], count_include_pad=True), [rand(1, 2, 7, 6)]),
        ("avgpool2d_pad_exclude", lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
         dict(kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], count_include_pad=False), [rand(1, 2, 7, 6)]),
        ("adaptiveavgpool2d", lambda: nn.AdaptiveAvgPool2d((3, 4)), dict(output_size=[3, 4]), [rand(1, 2, 5, 7)]),
        ("adaptiveavgpool2d_global", lambda: nn.AdaptiveAvgPool2d(1), dict(output_size=[1, 1]), [rand(2, 3, 4, 4)]),
    ]
    for i, (cid, make, args, inputs) in enumerate(cases):
        seeded(i)
        m = make()
        emit(cid, m, args, inputs, m)

    # Batch norm: a training-mode forward (batch statistics, running stats updated) and an
    # eval-mode forward from random running stats.
    for j, (name, cls, shape) in enumerate([("batchnorm1d", nn.BatchNorm1d, (6, 3)),
                                            ("batchnorm1d_3d", nn.BatchNorm1d, (4, 3, 5)),
                                            ("batchnorm2d", nn.BatchNorm2d, (4, 3, 2, 3))]):
        for train in (True, False):
            seeded(100 + 2 * j + train)
            m = cls(3, momentum=0.2)
            with torch.no_grad():
                m.running_mean.copy_(rand(3, scale=0.3))
                m.running_var.copy_(rand(3, scale=0.2, offset=1.0).abs())
                m.num_batches_tracked.fill_(3)
            args = dict(num_features=3, eps=1e-5, momentum=0.2, affine=True, track_running_stats=True)
            emit(f"{name}_{'train' if train else 'eval'}", m, args, [rand(*shape, scale=2.0, offset=0.5)], m,
                 train=train)

    seeded(200)
    m = nn.Embedding(7, 3, padding_idx=2)
    emit("embedding", m, dict(num_embeddings=7, embedding_dim=3, padding_idx=2),
         [torch.tensor([[1, 2, 6, 1], [0, 2, 5, 3]])], m)

    seeded(201)
    m = nn.MultiheadAttention(6, 2)
    mask = torch.triu(torch.full((3, 4), float("-inf")), diagonal=2)
    emit("multiheadattention", m, dict(embed_dim=6, num_heads=2, dropout=0.0, bias=True, batch_first=False,
                                       need_weights=True, average_attn_weights=True),
         [rand(3, 2, 6), rand(4, 2, 6), rand(4, 2, 6), mask],
         lambda q, k, v, am: list(m(q, k, v, attn_mask=am, need_weights=True)), grad_inputs=[0, 1, 2],
         tol=TOL_DEEP)
    seeded(202)
    m = nn.MultiheadAttention(4, 2, batch_first=True)
    kpm = torch.tensor([[False, False, True], [False, False, False]])
    emit("multiheadattention_self_kpm", m, dict(embed_dim=4, num_heads=2, dropout=0.0, bias=True, batch_first=True,
                                                need_weights=True, average_attn_weights=False),
         [rand(2, 3, 4), kpm],
         lambda x, kp: list(m(x, x, x, key_padding_mask=kp, need_weights=True, average_attn_weights=False)),
         grad_inputs=[0], tol=TOL_DEEP)

    for j, (cid, kw, shape) in enumerate([
        ("transformerencoderlayer", dict(dim_feedforward=12, dropout=0.0), (3, 2, 8)),
        ("transformerencoderlayer_pre_gelu", dict(dim_feedforward=12, dropout=0.0, activation="gelu",
                                                  batch_first=True, norm_first=True), (2, 3, 8)),
    ]):
        seeded(210 + j)
        m = nn.TransformerEncoderLayer(8, 2, **kw)
        args = dict(d_model=8, nhead=2, dim_feedforward=12, dropout=0.0, activation=kw.get("activation", "relu"),
                    batch_first=kw.get("batch_first", False), norm_first=kw.get("norm_first", False))
        emit(cid, m, args, [rand(*shape)], m, tol=TOL_DEEP)

    seeded(220)
    m = nn.LSTM(3, 4, num_layers=2)
    emit("lstm", m, dict(input_size=3, hidden_size=4, num_layers=2, batch_first=False, bidirectional=False),
         [rand(5, 2, 3), rand(2, 2, 4), rand(2, 2, 4)],
         lambda x, h, c: (lambda r: [r[0], r[1][0], r[1][1]])(m(x, (h, c))), tol=TOL_DEEP)
    seeded(221)
    m = nn.GRU(3, 4, batch_first=True, bidirectional=True)
    emit("gru", m, dict(input_size=3, hidden_size=4, num_layers=1, batch_first=True, bidirectional=True),
         [rand(2, 5, 3), rand(2, 2, 4)], lambda x, h: list(m(x, h)), tol=TOL_DEEP)


def losses():
    i = 300
    for red in ("none", "mean", "sum"):
        def case(cid, name, args, inputs, fn, extra=None):
            nonlocal i
            seeded(i)
            i += 1
            args = dict(args, reduction=red, _name=name)
            emit(f"{cid}_{red}", None, args, inputs, fn, grad_inputs=[0], extra=extra)

        seeded(i)
        x, t = rand(3, 4), rand(3, 4)
        case("mse", "MSELoss", {}, [x, t], nn.MSELoss(reduction=red))
        case("l1", "L1Loss", {}, [x, t], nn.L1Loss(reduction=red))
        case("smoothl1", "SmoothL1Loss", {"beta": 0.5}, [x, t], nn.SmoothL1Loss(reduction=red, beta=0.5))

        logits, tgt = rand(5, 4, scale=2.0), torch.tensor([0, 2, 1, 3, 2])
        w = rand(4, scale=0.3, offset=1.0)
        case("ce", "CrossEntropyLoss", {}, [logits, tgt], nn.CrossEntropyLoss(reduction=red))
        case("ce_weight_ignore_smooth", "CrossEntropyLoss", {"ignore_index": 2, "label_smoothing": 0.1},
             [logits, tgt], nn.CrossEntropyLoss(weight=w, ignore_index=2, label_smoothing=0.1, reduction=red),
             extra={"weight": w})
        probs = torch.softmax(rand(5, 4), -1)
        case("ce_probs", "CrossEntropyLoss", {}, [logits, probs], nn.CrossEntropyLoss(reduction=red))
        case("ce_probs_weight_smooth", "CrossEntropyLoss", {"label_smoothing": 0.2}, [logits, probs],
             nn.CrossEntropyLoss(weight=w, label_smoothing=0.2, reduction=red), extra={"weight": w})
        case("ce_kdim", "CrossEntropyLoss", {}, [rand(3, 4, 2, 2), torch.tensor([[[0, 1], [3, 2]]] * 3)],
             nn.CrossEntropyLoss(reduction=red))
        logp = torch.log_softmax(rand(5, 4), -1)
        case("nll", "NLLLoss", {}, [logp, tgt], nn.NLLLoss(reduction=red))
        case("nll_weight_ignore", "NLLLoss", {"ignore_index": 1}, [logp, tgt],
             nn.NLLLoss(weight=w, ignore_index=1, reduction=red), extra={"weight": w})

        p = torch.sigmoid(rand(3, 4))
        bt = torch.rand(3, 4, dtype=torch.float64).to(torch.float32)
        bw = rand(4, scale=0.3, offset=1.0)
        case("bce", "BCELoss", {}, [p, bt], nn.BCELoss(reduction=red))
        case("bce_weight", "BCELoss", {}, [p, bt], nn.BCELoss(weight=bw, reduction=red), extra={"weight": bw})
        z = rand(3, 4, scale=3.0)
        case("bcelogits", "BCEWithLogitsLoss", {}, [z, bt], nn.BCEWithLogitsLoss(reduction=red))
        pw = rand(4, scale=0.3, offset=1.5)
        case("bcelogits_weight_pos", "BCEWithLogitsLoss", {}, [z, bt],
             nn.BCEWithLogitsLoss(weight=bw, pos_weight=pw, reduction=red), extra={"weight": bw, "pos_weight": pw})

        lq = torch.log_softmax(rand(3, 4), -1)
        kt = torch.softmax(rand(3, 4), -1)
        case("kldiv", "KLDivLoss", {"log_target": False}, [lq, kt], nn.KLDivLoss(reduction=red))
        case("kldiv_logtarget", "KLDivLoss", {"log_target": True}, [lq, kt.log()],
             nn.KLDivLoss(reduction=red, log_target=True))
    seeded(i)
    case_x = torch.log_softmax(rand(3, 4), -1)
    kt = torch.softmax(rand(3, 4), -1)
    emit("kldiv_batchmean", None, {"log_target": False, "reduction": "batchmean", "_name": "KLDivLoss"},
         [case_x, kt], nn.KLDivLoss(reduction="batchmean"), grad_inputs=[0])


def main():
    modules()
    losses()
    path = os.path.join(FIX, "modules.safetensors")
    save_file(TENSORS, path, metadata={"format": "pt"})
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(TENSORS)} tensors)")
    doc = {"generator": GENERATOR, "torch": torch.__version__.split("+")[0], "cases": CASES}
    jpath = os.path.join(FIX, "modules.json")
    with open(jpath, "w") as f:
        f.write('{"generator": %s, "torch": %s, "cases": [\n' % (json.dumps(GENERATOR), json.dumps(doc["torch"])))
        f.write(",\n".join(json.dumps(c) for c in CASES))
        f.write("\n]}\n")
    print(f"wrote {jpath} ({os.path.getsize(jpath)} bytes, {len(CASES)} cases)")


if __name__ == "__main__":
    main()
