"""A model trained in PyTorch, saved as our weights-only file, used by `realnvp`."""

import json
import os
import sys

import numpy as np
import pytest
import torch
from conftest import MNIST, PYDIR, check_against_score, png_cells, run, score

import realnvp_torch as rt

LR = 1e-3


@pytest.fixture(scope="module")
def torch_weights(tmp_path_factory):
    """`train_ddp.py --preset tiny` for 20 steps in one process (no torchrun)."""
    out = tmp_path_factory.mktemp("torch")
    run([sys.executable, os.path.join(PYDIR, "train_ddp.py"), "--preset", "tiny", "--steps", "20",
         "--data", MNIST, "--out", str(out), "--eval-count", "0"])
    return str(out / "weights.safetensors")


def test_score_and_eval_match(realnvp, torch_weights, test8):
    data, pixels = test8
    model = rt.load(torch_weights)
    check_against_score(model, score(realnvp, torch_weights, data), pixels)
    out = json.loads(run([realnvp, "eval", "--checkpoint", torch_weights, "--data", data, "--noise", "half"]))
    ours = rt.bits_per_dim(model, pixels).mean().item()
    assert abs(out["bits_per_dim"] - ours) <= 1e-5 * ours


def test_decode_matches(realnvp, torch_weights, tmp_path):
    model = rt.load(torch_weights)
    z = 0.7 * torch.randn(9, model.config.dims(), generator=torch.Generator().manual_seed(3))
    z_file, png = str(tmp_path / "z.safetensors"), str(tmp_path / "d.png")
    rt.save_latents(z, z_file, model.config)
    run([realnvp, "decode", "--checkpoint", torch_weights, "--latents", z_file, "--out", png])
    err = np.abs(png_cells(png, 9, 8, 8) - rt.decode(model, z)[:, 0].double().numpy()).max()
    assert err <= 0.5 / 255 + 1e-4


def test_train_init_continues(realnvp, torch_weights, tmp_path):
    """`realnvp train --init` starts from our weights: after one Adam step every parameter
    is within lr of ours (Adam's first step moves each by at most lr)."""
    out = tmp_path / "cont"
    run([realnvp, "train", "--init", torch_weights, "--steps", "1", "--samples", "0",
         "--data", MNIST, "--out", str(out)])
    after = tmp_path / "after.safetensors"
    run([realnvp, "export", "--checkpoint", str(out / "checkpoint.safetensors"), "--out", str(after)])
    before, moved = rt.load(torch_weights), rt.load(after)
    params = dict(before.named_parameters())
    state = moved.state_dict()
    steps = [(state[k] - p.detach()).abs().max().item() for k, p in params.items()]
    assert max(steps) <= LR * 1.001, max(steps)
    assert max(steps) >= LR * 0.5  # it did train
    metrics = [json.loads(line) for line in open(out / "metrics.jsonl")]
    assert np.isfinite(metrics[0]["train_bpd"])
