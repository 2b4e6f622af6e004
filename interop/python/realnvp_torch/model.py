"""Real NVP in PyTorch, written from docs/MODEL.md (not from the Rust code).

Module attribute names are chosen so that `state_dict()` keys are exactly the tensor
names of our safetensors files (`scale0.checker0.net.conv_in.v`, ...), so loading and
saving is a plain name-for-name copy.
"""

import math
from dataclasses import asdict, dataclass

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

# alpha is an f32 on the GPU (0.0500000007450580596923828125); torch.tensor(0.05) with
# dtype float32 is that same value.
ALPHA = 0.05
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
L2 = 5e-5


@dataclass
class Config:
    channels: int
    height: int
    width: int
    scales: int
    features: int
    blocks: int
    batch: int

    def dims(self):
        return self.channels * self.height * self.width

    def to_dict(self):
        return asdict(self)

    def check(self, where="config"):
        for name, value in self.to_dict().items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{where}: '{name}' must be a positive integer, got {value!r}")
        # Each of the first scales-1 scales squeezes by 2, so H and W must halve cleanly.
        step = 2 ** (self.scales - 1)
        if self.height % step or self.width % step:
            raise ValueError(
                f"{where}: height {self.height} and width {self.width} must be divisible by "
                f"2^(scales-1) = {step}"
            )


PRESETS = {
    "tiny": Config(1, 8, 8, 2, 8, 1, 16),
    "mnist": Config(1, 28, 28, 2, 32, 4, 64),
    "cifar10": Config(3, 32, 32, 3, 64, 8, 64),
}


# ---- batch-norm statistics, optionally synchronised across DDP processes -------------


class _AllReduceSum(torch.autograd.Function):
    """Sum over processes whose backward is also a sum over processes.

    A rank's statistic feeds every rank's loss, so the gradient reaching this rank's
    inputs is the sum of all ranks' upstream gradients (the same rule SyncBatchNorm uses).
    """

    @staticmethod
    def forward(ctx, x, group):
        ctx.group = group
        x = x.clone()
        dist.all_reduce(x, op=dist.ReduceOp.SUM, group=group)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM, group=ctx.group)
        return grad, None


# The process group batch-norm moments are all-reduced over; None: this process alone.
_SYNC_GROUP = None
_SYNC_WORLD = 1


def sync_batch_norm(group=None):
    """Make every batch norm in training mode use moments of the global batch.

    Call once after `dist.init_process_group`, with every rank holding an equal share of
    the batch. Each moment is the mean of the ranks' local means (exact for equal shares).
    """
    global _SYNC_GROUP, _SYNC_WORLD
    _SYNC_GROUP = group if group is not None else dist.new_group()
    _SYNC_WORLD = dist.get_world_size(_SYNC_GROUP)


def _global_mean(v):
    if _SYNC_GROUP is None:
        return v
    return _AllReduceSum.apply(v, _SYNC_GROUP) / _SYNC_WORLD


def batch_moments(x):
    """Per-channel mean and biased variance over N, H, W (two passes, as documented)."""
    mean = _global_mean(x.mean(dim=(0, 2, 3)))
    var = _global_mean(((x - mean.view(1, -1, 1, 1)) ** 2).mean(dim=(0, 2, 3)))
    return mean, var


class _Norm(nn.Module):
    """Shared part of both batch norms: the moments to use and the running averages."""

    def __init__(self, c):
        super().__init__()
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))

    def moments(self, x):
        if not self.training:
            return self.running_mean, self.running_var
        mean, var = batch_moments(x)
        with torch.no_grad():  # once per training step: each norm runs once per forward
            self.running_mean.mul_(1 - BN_MOMENTUM).add_(BN_MOMENTUM * mean)
            self.running_var.mul_(1 - BN_MOMENTUM).add_(BN_MOMENTUM * var)
        return mean, var


class BatchNorm(_Norm):
    """Plain batch norm inside the s,t networks: (x - mean)/sqrt(var + eps) * weight + bias."""

    def __init__(self, c):
        super().__init__(c)
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        mean, var = self.moments(x)
        inv = torch.rsqrt(var + BN_EPS) * self.weight
        return (x - mean.view(1, -1, 1, 1)) * inv.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class FlowBatchNorm(_Norm):
    """Flow batch norm after each coupling, with its log-determinant."""

    def __init__(self, c):
        super().__init__(c)
        self.log_gamma = nn.Parameter(torch.zeros(c))
        self.beta = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        mean, var = self.moments(x)
        y = (x - mean.view(1, -1, 1, 1)) * torch.rsqrt(var + BN_EPS).view(1, -1, 1, 1)
        y = y * torch.exp(self.log_gamma).view(1, -1, 1, 1) + self.beta.view(1, -1, 1, 1)
        h, w = x.shape[2], x.shape[3]
        logdet = h * w * (self.log_gamma - 0.5 * torch.log(var + BN_EPS)).sum()
        return y, logdet.expand(x.shape[0])

    def inverse(self, y):
        # Inversion always uses running averages (evaluation mode).
        mean, var = self.running_mean, self.running_var
        x = (y - self.beta.view(1, -1, 1, 1)) * torch.exp(-self.log_gamma).view(1, -1, 1, 1)
        return x * torch.sqrt(var + BN_EPS).view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)


