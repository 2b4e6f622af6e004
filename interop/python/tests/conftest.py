"""Shared fixtures: the release `realnvp` binary, small 8x8 data, runs of both sides.

The Rust side runs on whatever Vulkan adapter wgpu finds (lavapipe in CI); the `tiny`
preset (1x8x8, 16,283 parameters) keeps every run to seconds.
"""

import gzip
import json
import os
import struct
import subprocess
import sys

# One thread per process: the tiny model gains nothing from intra-op threads, and on a
# busy 2-core machine OpenMP's waiting threads made a step ~30x slower. Subprocesses
# (train_ddp.py, torchrun) inherit this.
os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
REPO = os.path.abspath(os.path.join(PYDIR, "..", ".."))
MNIST = os.path.join(REPO, "assets", "mnist")
sys.path.insert(0, PYDIR)

import realnvp_torch as rt  # noqa: E402


def run(cmd, **kw):
    """Run a command; on failure show its output (the assertion names the command)."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    return p.stdout


@pytest.fixture(scope="session")
def realnvp():
    """Path of the release CLI: $REALNVP_BIN, else built here (a no-op when up to date)."""
    if os.environ.get("REALNVP_BIN"):
        return os.environ["REALNVP_BIN"]
    run(["cargo", "build", "--release", "--locked", "--bin", "realnvp"], cwd=REPO)
    return os.path.join(REPO, "target", "release", "realnvp")


@pytest.fixture(scope="session")
def test8(tmp_path_factory):
    """The first 32 bundled MNIST test images at 8x8 as a raw IDX file, and their pixels.

    Our own file at the model's size, so both sides see the very same pixels (no resize).
    """
    from PIL import Image

    raw = gzip.decompress(open(os.path.join(MNIST, "mnist-test-images-idx3-ubyte.gz"), "rb").read())
    a = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)[:32]
    small = np.stack([np.asarray(Image.fromarray(x).resize((8, 8), Image.BILINEAR)) for x in a])
    path = tmp_path_factory.mktemp("data") / "test8-images-idx3-ubyte"
    path.write_bytes(struct.pack(">IIII", 0x803, len(small), 8, 8) + small.tobytes())
    return str(path), torch.from_numpy(small[:, None].copy())


def score(realnvp, weights, data):
    """`realnvp score --noise half` of every image of `data`: a list of JSON objects."""
    out = run([realnvp, "score", "--checkpoint", weights, "--data", data, "--noise", "half"])
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def png_cells(path, n, h, w):
    """The n images of a `realnvp decode` grid: ceil(sqrt(n)) columns, 1-pixel borders."""
    from PIL import Image

    img = np.asarray(Image.open(path))
    cols = int(np.ceil(np.sqrt(n)))
    cells = [
        img[1 + (k // cols) * (h + 1) :][:h, 1 + (k % cols) * (w + 1) :][:, :w] for k in range(n)
    ]
    return np.stack(cells).astype(np.float64) / 255


def check_against_score(model, rows, pixels, rel=1e-5):
    """Per-image bits/dim and its split as `realnvp score` printed them, within rel."""
    bpd = rt.bits_per_dim(model, pixels)
    nll, pre, logp_z, logdets = [t.double() for t in rt_parts(model, pixels)]
    d = model.config.dims()
    assert len(rows) == len(pixels)
    worst = 0.0
    for k, row in enumerate(rows):
        assert row["index"] == k and row["noise"] == "half"
        worst = max(worst, abs(bpd[k].item() - row["bits_per_dim"]) / row["bits_per_dim"])
        tol = rel * row["bits_per_dim"]
        shares = [(row["preprocessing_bits_per_dim"], (d * np.log(256) - pre[k].item()) / (d * np.log(2)))]
        for s, part in enumerate(row["per_scale_bits_per_dim"]):
            shares.append((part["latent"], -logp_z[k, s].item() / (d * np.log(2))))
            shares.append((part["logdet"], -logdets[k, s].item() / (d * np.log(2))))
        for theirs, ours in shares:
            assert abs(theirs - ours) <= tol, (k, shares)
    assert worst <= rel, f"bits/dim differ by {worst:.3g} relative"
    return worst


def rt_parts(model, pixels):
    with torch.no_grad():
        model.eval()
        return model.nll_parts(pixels, torch.tensor(0.5))
