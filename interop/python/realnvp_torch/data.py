"""Datasets as the CLI's `--data` takes them: MNIST IDX (a directory or a file, raw or
.gz), CIFAR-10 binary batches, or a folder of PNG/JPEG images. Pixels come back as
uint8 tensors [N, C, H, W] of the model's size.
"""

import gzip
import os
import struct

import numpy as np
import torch


class DataError(ValueError):
    """Unusable data; the message names the file at fault."""


def _read_maybe_gz(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise DataError(f"{path}: bad gzip data ({err})") from None
    return raw


def read_idx_images(path):
    """An IDX3 image file (magic 0x00000803) as uint8 [N, 1, H, W]."""
    raw = _read_maybe_gz(path)
    if len(raw) < 16:
        raise DataError(f"{path}: not an IDX image file (only {len(raw)} bytes)")
    magic, n, h, w = struct.unpack(">IIII", raw[:16])
    if magic != 0x803:
        raise DataError(f"{path}: not an IDX image file (magic {magic:#010x}, expected 0x00000803)")
    if len(raw) != 16 + n * h * w:
        raise DataError(f"{path}: {len(raw) - 16} pixel bytes, the header says {n}x{h}x{w}")
    return torch.from_numpy(np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, h, w).copy())


def read_cifar_batch(path):
    """A CIFAR-10 binary batch: records of 1 label byte + 3072 pixels (CHW), uint8 [N, 3, 32, 32]."""
    raw = _read_maybe_gz(path)
    if len(raw) == 0 or len(raw) % 3073:
        raise DataError(f"{path}: {len(raw)} bytes is not a whole number of CIFAR-10 records (3073 bytes)")
    a = np.frombuffer(raw, np.uint8).reshape(-1, 3073)[:, 1:]
    return torch.from_numpy(a.reshape(-1, 3, 32, 32).copy())


def read_image(path, channels):
    """One PNG/JPEG as uint8 [C, h, w] (grayscale for C = 1, RGB for C = 3)."""
    from PIL import Image, UnidentifiedImageError  # only folders of images need Pillow

    try:
        with Image.open(path) as im:
            im = im.convert("L" if channels == 1 else "RGB")
            a = np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{path}: not a readable PNG or JPEG image ({err})") from None
    a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
    return torch.from_numpy(a.copy())


def fit(images, height, width, source):
    """Scale to cover height x width and center-crop, as the CLI does for other sizes.

    Resampling is Pillow's bilinear filter: pixels may differ by rounding from the CLI's
    resize; images already of the model's size are passed through untouched.
    """
    if images.shape[2:] == (height, width):
        return images
    from PIL import Image

    print(f"note: resizing {images.shape[2]}x{images.shape[3]} images from {source} to {height}x{width}")
    out = []
    for img in images.numpy():
        c, h, w = img.shape
        s = max(height / h, width / w)
        nh, nw = max(height, round(h * s)), max(width, round(w * s))
        chans = []
        for ch in img:
            r = np.asarray(Image.fromarray(ch).resize((nw, nh), Image.BILINEAR))
            top, left = (nh - height) // 2, (nw - width) // 2
            chans.append(r[top : top + height, left : left + width])
        out.append(np.stack(chans))
    return torch.from_numpy(np.stack(out))


def _idx_files(folder):
    names = sorted(os.listdir(folder))
    train = [n for n in names if "train-images" in n and "idx3" in n]
    test = [n for n in names if ("t10k-images" in n or "test-images" in n) and "idx3" in n]
    return train, test


def load_dataset(path, channels, height, width):
    """(train, test or None) uint8 pixels of the model's size from a `--data` path."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file or directory")
    if os.path.isfile(path):
        if path.endswith(".bin"):
            train, test = read_cifar_batch(path), None
        else:
            train, test = read_idx_images(path), None
    else:
        idx_train, idx_test = _idx_files(path)
        names = sorted(os.listdir(path))
        cifar_train = [n for n in names if n.startswith("data_batch_") and n.endswith(".bin")]
        if idx_train or idx_test:
            train = read_idx_images(os.path.join(path, idx_train[0])) if idx_train else None
            test = read_idx_images(os.path.join(path, idx_test[0])) if idx_test else None
            if train is None:
                train, test = test, None
        elif cifar_train or "test_batch.bin" in names:
            parts = [read_cifar_batch(os.path.join(path, n)) for n in cifar_train]
            test = read_cifar_batch(os.path.join(path, "test_batch.bin")) if "test_batch.bin" in names else None
            train = torch.cat(parts) if parts else test
            if not parts:
                test = None
        else:
            files = [n for n in names if n.lower().endswith((".png", ".jpg", ".jpeg"))]
            if not files:
                raise DataError(
                    f"{path}: no MNIST IDX files, CIFAR-10 batches or PNG/JPEG images in this folder"
                )
            imgs = [fit(read_image(os.path.join(path, n), channels)[None], height, width, os.path.join(path, n)) for n in files]
            train, test = torch.cat(imgs), None
    for split in (train, test):
        if split is not None and split.shape[1] != channels:
            raise DataError(f"{path}: images have {split.shape[1]} channels, the model has {channels}")
    train = fit(train, height, width, path)
    test = fit(test, height, width, path) if test is not None else None
    return train, test
