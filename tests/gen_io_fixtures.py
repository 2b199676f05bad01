"""Fixtures for Lantern's safetensors `io` (tests/tests/io.rs), written by PyTorch's
`safetensors.torch`, and the check of the file Lantern writes.

Run: ~/.cache/lantern-venv/bin/python tests/gen_io_fixtures.py

1. Writes tests/fixtures/state_dict.safetensors with `safetensors.torch.save_file` and
   metadata {"format": "pt"}:
   - `0.weight`, `0.bias`, `2.weight`, `2.bias`: the state dict of
     nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)) with torch.manual_seed(0);
   - `io.input` [5, 4] float32 and `io.output`, the model's output for it;
   - `dtypes.*`: one tensor of every dtype Lantern has, with values exact in that dtype and
     given by the formulas in `dtype_zoo` (io.rs rebuilds them independently), plus a 0-dim
     and an empty tensor.
   The Rust test loads it, checks the values, checks that Lantern's re-save is byte-identical,
   and runs the model.
2. If tests/fixtures/state_dict_lantern.safetensors exists (the Rust test writes it: the same
   `dtypes.*` built by Lantern, and `model.*` = Lantern's loaded model weights times 2), loads
   it with torch, compares every tensor with the expected one bit for bit, and checks that
   torch's own serialization of the expected dict is byte-identical to Lantern's file.
Exit status 1 on any mismatch.
"""

import os
import sys

import torch
from safetensors.torch import load_file, save, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")
METADATA = {"format": "pt"}


def dtype_zoo():
    return {
        "dtypes.f64": torch.arange(6, dtype=torch.float64).reshape(2, 3) / 3,
        "dtypes.f32": (torch.arange(5, dtype=torch.float32) - 2) * 0.25,
        "dtypes.f16": (torch.arange(4, dtype=torch.float32) * 0.5 - 1).to(torch.float16),
        "dtypes.bf16": (torch.arange(3, dtype=torch.float32) * 1.5).to(torch.bfloat16),
        "dtypes.i64": torch.tensor([-(2**40), 0, 7, 2**62], dtype=torch.int64),
        "dtypes.i32": torch.tensor([[-5, 100000], [3, -2147483648]], dtype=torch.int32),
        "dtypes.i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "dtypes.u8": torch.tensor([0, 255, 7, 1], dtype=torch.uint8),
        "dtypes.bool": torch.tensor([True, False, True]),
        "dtypes.scalar": torch.tensor(3.5, dtype=torch.float32),
        "dtypes.empty": torch.zeros(0, 3, dtype=torch.float32),
    }


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def main():
    os.makedirs(FIX, exist_ok=True)
    m = model()
    x = torch.linspace(-2, 2, 20, dtype=torch.float32).reshape(5, 4)
    with torch.no_grad():
        y = m(x)
    sd = {k: v.detach().clone().contiguous() for k, v in m.state_dict().items()}
    sd["io.input"] = x
    sd["io.output"] = y
    sd.update(dtype_zoo())
    path = os.path.join(FIX, "state_dict.safetensors")
    save_file(sd, path, metadata=METADATA)
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(sd)} tensors)")

    lpath = os.path.join(FIX, "state_dict_lantern.safetensors")
    if not os.path.exists(lpath):
        print(f"{lpath} absent: run `cargo test -p lantern-tests --test io` to write it, then rerun")
        return 0
    got = load_file(lpath)
    want = dtype_zoo()
    for k, v in m.state_dict().items():
        want["model." + k] = v.detach() * 2
    ok = True
    if sorted(got) != sorted(want):
        print(f"MISMATCH keys: lantern {sorted(got)} vs expected {sorted(want)}")
        return 1
    for k in sorted(want):
        g, w = got[k], want[k]
        if g.dtype != w.dtype or g.shape != w.shape or not torch.equal(g, w):
            print(f"MISMATCH {k}: lantern {g.dtype} {tuple(g.shape)} {g} vs {w.dtype} {tuple(w.shape)} {w}")
            ok = False
    with open(lpath, "rb") as f:
        lbytes = f.read()
    tbytes = save({k: v.contiguous() for k, v in want.items()}, metadata=METADATA)
    if lbytes != tbytes:
        print(f"MISMATCH bytes: lantern's file ({len(lbytes)} B) differs from torch's save ({len(tbytes)} B)")
        ok = False
    if ok:
        print(f"ok: {lpath} loads in torch ({len(got)} tensors, values equal) and is byte-identical to torch's save")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
