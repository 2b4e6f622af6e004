"""DDP is the real engine: 2 processes (torchrun, gloo, CPU) with global batch 2B give
the parameters of 1 process with batch 2B.

Both runs compute in float64 (`--double`): a few parameters have a gradient that is
exactly zero in exact arithmetic, and Adam, which divides by the gradient's own size,
turns float32 rounding noise there into steps of ~lr (see INTEROP.md). In float64 only
the flow batch norms' beta on latent channels keeps that behaviour; they are checked to
stay within Adam's bound instead.
"""

import json
import os
import sys

import numpy as np
from conftest import MNIST, PYDIR, run

import realnvp_torch as rt

STEPS, BATCH, LR = 4, 32, 1e-3


def train(out, nproc):
    args = [os.path.join(PYDIR, "train_ddp.py"), "--preset", "tiny", "--batch", str(BATCH),
            "--steps", str(STEPS), "--double", "--data", MNIST, "--out", str(out), "--eval-count", "0"]
    if nproc == 1:
        run([sys.executable] + args)
    else:
        run([sys.executable, "-m", "torch.distributed.run", "--standalone",
             f"--nproc_per_node={nproc}"] + args)
    losses = [json.loads(line) for line in open(out / "metrics.jsonl")]
    return rt.read_file(out / "weights.safetensors")[1], [m["train_bpd"] for m in losses if "grad_norm" in m]


def latent_betas(config):
    """Flow batch-norm betas that act on latent channels directly: (name, channels)."""
    last = config.scales - 1
    # Scale s's channel couplings see 4 C 2^s channels; the second half is factored out.
    betas = {f"scale{s}.channel2.bn.beta": slice(2 * config.channels * 2**s, None) for s in range(last)}
    betas[f"scale{last}.checker3.bn.beta"] = slice(None)  # the last scale is all latent
    return betas


def test_two_processes_equal_one(tmp_path):
    one, loss1 = train(tmp_path / "one", 1)
    two, loss2 = train(tmp_path / "two", 2)
    assert len(loss1) == len(loss2) == STEPS
    np.testing.assert_allclose(loss2, loss1, rtol=1e-7)
    assert one.keys() == two.keys()
    special = latent_betas(rt.PRESETS["tiny"])
    worst = 0.0
    for name in one:
        a, b = one[name].copy(), two[name].copy()
        if name in special:
            ch = special[name]
            # Adam moves a parameter by at most ~lr a step.
            assert np.abs(a[ch] - b[ch]).max() <= 2 * LR * STEPS, name
            a[ch] = b[ch] = 0
        diff = np.abs(a - b).max()
        worst = max(worst, diff)
        assert diff <= 1e-5, f"{name} differs by {diff}"
    print(f"{len(one)} tensors (parameters and running statistics) agree within {worst:.2e}")