# ---- the s,t network -----------------------------------------------------------------


class WNConv(nn.Module):
    """3x3 conv, stride 1, zero padding 1, weight w = g[o] * v[o] / ||v[o]||."""

    def __init__(self, cin, cout, zero=False):
        super().__init__()
        v = torch.randn(cout, cin, 3, 3) / math.sqrt(cin * 9)  # N(0, 1/(in*9))
        self.v = nn.Parameter(v)
        # g = ||v[o]|| makes w = v at the start; the last conv has g = 0 so w = 0.
        g = torch.zeros(cout) if zero else v.flatten(1).norm(dim=1)
        self.g = nn.Parameter(g)
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        norm = self.v.flatten(1).norm(dim=1)
        w = self.v * (self.g / norm).view(-1, 1, 1, 1)
        return F.conv2d(x, w, self.bias, padding=1)


class ResBlock(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.bn1 = BatchNorm(f)
        self.conv1 = WNConv(f, f)
        self.bn2 = BatchNorm(f)
        self.conv2 = WNConv(f, f)

    def forward(self, h):
        return h + self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(h))))))


class STNet(nn.Module):
    def __init__(self, cin, ct, features, blocks):
        super().__init__()
        self.conv_in = WNConv(cin, features)
        for b in range(blocks):
            self.add_module(f"block{b}", ResBlock(features))
        self.blocks = blocks
        self.bn_out = BatchNorm(features)
        self.conv_out = WNConv(features, 2 * ct, zero=True)

    def forward(self, x):
        h = self.conv_in(x)
        for b in range(self.blocks):
            h = getattr(self, f"block{b}")(h)
        return self.conv_out(F.relu(self.bn_out(h)))


# ---- couplings -----------------------------------------------------------------------


