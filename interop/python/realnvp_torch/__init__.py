"""realnvp_torch: the Real NVP of docs/MODEL.md in PyTorch, reading and writing our files.

    import realnvp_torch as rt
    model = rt.load("weights.safetensors")          # a checkpoint or weights-only file
    bpd = rt.bits_per_dim(model, pixels)            # per image, u = 0.5
    z = rt.encode(model, pixels); images = rt.decode(model, z)
    rt.save(model, "out.safetensors")               # `realnvp eval`, the app, `train --init`
"""

import contextlib
import math

import torch

from .io import CheckpointError, checksum, load, load_latents, read_file, save, save_latents
from .model import ALPHA, PRESETS, Config, RealNVP, new_model, sync_batch_norm

__all__ = [
    "ALPHA", "PRESETS", "CheckpointError", "Config", "RealNVP", "bits_per_dim", "checksum",
    "decode", "encode", "load", "load_latents", "new_model", "read_file", "sample", "save",
    "save_latents", "sync_batch_norm", "to_uint8",
]


@contextlib.contextmanager
def _evaluation(model):
    """Evaluation mode (running averages everywhere) and no autograd, then back."""
    model = getattr(model, "module", model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def _dtype(model):
    return next(model.parameters()).dtype


def bits_per_dim(model, pixels, u=0.5):
    """Per-image bits/dim [N] (float64) of uint8-valued pixels [N, C, H, W], eval mode.

    u: 0.5 (the deterministic comparison `realnvp score --noise half` makes), or a
    tensor of dequantisation noise in [0, 1) of the pixels' shape.
    """
    with _evaluation(model) as m:
        u = torch.as_tensor(u, dtype=_dtype(m))
        nll = m.nll(torch.as_tensor(pixels), u)
        return nll.double() / (m.config.dims() * math.log(2))


def encode(model, pixels):
    """Latent vectors z [N, D] of uint8-valued pixels at u = 0.5 (as `realnvp encode`)."""
    with _evaluation(model) as m:
        y, _ = m.preprocess(torch.as_tensor(pixels), torch.tensor(0.5, dtype=_dtype(m)))
        return m.flow(y)[0]


def decode(model, z):
    """Images in [0, 1], [N, C, H, W], of latent vectors z [N, D]: x = f^-1(z), un-logit."""
    with _evaluation(model) as m:
        y = m.flow_inverse(torch.as_tensor(z, dtype=_dtype(m)))
        alpha = torch.tensor(ALPHA, dtype=torch.float32).to(y.dtype)
        return ((torch.sigmoid(y) - alpha) / (1 - 2 * alpha)).clamp(0, 1)


def sample(model, n, temperature=1.0, generator=None):
    """n images from z ~ N(0, T^2 I), drawn from torch's RNG (not our Philox stream:
    the same z gives the same images, the same seed does not give the same z)."""
    m = getattr(model, "module", model)
    z = torch.randn(n, m.config.dims(), generator=generator, dtype=_dtype(m))
    return decode(m, temperature * z)


def to_uint8(images):
    """Images in [0, 1] to 0..255 pixels, as our PNG writers round: round(255 x)."""
    return (images * 255).round().clamp(0, 255).to(torch.uint8)
