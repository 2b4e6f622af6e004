"""Times the PyTorch port's `mnist` training step (batch 64, Adam) and the sampling of 64
images on this machine's CPU with 2 threads; prints one JSON line (docs/PERFORMANCE.md
compares it with `realnvp bench` run on the same machine)."""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import realnvp_torch as rt  # noqa: E402
from realnvp_torch.data import load_dataset  # noqa: E402


def timed(work, runs, untimed):
    seconds = []
    for i in range(untimed + runs):
        start = time.perf_counter()
        work()
        if i >= untimed:
            seconds.append(time.perf_counter() - start)
    return seconds


def main():
    torch.set_num_threads(2)
    config = rt.PRESETS["mnist"]
    model = rt.new_model(config, seed=0).train()
    train, _ = load_dataset(os.path.join(HERE, "..", "..", "assets", "mnist"),
                            config.channels, config.height, config.width)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    pixels = train[:config.batch]

    def step():
        loss = model.nll(pixels, torch.rand(pixels.shape)).mean() + model.l2_penalty()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    steps = timed(step, runs=5, untimed=2)
    samples = timed(lambda: rt.sample(model, 64, 0.7), runs=3, untimed=1)
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "step_median_seconds": statistics.median(steps),
        "sample_64_median_seconds": statistics.median(samples),
    }))


if __name__ == "__main__":
    main()
