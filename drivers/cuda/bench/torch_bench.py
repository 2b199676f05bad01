"""PyTorch's side of examples/cuda_bench.rs, on the same GPU: the same measurements, printed as
one JSON object. TF32 stays off (PyTorch's default for matmul). Then, given the Lantern
JSON as argv[1], prints a table of both and the Lantern/PyTorch ratios.

    python3 drivers/cuda/bench/torch_bench.py lantern.json
"""
import json
import sys
import time

import torch

torch.backends.cuda.matmul.allow_tf32 = False
dev = "cuda"


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(iters):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / iters


def matmul(dt):
    n = 4096
    a = torch.randn(n, n, device=dev).to(dt)
    b = torch.randn(n, n, device=dev).to(dt)
    s = timed(lambda: a @ b, 3, 20)
    return 2 * n**3 / s / 1e12


def add():
    n = (256 << 20) // 4
    a = torch.randn(n, device=dev)
    b = torch.randn(n, device=dev)
    s = timed(lambda: a + b, 3, 50)
    return 3 * n * 4 / s / 1e9


def tiny():
    a = torch.ones(1, device=dev)
    return timed(lambda: a + a, 100, 20000) * 1e6


def mlp():
    batch, dims = 256, [784, 512, 512, 10]
    x = torch.randn(batch, dims[0], device=dev)
    target = torch.nn.functional.one_hot(torch.randint(0, 10, (batch,), device=dev), 10).float()
    params = []
    for i, o in zip(dims, dims[1:]):
        params.append(((torch.randn(i, o, device=dev) * 0.05).requires_grad_(), torch.zeros(o, device=dev).requires_grad_()))

    def step():
        h = x
        for k, (w, b) in enumerate(params):
            h = h @ w + b
            if k + 1 < len(params):
                h = h.relu()
        loss = -(h.log_softmax(-1) * target).sum() / batch
        loss.backward()

    return timed(step, 3, 50) * 1e3


def cnn():
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10)).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(64, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (64,), device=dev)

    def step():
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return timed(step, 3, 50) * 1e3


out = {
    "device": torch.cuda.get_device_name(),
    "torch": torch.__version__,
    "matmul_f32_tflops": matmul(torch.float32),
    "matmul_bf16_tflops": matmul(torch.bfloat16),
    "add_256mib_gbps": add(),
    "tiny_add_us": tiny(),
    "mlp_step_ms": mlp(),
    "cnn_step_ms": cnn(),
}
print(json.dumps(out, indent=2))

if len(sys.argv) > 1:
    lt = json.load(open(sys.argv[1]))
    rows = [
        ("matmul f32 4096^3 (TFLOP/s)", "matmul_f32_tflops", True),
        ("matmul bf16 4096^3 (TFLOP/s)", "matmul_bf16_tflops", True),
        ("add 256 MiB f32 (GB/s, r+w)", "add_256mib_gbps", True),
        ("tiny add, host time (us/op)", "tiny_add_us", False),
        ("MLP fwd+bwd step (ms)", "mlp_step_ms", False),
        ("CNN train step b64 (ms)", "cnn_step_ms", False),
    ]
    print(f"\n{'benchmark':<32} {'Lantern':>10} {'PyTorch':>10} {'Lantern/PyTorch':>16}")
    for name, k, higher in rows:
        a, b = lt.get(k), out[k]
        if isinstance(a, (int, float)):
            ratio = a / b if higher else b / a
            print(f"{name:<32} {a:>10.3f} {b:>10.3f} {ratio:>15.2f}x")
        else:
            print(f"{name:<32} {str(a):>10} {b:>10.3f}")
    print("(ratios are Lantern speed / PyTorch speed: above 1 is faster; add vs 3000 GB/s peak: "
          f"{lt.get('add_256mib_gbps', 0) / 3000:.0%} Lantern, {out['add_256mib_gbps'] / 3000:.0%} PyTorch)")