class Coupling(nn.Module):
    """Affine coupling, checkerboard (kind 'checker') or channel-wise (kind 'channel').

    checker: `parity` gives the mask b[h, w] = ((h + w) % 2 == parity), b = 1 kept.
    channel: `parity` 0 conditions on the first half and transforms the second, 1 the
    reverse (channel0, channel2: 0; channel1: 1).
    """

    def __init__(self, kind, parity, c, h, w, features, blocks):
        super().__init__()
        self.kind, self.parity = kind, parity
        ct = c if kind == "checker" else c // 2
        self.ct = ct
        self.net = STNet(ct, ct, features, blocks)
        self.scale = nn.Parameter(torch.ones(ct))
        self.bn = FlowBatchNorm(c)
        if kind == "checker":
            hh = torch.arange(h).view(-1, 1)
            ww = torch.arange(w).view(1, -1)
            mask = ((hh + ww) % 2 == parity).float().view(1, 1, h, w)
            self.register_buffer("mask", mask, persistent=False)

    def _st(self, cond):
        out = self.net(cond)
        s = self.scale.view(1, -1, 1, 1) * torch.tanh(out[:, : self.ct])
        return s, out[:, self.ct :]

    def _split(self, x):
        a, b = x[:, : x.shape[1] // 2], x[:, x.shape[1] // 2 :]
        return (a, b) if self.parity == 0 else (b, a)  # (conditioning, transformed)

    def _join(self, cond, moved):
        return torch.cat([cond, moved] if self.parity == 0 else [moved, cond], dim=1)

    def forward(self, x):
        if self.kind == "checker":
            b = self.mask.to(x.dtype)
            s, t = self._st(b * x)
            y = b * x + (1 - b) * (x * torch.exp(s) + t)
            logdet = ((1 - b) * s).sum(dim=(1, 2, 3))
        else:
            cond, moved = self._split(x)
            s, t = self._st(cond)
            y = self._join(cond, moved * torch.exp(s) + t)
            logdet = s.sum(dim=(1, 2, 3))
        y, ld_bn = self.bn(y)
        return y, logdet + ld_bn

    def inverse(self, y):
        y = self.bn.inverse(y)
        if self.kind == "checker":
            b = self.mask.to(y.dtype)
            s, t = self._st(b * y)
            return b * y + (1 - b) * ((y - t) * torch.exp(-s))
        cond, moved = self._split(y)
        s, t = self._st(cond)
        return self._join(cond, (moved - t) * torch.exp(-s))


class Scale(nn.Module):
    """One scale: checker0..2, squeeze, channel0..2, factor-out; the last: checker0..3."""

    def __init__(self, c, h, w, features, blocks, last):
        super().__init__()
        self.last = last
        n_checker = 4 if last else 3
        self.layers = []
        for i in range(n_checker):
            self.add_module(f"checker{i}", Coupling("checker", i % 2, c, h, w, features, blocks))
            self.layers.append(f"checker{i}")
        if not last:
            for i in range(3):
                self.add_module(
                    f"channel{i}", Coupling("channel", i % 2, 4 * c, h // 2, w // 2, features, blocks)
                )

    def forward(self, x):
        """Returns (x going on or None, latent, logdet of this scale)."""
        logdet = x.new_zeros(x.shape[0])
        for name in self.layers:
            x, ld = getattr(self, name)(x)
            logdet = logdet + ld
        if self.last:
            return None, x, logdet
        x = F.pixel_unshuffle(x, 2)
        for i in range(3):
            x, ld = getattr(self, f"channel{i}")(x)
            logdet = logdet + ld
        half = x.shape[1] // 2
        return x[:, :half], x[:, half:], logdet

    def inverse(self, x, z):
        if not self.last:
            x = torch.cat([x, z], dim=1)
            for i in reversed(range(3)):
                x = getattr(self, f"channel{i}").inverse(x)
            x = F.pixel_shuffle(x, 2)
        else:
            x = z
        for name in reversed(self.layers):
            x = getattr(self, name).inverse(x)
        return x


class RealNVP(nn.Module):
    def __init__(self, config: Config):
        super().__init__()
        config.check()
        self.config = config
        c, h, w = config.channels, config.height, config.width
        self.latent_shapes = []
        for s in range(config.scales):
            last = s == config.scales - 1
            self.add_module(f"scale{s}", Scale(c, h, w, config.features, config.blocks, last))
            if last:
                self.latent_shapes.append((c, h, w))
            else:
                c, h, w = 2 * c, h // 2, w // 2
                self.latent_shapes.append((c, h, w))

    # -- the flow on logit space --

    def flow(self, y):
        """y [N, C, H, W] -> (latent vectors z [N, D], per-scale logdets [N, L])."""
        zs, logdets = [], []
        x = y
        for s in range(self.config.scales):
            x, z, ld = getattr(self, f"scale{s}")(x)
            zs.append(z.flatten(1))
            logdets.append(ld)
        return torch.cat(zs, dim=1), torch.stack(logdets, dim=1)

    def flow_inverse(self, z):
        """Latent vectors z [N, D] -> y [N, C, H, W] (running averages everywhere)."""
        parts, start = [], 0
        for shape in self.latent_shapes:
            size = shape[0] * shape[1] * shape[2]
            parts.append(z[:, start : start + size].reshape(-1, *shape))
            start += size
        if start != z.shape[1]:
            raise ValueError(f"latent vectors have {z.shape[1]} values, the model needs {start}")
        x = None
        for s in reversed(range(self.config.scales)):
            x = getattr(self, f"scale{s}").inverse(x, parts[s])
        return x

    # -- the data path --

    def preprocess(self, pixels, u):
        """uint8-valued pixels + u -> (logit y, logdet_pre [N])."""
        dtype = u.dtype if torch.is_tensor(u) else torch.float32
        x = (pixels.to(dtype) + u) / 256
        alpha = torch.tensor(ALPHA, dtype=torch.float32).to(dtype)
        p = alpha + (1 - 2 * alpha) * x
        lp, l1p = torch.log(p), torch.log(1 - p)
        logdet = (torch.log(1 - 2 * alpha) - lp - l1p).flatten(1).sum(dim=1)
        return lp - l1p, logdet

    def nll_parts(self, pixels, u):
        """Per-image nats split: (nll [N], logdet_pre, logp_z [N, L], logdet_flow [N, L])."""
        y, logdet_pre = self.preprocess(pixels, u)
        z, logdets = self.flow(y)
        logp = -0.5 * z * z - 0.5 * math.log(2 * math.pi)
        logp_z, start = [], 0
        for c, h, w in self.latent_shapes:
            logp_z.append(logp[:, start : start + c * h * w].sum(dim=1))
            start += c * h * w
        logp_z = torch.stack(logp_z, dim=1)
        d = self.config.dims()
        nll = -(logp_z.sum(1) + logdets.sum(1) + logdet_pre) + d * math.log(256)
        return nll, logdet_pre, logp_z, logdets

    def nll(self, pixels, u):
        return self.nll_parts(pixels, u)[0]

    def forward(self, pixels, u):
        """Per-image nll in nats [N]: what DistributedDataParallel wraps in training."""
        return self.nll(pixels, u)

    def l2_penalty(self):
        """5e-5 * sum of squares of every weight-norm g and every coupling scale."""
        total = 0.0
        for name, p in self.named_parameters():
            if name.endswith(".g") or name.endswith(".scale"):
                total = total + (p * p).sum()
        return L2 * total

    def loss(self, pixels, u):
        """The training loss: mean nll in nats per image + the L2 term."""
        return self.nll(pixels, u).mean() + self.l2_penalty()


def new_model(config: Config, seed=0):
    """A fresh model. Initialised as documented, but from torch's RNG, not Philox."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return RealNVP(config)
