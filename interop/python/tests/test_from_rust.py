"""A model trained by `realnvp` (the release binary) read in PyTorch: same figures."""

import json
import os
import struct

import numpy as np
import pytest
import torch
from conftest import MNIST, check_against_score, png_cells, run, score

import realnvp_torch as rt


@pytest.fixture(scope="module")
def rust_run(realnvp, tmp_path_factory):
    """`realnvp train --preset tiny` for 40 steps, and its exported weights-only file."""
    out = tmp_path_factory.mktemp("rust")
    run([realnvp, "train", "--preset", "tiny", "--steps", "40", "--samples", "0",
         "--data", MNIST, "--out", str(out / "run")])
    ckpt = str(out / "run" / "checkpoint.safetensors")
    weights = str(out / "weights.safetensors")
    run([realnvp, "export", "--checkpoint", ckpt, "--out", weights])
    return ckpt, weights


def test_bits_per_dim_match_score(realnvp, rust_run, test8):
    data, pixels = test8
    _, weights = rust_run
    model = rt.load(weights)
    worst = check_against_score(model, score(realnvp, weights, data), pixels)
    print(f"32 images: bits/dim differ by at most {worst:.2e} relative")


def test_checkpoint_and_export_load_alike(rust_run):
    ckpt, weights = rust_run
    a, b = rt.load(ckpt).state_dict(), rt.load(weights).state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_eval_matches(realnvp, rust_run, test8):
    data, pixels = test8
    _, weights = rust_run
    out = json.loads(run([realnvp, "eval", "--checkpoint", weights, "--data", data, "--noise", "half"]))
    ours = rt.bits_per_dim(rt.load(weights), pixels).mean().item()
    assert out["images"] == len(pixels)
    assert abs(out["bits_per_dim"] - ours) <= 1e-5 * ours


def test_encode_and_decode_match(realnvp, rust_run, test8, tmp_path):
    data, pixels = test8
    _, weights = rust_run
    model = rt.load(weights)
    z_file = str(tmp_path / "z.safetensors")
    run([realnvp, "encode", "--checkpoint", weights, "--data", data, "--count", "16", "--out", z_file])
    z_rust = rt.load_latents(z_file)
    z_ours = rt.encode(model, pixels[:16])
    assert (z_rust - z_ours).abs().max().item() <= 1e-4 * max(1.0, z_rust.abs().max().item())

    # Decoding: the same latents, ours as floats, theirs as a PNG grid (round(255 x)); the
    # PNG must be our images rounded, up to 1e-4 before rounding. Real images' encodings
    # and prior draws at T = 1.
    g = torch.Generator().manual_seed(7)
    prior = torch.randn(16, model.config.dims(), generator=g)
    prior_file = str(tmp_path / "prior.safetensors")
    rt.save_latents(prior, prior_file, model.config)
    for name, z_path, z in [("encodings", z_file, z_rust), ("prior", prior_file, prior)]:
        png = str(tmp_path / f"{name}.png")
        run([realnvp, "decode", "--checkpoint", weights, "--latents", z_path, "--out", png])
        theirs = png_cells(png, 16, 8, 8)
        ours = rt.decode(model, z)[:, 0].double().numpy()
        err = np.abs(theirs - ours).max()
        assert err <= 0.5 / 255 + 1e-4, f"{name}: decoded images differ by {err}"
    # Encoding with u = 0.5 and decoding gives the pixels back: x = (p + 0.5) / 256.
    back = rt.decode(model, z_rust) * 256 - 0.5
    assert (back - pixels[:16].double()).abs().max().item() < 1e-2


def test_bad_files_are_named(tmp_path, rust_run):
    _, weights = rust_run
    raw = bytearray(open(weights, "rb").read())
    raw[-3] ^= 0x40  # a flipped bit in the last tensor's data
    bad = tmp_path / "damaged.safetensors"
    bad.write_bytes(bytes(raw))
    with pytest.raises(rt.CheckpointError, match="damaged.safetensors.*checksum"):
        rt.load(bad)
    foreign = tmp_path / "foreign.safetensors"
    header = json.dumps({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    foreign.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
    with pytest.raises(rt.CheckpointError, match="foreign.safetensors.*not a realnvp checkpoint"):
        rt.load(foreign)
    with pytest.raises(rt.CheckpointError, match="missing.safetensors"):
        rt.load(tmp_path / "missing.safetensors")
    assert os.path.exists(weights)
