//! The conv2d tuner: each GEMM variant of the forward and of the grad input, and each
//! grad-weight variant, is timed on zeros at a shape and the fastest of each is kept
//! (and cached on disk by [`Tuning`]).
//!
//! The timing runs at a proxy batch that does about [`PROXY_FLOPS`] of forward work,
//! so that tuning every shape of the `mnist` preset costs seconds on a CPU adapter
//! (compiling the candidates is most of it); real GPUs, which need more work to show
//! their speed, get up to the full batch. The proxy must not be too small: with only a
//! few workgroups a core sits idle and a variant's fixed cost (the uniform variant's
//! weight staging) weighs more than at the full batch, which can reverse the ranking
//! (on lavapipe at 2e7 FLOP, 2 images at 28x28, against `Direct16Uniform`, which is
//! 1.4-2x faster than `Direct16` at the preset's full batch); at 1e8 the ranking
//! matches the full batch's. The cache keys the choice by the shape as timed, so
//! batches at or above the proxy batch share it.
//!
//! This file imports only the kernels, and its source is part of the tuning cache's
//! identity (`runtime/tuning.rs`): a changed way of timing is timed again.
//!
//! [`Tuning`]: crate::runtime::tuning::Tuning

use super::kernels::{self, ConvGrads, ConvKernels, Gemm, WeightGrad};
use super::shape::ConvShape;
use crate::error::Result;
use crate::ops::{GradMode, Op};
use crate::runtime::Gpu;
use crate::runtime::timer::time_pass;
use crate::runtime::tuning::Tuning;

/// Forward floating-point work per timed run on a CPU adapter.
const PROXY_FLOPS: f64 = 1e8;
/// The same on a GPU, which is ~100x faster.
const PROXY_FLOPS_GPU: f64 = 2e9;

/// The fastest kernels at shape `s` as recorded in `tuning`, measured at the proxy
/// batch of `s` the first time (every batch with the same proxy batch shares one
/// measurement and choice).
pub(super) fn fastest_kernels(gpu: &Gpu, tuning: &Tuning, s: ConvShape) -> Result<ConvKernels> {
    let p = ConvShape {
        n: proxy_batch(gpu, s),
        ..s
    };
    tuning.choose(&key(p), || gpu.with_one_off_buffers(|| measure(gpu, p)))
}

/// The cache key of a shape as timed (at its proxy batch).
fn key(s: ConvShape) -> String {
    format!(
        "conv2d n{} cin{} cout{} h{} w{} k{}",
        s.n, s.cin, s.cout, s.h, s.w, s.k
    )
}

/// The batch the timing runs at: the batch of `s`, or fewer images.
fn proxy_batch(gpu: &Gpu, s: ConvShape) -> usize {
    let per_image = ConvShape { n: 1, ..s }.flops();
    let budget = if gpu.info.device_type == wgpu::DeviceType::Cpu {
        PROXY_FLOPS
    } else {
        PROXY_FLOPS_GPU
    };
    ((budget / per_image).ceil() as usize).clamp(1, s.n)
}

