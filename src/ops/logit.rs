//! Preprocessing (shaders/logit.wgsl): dequantize pixels with noise u, map them to logit
//! space with its log-det, and the inverse used by sampling.

use bytemuck::{Pod, Zeroable};

use super::per_sample::{per_sample_output, sample_grid};
use super::{Op, distinct, same_shape};
use crate::error::Result;
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("logit");

/// The logit's squeeze towards 0.5 (model-spec.md): q = ALPHA + (1 - 2 ALPHA) x.
pub const ALPHA: f32 = 0.05;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    samples: u32,
    per_sample: u32,
    alpha: f32,
}

fn params(t: &Tensor, samples: usize) -> Params {
    Params {
        samples: samples as u32,
        per_sample: (t.numel() / samples) as u32,
        alpha: ALPHA,
    }
}

/// x = (pixels + noise) / 256, q = ALPHA + (1 - 2 ALPHA) x, y = log(q) - log(1 - q);
/// logdet[n] += sum over sample n of log(1 - 2 ALPHA) - log(q) - log(1 - q).
/// `pixels` holds 0..255 as f32, `noise` u in [0, 1), both [N, ...] like y; logdet is [N].
pub fn forward(
    gpu: &Gpu,
    pixels: &Tensor,
    noise: &Tensor,
    y: &Tensor,
    logdet: &Tensor,
) -> Result<Op> {
    const OP: &str = "logit_forward";
    let samples = per_sample_output(OP, ("pixels", pixels), ("logdet", logdet))?;
    same_shape(OP, &[("pixels", pixels), ("noise", noise), ("y", y)])?;
    distinct(
        OP,
        &[("y", y), ("logdet", logdet)],
        &[("pixels", pixels), ("noise", noise)],
    )?;
    let d = gpu.dispatch(
        &SHADER,
        "logit_forward",
        &params(pixels, samples),
        &[
            Bind::read(1, pixels),
            Bind::read(2, noise),
            Bind::write(3, y),
            Bind::write(4, logdet),
        ],
        sample_grid(samples),
    )?;
    Ok(Op::new(vec![d]))
}

/// x = clamp((sigmoid(y) - ALPHA) / (1 - 2 ALPHA), 0, 1): image values in [0, 1] from
/// logit space, for sampling (no log-det).
pub fn inverse(gpu: &Gpu, y: &Tensor, x: &Tensor) -> Result<Op> {
    const OP: &str = "logit_inverse";
    same_shape(OP, &[("y", y), ("x", x)])?;
    distinct(OP, &[("x", x)], &[("y", y)])?;
    let d = gpu.dispatch(
        &SHADER,
        "logit_inverse",
        // Elementwise: the whole tensor counts as one sample.
        &params(y, 1),
        &[Bind::read(8, y), Bind::write(9, x)],
        grid(y.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}
