"""Our safetensors files: checkpoints (read) and weights-only files (read and write).

Layout (docs/MODEL.md, "Checkpoint"): every tensor F32, named as the model's
state_dict; header metadata `format` = realnvp-checkpoint, `version` = 1, `config` (the
model config as JSON), `crc32` (see `checksum`), `contents` = weights | training.
"""

import json
import os
import struct
import tempfile
import zlib

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load_file as _np_load_file
from safetensors.numpy import save_file as _np_save_file

from .model import Config, RealNVP

FORMAT = "realnvp-checkpoint"
VERSION = "1"


class CheckpointError(ValueError):
    """A file that is not a usable realnvp model file; the message names the file."""


def checksum(tensors):
    """CRC-32 over (name, shape, little-endian bytes) of every tensor in name order.

    Each of name, shape and bytes has its length in front as a little-endian u64 (the
    shape as its rank followed by each dimension as a u64), so that no two layouts hash
    the same stream. Returned as 8 lowercase hex digits, as stored in `crc32`.
    """
    crc = 0
    for name in sorted(tensors):  # byte order of ASCII names: Python's str order
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        raw = name.encode()
        head = struct.pack("<Q", len(raw)) + raw + struct.pack("<Q", a.ndim)
        head += b"".join(struct.pack("<Q", d) for d in a.shape)
        crc = zlib.crc32(head + struct.pack("<Q", a.nbytes), crc)
        crc = zlib.crc32(a.tobytes(), crc)
    return f"{crc & 0xFFFFFFFF:08x}"


def _read_metadata(path):
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > 100_000_000:
            raise CheckpointError(f"{path}: not a safetensors file (header length {n})")
        try:
            header = json.loads(f.read(n))
        except ValueError as err:
            raise CheckpointError(f"{path}: not a safetensors file (header: {err})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: not a safetensors file (header is not a JSON object)")
    return header.get("__metadata__") or {}


def read_file(path):
    """(config, {name: float32 ndarray}, metadata) of a checkpoint or weights-only file.

    Checks the format, version and checksum; a training checkpoint's optimizer and RNG
    tensors are dropped (they are not the model's).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such file")
    meta = _read_metadata(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not a realnvp checkpoint (metadata 'format' is {meta.get('format')!r}, "
            f"expected {FORMAT!r})"
        )
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: unsupported checkpoint version {meta.get('version')!r} (this reads {VERSION!r})"
        )
    try:
        tensors = _np_load_file(path)
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path}: unreadable safetensors data ({err})") from None
    for name, a in tensors.items():
        if a.dtype != np.float32:
            raise CheckpointError(f"{path}: tensor '{name}' is {a.dtype}, expected F32")
    if "crc32" not in meta:
        raise CheckpointError(f"{path}: no 'crc32' metadata")
    crc = checksum(tensors)
    if crc != meta["crc32"]:
        raise CheckpointError(
            f"{path}: checksum mismatch (stored {meta['crc32']}, computed {crc}): the file is damaged"
        )
    try:
        cfg = json.loads(meta["config"])
        config = Config(**{k: cfg[k] for k in Config.__dataclass_fields__})
        config.check(where=f"{path}: config")
    except KeyError as err:
        raise CheckpointError(f"{path}: model config has no {err}") from None
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: bad model config ({err})") from None
    weights = {
        k: v for k, v in tensors.items() if not (k.startswith("optimizer.") or k == "rng.train")
    }
    return config, weights, meta


def load(path, map_location="cpu"):
    """A RealNVP in evaluation mode with the weights and running statistics of `path`."""
    config, weights, _ = read_file(path)
    model = RealNVP(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{path}: tensors do not match the model config: missing {missing[:5]}"
            f"{' ...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
            f"{' ...' if len(unexpected) > 5 else ''}"
        )
    state = {}
    for name, ref in expected.items():
        a = weights[name]
        if tuple(a.shape) != tuple(ref.shape):
            raise CheckpointError(
                f"{path}: tensor '{name}' has shape {list(a.shape)}, expected {list(ref.shape)}"
            )
        if not np.all(np.isfinite(a)):
            raise CheckpointError(f"{path}: tensor '{name}' has non-finite values")
        if name.endswith("running_var") and not np.all(a > 0):
            raise CheckpointError(f"{path}: tensor '{name}' has a running variance <= 0")
        state[name] = torch.from_numpy(a.copy())
    model.load_state_dict(state)
    return model.eval().to(map_location)


def save(model, path, trained=None):
    """Write `model`'s weights-only file (what `realnvp export` writes), atomically.

    `trained`: optional dict (e.g. {"step": 100, "epoch": 1}) stored as metadata.
    """
    model = getattr(model, "module", model)  # a DDP wrapper: its model
    path = os.fspath(path)
    tensors = {}
    for name, t in model.state_dict().items():
        a = t.detach().to("cpu", torch.float32).numpy()
        if not np.all(np.isfinite(a)):
            raise ValueError(f"not saving {path}: tensor '{name}' has non-finite values")
        tensors[name] = np.ascontiguousarray(a)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": json.dumps(model.config.to_dict(), indent=2),
        "crc32": checksum(tensors),
        "contents": "weights",
        "written_by": "realnvp_torch",
    }
    if trained is not None:
        meta["trained"] = json.dumps(trained)
    # Temporary file beside the target, then rename: a crash leaves old or new, not torn.
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    os.close(fd)
    try:
        _np_save_file(tensors, tmp, metadata=meta)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_latents(path):
    """The [N, D] tensor `z` of a file written by `realnvp encode`."""
    path = os.fspath(path)
    try:
        tensors = _np_load_file(path)
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path}: unreadable latents file ({err})") from None
    if "z" not in tensors or tensors["z"].ndim != 2:
        raise CheckpointError(f"{path}: no 2-D tensor 'z' (latent vectors [N, D])")
    return torch.from_numpy(tensors["z"].astype(np.float32))


def save_latents(z, path, config):
    """Write latent vectors [N, D] as `realnvp decode --latents` reads them."""
    a = np.ascontiguousarray(z.detach().cpu().numpy(), dtype=np.float32)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": json.dumps(config.to_dict(), indent=2),
        "crc32": checksum({"z": a}),
        "source": "realnvp_torch",
    }
    _np_save_file({"z": a}, os.fspath(path), metadata=meta)
