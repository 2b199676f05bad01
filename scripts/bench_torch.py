#!/usr/bin/env python3
"""The PyTorch side of scripts/bench, and its table.

  python bench_torch.py run --threads N [--budget SECONDS] WORKLOAD...
      times the workloads in PyTorch (needs torch) and prints one JSON object of medians,
      the same protocol and workloads as core/examples/bench_ops.rs;
  python3 bench_torch.py table FILE...
      reads the JSON lines of both runners (any number of rounds) and prints the table
      (needs no torch).

Workloads (add one here, in bench_ops.rs and in scripts/bench's list):
  matmul:N  f32 N x N @ N x N        add:N  f32 [N] + [N]        tiny_add  [4] + [4]
  tiny_add_grad  [4] + [4] with one operand requiring grad (records an autograd node)
  gelu:N  exact GELU on [N]          softmax:RxC  softmax over the last dim of [R, C]
  conv2d  forward + backward (x, weight, bias gradients for a fixed output gradient) of a
          3x3 convolution with bias, padding 1: batch 64, 32->64 channels, 28x28
  mlp_step  one training step of an MLP 784-256-128-10
  cnn_step  one training step of conv(1->16,3x3,pad 1)-relu-maxpool2-conv(16->32,3x3,pad 1)-
            relu-maxpool2-flatten-linear(32*7*7->10)
  (a step: batch 64 of fixed random inputs and int64 labels; forward, cross-entropy,
  zero_grad, backward, SGD momentum 0.9 lr 0.01 step.) Lantern also reports its CPU
  driver's peak memory and pool system allocations per step for the _step workloads;
  PyTorch's CPU allocator has no such counters (the table prints n/a).

Protocol (identical in bench_ops.rs): warm up for 10% of the budget (at least 2 calls), pick
a call count per sample so one sample takes >= 5 ms, take samples until the budget is spent
(at least 5, at most 200), report the median of the per-call times.
"""

import json
import re
import statistics
import sys
import time


