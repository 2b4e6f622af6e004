"""Train the Real NVP of docs/MODEL.md with PyTorch DistributedDataParallel.

    torchrun --nproc_per_node 4 train_ddp.py --preset mnist --data DIR --epochs 10 --out runs/ddp
    python train_ddp.py --preset tiny --steps 50 --out runs/one     # one process, no DDP

Writes OUT/weights.safetensors (our weights-only file: `realnvp eval --checkpoint`, the
app's `--checkpoint`, `realnvp train --init`) at every epoch end and at the end, and
OUT/metrics.jsonl. --batch is the global batch, split evenly over the processes; batch
norms use the global batch's moments (an all-reduce of the per-process moments).
Backend: nccl when CUDA is available, else gloo.
"""

import argparse
import inspect
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realnvp_torch as rt  # noqa: E402
from realnvp_torch.data import DataError, load_dataset  # noqa: E402

CLIP_NORM = 100.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="mnist", choices=sorted(rt.PRESETS))
    p.add_argument("--config", help="a JSON model config (channels, height, width, scales, features, blocks, batch)")
    p.add_argument("--init", help="start from the weights of one of our files (its config is used)")
    p.add_argument("--features", type=int)
    p.add_argument("--blocks", type=int)
    p.add_argument("--batch", type=int, help="global batch (default: the config's), split over processes")
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "assets", "mnist"),
                   help="MNIST IDX dir/file, CIFAR-10 .bin files or an image folder (default: the bundled MNIST)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--steps", type=int, help="stop after this many steps in total")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/ddp")
    p.add_argument("--eval-count", type=int, default=500, help="test images evaluated per epoch (0: none)")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--double", action="store_true",
                   help="compute in float64 (files are still f32): for exact comparisons, see INTEROP.md")
    a = p.parse_args(argv)
    if not 0 < a.lr <= 1:
        p.error(f"--lr must be above 0 and at most 1, got {a.lr}")
    return a


def make_config(a):
    if a.init:
        try:
            config = rt.read_file(a.init)[0]
        except rt.CheckpointError as err:
            raise SystemExit(f"error: --init {err}")
    elif a.config:
        try:
            with open(a.config) as f:
                config = rt.Config(**json.load(f))
        except (OSError, ValueError, TypeError) as err:
            raise SystemExit(f"error: {a.config}: not a model config ({err})")
    else:
        config = rt.Config(**rt.PRESETS[a.preset].to_dict())
    if a.features:
        config.features = a.features
    if a.blocks:
        config.blocks = a.blocks
    if a.batch:
        config.batch = a.batch
    config.check(where=a.config or a.init or f"preset {a.preset}")
    if a.init and (a.features or a.blocks):
        raise SystemExit(f"error: --features/--blocks cannot change the model of {a.init}")
    return config


def epoch_order(n, seed, epoch):
    """The same permutation on every process (torch's RNG, not the CLI's StdRng)."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


def step_noise(shape, seed, step):
    """Dequantisation noise of the whole global batch for one step (every process draws it
    all and takes its slice, so the run does not depend on the number of processes)."""
    g = torch.Generator().manual_seed((seed + 1) * 2_147_483_647 + step)
    return torch.rand(shape, generator=g)


def clip_gradients(params, max_norm):
    """Scale every gradient by min(1, max_norm / global L2 norm); returns the norm."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
    factor = min(1.0, max_norm / norm.item()) if norm.item() > 0 else 1.0
    if factor < 1.0:
        for g in grads:
            g.mul_(factor)
    return norm.item()


