//! Per-sample sums (shaders/reduce.wgsl), and the shape rule and grid shared by the ops
//! that fuse a per-sample sum into their forward (coupling and logit log-dets, the
//! normal log-density).

use bytemuck::{Pod, Zeroable};

use super::{Op, distinct};
use crate::error::{Result, shape_err};
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("reduce");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    samples: u32,
    per_sample: u32,
}

/// out[n] += sum of x[n, ...] over every non-batch element; x is [N, ...], out is [N].
pub fn sum_per_sample(gpu: &Gpu, x: &Tensor, out: &Tensor) -> Result<Op> {
    const OP: &str = "sum_per_sample";
    let samples = per_sample_output(OP, ("x", x), ("out", out))?;
    distinct(OP, &[("out", out)], &[("x", x)])?;
    let params = Params {
        samples: samples as u32,
        per_sample: (x.numel() / samples) as u32,
    };
    let d = gpu.dispatch(
        &SHADER,
        "sum_per_sample",
        &params,
        &[Bind::read(1, x), Bind::write(2, out)],
        sample_grid(samples),
    )?;
    Ok(Op::new(OP, vec![d]))
}

/// N of `input` ([N, ...]) when `output` has shape [N]; else an error naming both shapes.
pub(crate) fn per_sample_output(
    op: &'static str,
    (input_name, input): (&str, &Tensor),
    (output_name, output): (&str, &Tensor),
) -> Result<usize> {
    let Some(&samples) = input.shape().dims().first() else {
        return shape_err(
            op,
            format!("{input_name} must be [N, ...], got shape {}", input.shape()),
        );
    };
    if output.shape().dims() != [samples] {
        return shape_err(
            op,
            format!(
                "{output_name} must have shape [{samples}] for {input_name} {}, got {}",
                input.shape(),
                output.shape()
            ),
        );
    }
    Ok(samples)
}

/// One workgroup of `WG` invocations per sample, for the kernels that reduce a sample in
/// workgroup memory (folded into y past 65535 workgroups, like [`grid`]).
pub(crate) fn sample_grid(samples: usize) -> [u32; 3] {
    grid(samples * WG as usize, WG)
}