def measure(budget, f):
    t0 = time.perf_counter()
    calls = 0
    while calls < 2 or time.perf_counter() - t0 < budget * 0.1:
        f()
        calls += 1
    per_call = (time.perf_counter() - t0) / calls
    iters = max(1, int(-(-0.005 // per_call)))
    samples = []
    start = time.perf_counter()
    while len(samples) < 5 or (time.perf_counter() - start < budget and len(samples) < 200):
        t = time.perf_counter()
        for _ in range(iters):
            f()
        samples.append((time.perf_counter() - t) / iters)
    samples.sort()
    return samples[len(samples) // 2], len(samples), iters


def workload(torch, name):
    """A zero-argument callable running one call of workload `name`."""
    kind, _, arg = name.partition(":")
    torch.manual_seed(0)
    if kind == "matmul":
        n = int(arg)
        a, b = torch.randn(n, n), torch.randn(n, n)
        return lambda: a @ b
    if kind == "add":
        n = int(arg)
        a, b = torch.randn(n), torch.randn(n)
        return lambda: a + b
    if kind == "gelu":
        a = torch.randn(int(arg))
        return lambda: torch.nn.functional.gelu(a)
    if kind == "softmax":
        r, c = (int(v) for v in arg.split("x"))
        a = torch.randn(r, c)
        return lambda: torch.softmax(a, -1)
    if kind == "conv2d":
        x = torch.randn(64, 32, 28, 28).requires_grad_()
        w = (torch.randn(64, 32, 3, 3) * 0.06).requires_grad_()
        b = torch.randn(64).requires_grad_()
        gy = torch.randn(64, 64, 28, 28)
        conv2d = torch.nn.functional.conv2d

        def fwd_bwd():
            y = conv2d(x, w, b, padding=1)
            torch.autograd.grad(y, (x, w, b), gy)

        return fwd_bwd
    if kind == "tiny_add":
        a, b = torch.randn(4), torch.randn(4)
        return lambda: a + b
    if kind == "tiny_add_grad":
        a, b = torch.randn(4).requires_grad_(), torch.randn(4)
        return lambda: a + b
    if kind in ("mlp_step", "cnn_step"):
        nn = torch.nn
        if kind == "mlp_step":
            model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                                  nn.ReLU(), nn.Linear(128, 10))
            x = torch.randn(64, 784)
        else:
            model = nn.Sequential(
                nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
            x = torch.randn(64, 1, 28, 28)
        y = torch.randint(0, 10, (64,))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        cross_entropy = torch.nn.functional.cross_entropy

        def step():
            loss = cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step
    raise SystemExit(f"bench_torch.py: unknown workload {name}")


def backend_info(torch):
    """Which BLAS and CPU kernels this torch uses (for the table's header)."""
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=(\w+)", cfg)
    blas = m.group(1) if m else "unknown"
    m = re.search(r"Math Kernel Library Version (\S+)", cfg)
    if m:
        blas += f" {m.group(1)}"
    cap = torch.backends.cpu.get_cpu_capability()
    return f"torch {torch.__version__}, BLAS {blas}, CPU kernels {cap}"


def run(argv):
    threads, budget, names = None, 1.0, []
    it = iter(argv)
    for a in it:
        if a == "--threads":
            threads = int(next(it))
        elif a == "--budget":
            budget = float(next(it))
        else:
            names.append(a)
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    results = {}
    for name in names:
        # the _step workloads and conv2d train (autograd on); the others run without autograd
        train = name.endswith("_step") or name == "conv2d"
        grad = torch.enable_grad() if train else torch.no_grad()
        with grad:
            median, samples, iters = measure(budget, workload(torch, name))
        results[name] = {"median_s": median, "samples": samples, "iters": iters}
    print(json.dumps({
        "runner": "torch",
        "threads": str(torch.get_num_threads()),
        "info": backend_info(torch),
        "results": results,
    }))


def fmt_time(s):
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.2f} µs"


def extra(name, s):
    """A workload's rate column: GFLOP/s for matmul, GB/s for add, steps/s for a _step."""
    kind, _, arg = name.partition(":")
    if kind == "matmul":
        n = int(arg)
        return f"{2 * n**3 / s / 1e9:.1f} GFLOP/s"
    if kind == "add":
        return f"{3 * 4 * int(arg) / s / 1e9:.1f} GB/s"
    if kind == "conv2d":
        # forward, input and weight gradients: 3 products of 2·N·OC·C·9·H·W flops each
        return f"{3 * 2 * 64 * 64 * 32 * 9 * 28 * 28 / s / 1e9:.1f} GFLOP/s"
    if kind.endswith("_step"):
        return f"{1 / s:.0f} steps/s"
    return ""


def table(paths):
    runs = []
    for p in paths:
        with open(p) as fh:
            runs += [json.loads(line) for line in fh if line.strip().startswith("{")]
    info = next((r["info"] for r in runs if "info" in r), "PyTorch did not run")
    # (workload, threads) -> runner -> medians over rounds
    cells, order = {}, []
    # (workload, threads) -> (peak bytes, allocations per step) of each Lantern round
    mem = {}
    for r in runs:
        for name, v in r["results"].items():
            key = (name, r["threads"])
            if key not in cells:
                cells[key] = {}
                order.append(key)
            cells[key].setdefault(r["runner"], []).append(v["median_s"])
            if r["runner"] == "lantern" and "peak_bytes" in v:
                mem.setdefault(key, []).append((v["peak_bytes"], v["allocs_per_step"]))
    rows = [("workload", "threads", "PyTorch median", "Lantern median", "ratio L/P",
             "PyTorch rate", "Lantern rate", "rounds")]
    for name, thr in sorted(order, key=lambda k: (k[1], order.index(k))):
        c = cells[(name, thr)]
        p = statistics.median(c["torch"]) if "torch" in c else None
        lt = statistics.median(c["lantern"]) if "lantern" in c else None
        rows.append((
            name, thr,
            fmt_time(p) if p else "-",
            fmt_time(lt) if lt else "-",
            f"{lt / p:.2f}" if p and lt else "-",
            extra(name, p) if p else "",
            extra(name, lt) if lt else "",
            str(max(len(c.get("torch", [])), len(c.get("lantern", [])))),
        ))
    print(f"PyTorch: {info}")
    print("ratio = Lantern median / PyTorch median (lower is better for Lantern); "
          "each cell is the median over rounds of per-run medians")
    print_rows(rows)
    if mem:
        print()
        print("memory over the timed steps (Lantern: the CPU driver's counters, peak reset when "
              "timing starts; allocs/step = pool system allocations per step; PyTorch's CPU "
              "allocator has no counters: n/a); over rounds: peak max, allocs/step max")
        rows = [("workload", "threads", "Lantern peak", "Lantern allocs/step",
                 "PyTorch peak", "PyTorch allocs/step")]
        for key in sorted(mem, key=lambda k: (k[1], order.index(k))):
            peaks, allocs = zip(*mem[key])
            rows.append((key[0], key[1], f"{max(peaks) / 2**20:.2f} MiB", f"{max(allocs):.2f}",
                         "n/a", "n/a"))
        print_rows(rows)


def print_rows(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "table"):
        raise SystemExit(__doc__)
    (run if sys.argv[1] == "run" else table)(sys.argv[2:])