def main(argv=None):
    a = parse_args(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    distributed = "RANK" in os.environ  # launched by torchrun (even with one process)
    cuda = torch.cuda.is_available()
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")
        rank, local = dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0"))
    else:
        rank, local = 0, 0
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    chief = rank == 0

    config = make_config(a)
    if config.batch % world:
        raise SystemExit(f"error: global batch {config.batch} is not divisible by {world} processes")
    local_batch = config.batch // world
    try:
        train, test = load_dataset(a.data, config.channels, config.height, config.width)
    except DataError as err:
        raise SystemExit(f"error: {err}")
    if len(train) < config.batch:
        raise SystemExit(f"error: {a.data}: {len(train)} training images, fewer than one batch of {config.batch}")

    model = rt.load(a.init) if a.init else rt.new_model(config, seed=a.seed)
    model.config = config  # --batch may differ from the file's
    dtype = torch.float64 if a.double else torch.float32
    model = model.to(device, dtype).train()
    net = model
    if distributed:
        rt.sync_batch_norm()  # batch-norm moments of the global batch (see INTEROP.md)
        # Buffers stay equal on every process through the synchronised moments: no need
        # to copy rank 0's before every forward (the option's name changed in torch 2.15).
        ddp = torch.nn.parallel.DistributedDataParallel
        no_sync = ({"forward_sync_buffers": False}
                   if "forward_sync_buffers" in inspect.signature(ddp.__init__).parameters
                   else {"broadcast_buffers": False})
        net = ddp(model, device_ids=[local] if cuda else None, **no_sync)
    params = [p for p in model.parameters()]
    opt = torch.optim.Adam(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)

    os.makedirs(a.out, exist_ok=True)
    out_file = os.path.join(a.out, "weights.safetensors")
    metrics = open(os.path.join(a.out, "metrics.jsonl"), "a") if chief else None
    if chief:
        with open(os.path.join(a.out, "config.json"), "w") as f:
            json.dump(config.to_dict(), f, indent=2)
        print(f"model: {sum(p.numel() for p in params)} parameters, {world} process(es), "
              f"global batch {config.batch} ({local_batch} each), {len(train)} training images")

    d = config.dims()
    steps_per_epoch = len(train) // config.batch  # the last incomplete batch is dropped
    step, last_good = 0, None
    shape = (config.batch, config.channels, config.height, config.width)
    for epoch in range(a.epochs):
        order = epoch_order(len(train), a.seed, epoch)
        t0, seen, sum_bpd = time.time(), 0, 0.0
        for i in range(steps_per_epoch):
            if a.steps is not None and step >= a.steps:
                break
            idx = order[i * config.batch : (i + 1) * config.batch][rank * local_batch : (rank + 1) * local_batch]
            pixels = train[idx].to(device)
            u = step_noise(shape, a.seed, step)[rank * local_batch : (rank + 1) * local_batch].to(device, dtype)
            nll = net(pixels, u)
            loss = nll.mean() + model.l2_penalty()
            opt.zero_grad(set_to_none=True)
            loss.backward()  # DDP averages the gradients over processes here
            mean_nll = nll.detach().mean()
            if distributed:
                dist.all_reduce(mean_nll)
                mean_nll /= world
            if not math.isfinite(mean_nll.item()):
                msg = f"error: non-finite loss at step {step + 1}; "
                msg += f"the last good weights are {last_good}" if last_good else "nothing was saved"
                raise SystemExit(msg)
            grad_norm = clip_gradients(params, CLIP_NORM)
            opt.step()
            step += 1
            bpd = mean_nll.item() / (d * math.log(2))
            seen += config.batch
            sum_bpd += bpd
            if chief:
                rate = seen / (time.time() - t0)
                metrics.write(json.dumps({"step": step, "epoch": epoch, "train_bpd": bpd,
                                          "grad_norm": grad_norm, "images_per_second": rate}) + "\n")
                if step == 1 or step % a.log_every == 0:
                    print(f"step {step} (epoch {epoch}): {bpd:.4f} bits/dim, {rate:.1f} images/s", flush=True)
        # Epoch end (or --steps reached): save, evaluate on the test split.
        if chief:
            rt.save(model, out_file, trained={"step": step, "epoch": epoch})
            last_good = out_file
            line = {"epoch": epoch, "step": step, "train_bpd": sum_bpd / max(1, seen // config.batch)}
            if test is not None and a.eval_count > 0:
                x = test[: a.eval_count].to(device)
                line["test_bpd_half"] = rt.bits_per_dim(model, x).mean().item()
                g = torch.Generator().manual_seed(20170424)
                u = torch.rand(x.shape, generator=g).to(device, dtype)
                line["test_bpd"] = rt.bits_per_dim(model, x, u).mean().item()
                model.train()
            metrics.write(json.dumps(line) + "\n")
            metrics.flush()
            print(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                                 for k, v in line.items()), flush=True)
        if a.steps is not None and step >= a.steps:
            break
    if chief:
        print(f"done: {out_file}")
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
