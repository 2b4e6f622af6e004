//! `realnvp bench kernels`: the adapter's arithmetic roof (independent `fma` chains),
//! then matmul and conv2d forward, grad input and grad weight GFLOP/s at the `mnist`
//! preset's shapes, each as a fraction of that roof measured in the same run.

use serde_json::json;

use super::{matmul, roof};
use crate::Result;
use crate::ops::conv2d::{self, ConvGrads, ConvKernels, ConvShape, Gemm, WeightGrad};
use crate::ops::{GradMode, Op};
use crate::runtime::timer::{Clock, time_pass};
use crate::runtime::{Gpu, KernelFamily, Tensor};

/// The convolutions of the `mnist` preset's s,t networks at batch 64: 32 -> 32 channels
/// at 28x28 (scale 1 checkerboard) and 14x14 (after the squeeze).
pub fn mnist_shapes() -> Vec<ConvShape> {
    [28, 14]
        .into_iter()
        .map(|hw| ConvShape {
            n: 64,
            cin: 32,
            cout: 32,
            h: hw,
            w: hw,
            k: 3,
        })
        .collect()
}

/// Times `op` (after one untimed run) and returns seconds per run.
fn time_op(gpu: &Gpu, op: &Op, reps: u32) -> Result<(f64, Clock)> {
    gpu.run(|p| op.encode(p));
    time_pass(gpu, reps, &|p| op.encode(p))
}

fn random(gpu: &Gpu, shape: &[usize], seed: u32) -> Result<Tensor> {
    // A cheap deterministic pattern: the figures do not depend on the values.
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n)
        .map(|i| {
            (((i as u32).wrapping_mul(2654435761).wrapping_add(seed)) >> 8) as f32 / 16777216.0
                - 0.5
        })
        .collect();
    gpu.upload(shape, &data)
}

/// GFLOP/s of the roof kernel: 65,536 invocations of 4096 iterations (~17 GFLOP, a
/// fraction of a second on lavapipe, a few milliseconds on a GPU).
pub fn fma_roof(gpu: &Gpu, reps: u32) -> Result<(f64, Clock)> {
    let (invocations, iterations) = (65_536, 4096);
    let out = gpu.empty([invocations])?;
    let op = roof::fma_roof(gpu, &out, iterations)?;
    let (secs, clock) = time_op(gpu, &op, reps)?;
    Ok((roof::flops(invocations, iterations) / secs * 1e-9, clock))
}

/// Hands `emit` one JSON line per figure as soon as it is measured; an error from `emit`
/// (its reader gone) ends the run.
pub fn run(
    gpu: &Gpu,
    reps: u32,
    emit: &mut dyn FnMut(serde_json::Value) -> Result<()>,
) -> Result<()> {
    let adapter = crate::runtime::adapter::describe(&gpu.info);

    let roof = fma_roof(gpu, reps)?;
    emit(json!({
        "bench": "fma_roof", "gflops": roof.0, "clock": roof.1.name(), "adapter": adapter,
    }))?;
    let roof = roof.0;

    let (m, k, n) = (512, 512, 512);
    let a = random(gpu, &[m, k], 1)?;
    let b = random(gpu, &[k, n], 2)?;
    let c = gpu.empty([m, n])?;
    for &family in &[KernelFamily::Direct, KernelFamily::Tiled] {
        let op = matmul::matmul(gpu, family, &a, &b, &c)?;
        let (secs, clock) = time_op(gpu, &op, reps)?;
        let gflops = 2.0 * (m * k * n) as f64 / secs * 1e-9;
        emit(json!({
            "bench": "matmul", "family": format!("{family:?}"), "m": m, "k": k, "n": n,
            "ms": secs * 1e3, "gflops": gflops, "fraction_of_roof": gflops / roof,
            "clock": clock.name(), "adapter": adapter,
        }))?;
    }

    for s in mnist_shapes() {
        let x = random(gpu, &[s.n, s.cin, s.h, s.w], 3)?;
        let w = random(gpu, &[s.cout, s.cin, s.k, s.k], 4)?;
        let bias = random(gpu, &[s.cout], 5)?;
        let y = gpu.empty([s.n, s.cout, s.h, s.w])?;
        let dy = random(gpu, &[s.n, s.cout, s.h, s.w], 6)?;
        let dx = gpu.empty([s.n, s.cin, s.h, s.w])?;
        let dw = gpu.zeros([s.cout, s.cin, s.k, s.k])?;
        let db = gpu.zeros([s.cout])?;
        let mut emit_conv = |kernel: &str, variant: String, (t, clock): (f64, Clock)| {
            let gflops = s.flops() / t * 1e-9;
            emit(json!({
                "bench": "conv2d", "kernel": kernel, "variant": variant,
                "n": s.n, "cin": s.cin, "cout": s.cout, "h": s.h, "w": s.w, "k": s.k,
                "ms": t * 1e3, "gflops": gflops, "fraction_of_roof": gflops / roof,
                "clock": clock.name(), "adapter": adapter,
            }))
        };
        for gemm in Gemm::ALL.into_iter().filter(|g| g.fits(gpu, s)) {
            let kernels = ConvKernels {
                forward: gemm,
                ..ConvKernels::family(gpu.kernels)
            };
            let forward = conv2d::forward_with(gpu, kernels, &x, &w, Some(&bias), &y)?;
            emit_conv(
                "forward",
                format!("{gemm:?}"),
                time_op(gpu, &forward, reps)?,
            )?;
            let grad_input =
                conv2d::grad_input_with(gpu, gemm, &x, &w, &dy, (&dx, GradMode::Write))?;
            emit_conv(
                "grad_input",
                format!("{gemm:?}"),
                time_op(gpu, &grad_input, reps)?,
            )?;
        }
        for family in WeightGrad::ALL.into_iter().filter(|f| f.fits(gpu, s)) {
            let grads = ConvGrads {
                dx: None,
                dweight: &dw,
                dbias: Some(&db),
            };
            let kernels = ConvKernels {
                grad_weight: family,
                ..ConvKernels::family(gpu.kernels)
            };
            let grad_weight = conv2d::backward_with(gpu, kernels, &x, &w, &dy, grads)?;
            emit_conv(
                "grad_weight_and_bias",
                format!("{family:?}"),
                time_op(gpu, &grad_weight, reps)?,
            )?;
        }
    }
    Ok(())
}