/// Times every candidate at shape `p` and returns the fastest of each.
fn measure(gpu: &Gpu, p: ConvShape) -> Result<ConvKernels> {
    let x = gpu.zeros([p.n, p.cin, p.h, p.w])?;
    let w = gpu.zeros([p.cout, p.cin, p.k, p.k])?;
    let bias = gpu.zeros([p.cout])?;
    let y = gpu.empty([p.n, p.cout, p.h, p.w])?;
    let dy = gpu.zeros([p.n, p.cout, p.h, p.w])?;
    let dx = gpu.empty([p.n, p.cin, p.h, p.w])?;
    let dw = gpu.zeros([p.cout, p.cin, p.k, p.k])?;
    let db = gpu.zeros([p.cout])?;
    let base = ConvKernels::family(gpu.kernels);
    // On a CPU adapter the workgroup-memory and one-pixel-per-invocation variants run
    // 2-5x slower than the direct ones at every shape measured (docs/PERFORMANCE.md):
    // not timing them spares their compilation too. Grad input's transposed shape has
    // the same weights, so the same variants fit.
    let cpu = gpu.info.device_type == wgpu::DeviceType::Cpu;
    let gemms: Vec<Gemm> = Gemm::ALL
        .into_iter()
        .filter(|g| g.fits(gpu, p) && (g.is_direct() || g.is_winograd() || !cpu))
        .collect();
    let grad_weights: Vec<WeightGrad> = WeightGrad::ALL
        .into_iter()
        .filter(|f| f.fits(gpu, p) && !(cpu && *f == WeightGrad::Tiled))
        .collect();

    let forward = fastest(gpu, &gemms, |g| {
        let kernels = ConvKernels { forward: g, ..base };
        kernels::forward_with(gpu, kernels, &x, &w, Some(&bias), &y)
    })?;
    let grad_input = fastest(gpu, &gemms, |g| {
        kernels::grad_input_with(gpu, g, &x, &w, &dy, (&dx, GradMode::Write))
    })?;
    let grad_weight = fastest(gpu, &grad_weights, |f| {
        let kernels = ConvKernels {
            grad_weight: f,
            ..base
        };
        let grads = ConvGrads {
            dx: None,
            dweight: &dw,
            dbias: Some(&db),
        };
        kernels::backward_with(gpu, kernels, &x, &w, &dy, grads)
    })?;
    Ok(ConvKernels {
        forward,
        grad_input,
        grad_weight,
    })
}

/// The candidate whose op runs fastest (see [`pick_fastest`]).
fn fastest<T: Copy>(gpu: &Gpu, candidates: &[T], op: impl Fn(T) -> Result<Op>) -> Result<T> {
    pick_fastest(candidates, op, |op: &Op| {
        time_pass(gpu, 1, &|pass| op.encode(pass)).map(|(seconds, _)| seconds)
    })
}

/// The candidate with the least time: `prepare(c)` builds what `run` runs once and
/// times. Every candidate first runs once untimed: lavapipe compiles a pipeline at its
/// first dispatch, inside the timestamps (~1 s for a conv kernel, 10-100x its run), and
/// a first run that includes compilation would rank candidates by their compile times.
/// Then each is timed once; only those within 1.5x of the best so far get a second run
/// (best of two), which keeps tuning to seconds on a CPU adapter where the slow
/// candidates take several times the fast ones.
fn pick_fastest<T: Copy, P>(
    candidates: &[T],
    mut prepare: impl FnMut(T) -> Result<P>,
    mut run: impl FnMut(&P) -> Result<f64>,
) -> Result<T> {
    let mut best = (f64::INFINITY, candidates[0]);
    for &c in candidates {
        let prepared = prepare(c)?;
        run(&prepared)?;
        let mut t = run(&prepared)?;
        if t < 1.5 * best.0 {
            t = t.min(run(&prepared)?);
        }
        if t < best.0 {
            best = (t, c);
        }
    }
    Ok(best.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Candidates whose first run is slow (a pipeline compiling), then steady: the
    /// pick follows the steady times, whatever the compile times (the first candidate
    /// compiles fastest, as a pipeline compiled for an earlier shape would).
    #[test]
    fn a_first_run_that_compiles_does_not_decide_the_pick() {
        let steady = [3.0, 1.0, 2.0, 1.5];
        let compile = [0.5, 40.0, 10.0, 30.0];
        let mut runs = [0; 4];
        let picked = pick_fastest(&[0usize, 1, 2, 3], Ok, |&c| {
            runs[c] += 1;
            Ok(if runs[c] == 1 { compile[c] } else { steady[c] })
        })
        .unwrap();
        assert_eq!(picked, 1);
        assert!(
            runs.iter().all(|&n| n >= 2),
            "every candidate is timed: {runs:?}"
        );
    }
}
