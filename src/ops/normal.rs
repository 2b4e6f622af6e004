//! The prior: standard normal log-density per sample (shaders/normal.wgsl).

use bytemuck::{Pod, Zeroable};

use super::per_sample::{per_sample_output, sample_grid};
use super::{GradMode, Op, distinct, same_shape};
use crate::error::Result;
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("normal");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    samples: u32,
    per_sample: u32,
    accumulate: u32,
}

fn params(z: &Tensor, samples: usize, mode: GradMode) -> Params {
    Params {
        samples: samples as u32,
        per_sample: (z.numel() / samples) as u32,
        accumulate: mode.flag(),
    }
}

/// logp[n] += sum_i (-0.5 z_i^2 - 0.5 ln(2 pi)) over z[n, ...]; z is [N, ...], logp [N].
/// The latents of several scales add into one logp.
pub fn log_density(gpu: &Gpu, z: &Tensor, logp: &Tensor) -> Result<Op> {
    const OP: &str = "normal_log_density";
    let samples = per_sample_output(OP, ("z", z), ("logp", logp))?;
    distinct(OP, &[("logp", logp)], &[("z", z)])?;
    let d = gpu.dispatch(
        &SHADER,
        "normal_log_density",
        &params(z, samples, GradMode::Write),
        &[Bind::read(1, z), Bind::write(2, logp)],
        sample_grid(samples),
    )?;
    Ok(Op::new(vec![d]))
}

/// dz = -z * dlogp[n], written or added per `mode`.
pub fn log_density_backward(
    gpu: &Gpu,
    z: &Tensor,
    dlogp: &Tensor,
    dz: &Tensor,
    mode: GradMode,
) -> Result<Op> {
    const OP: &str = "normal_backward";
    let samples = per_sample_output(OP, ("z", z), ("dlogp", dlogp))?;
    same_shape(OP, &[("z", z), ("dz", dz)])?;
    distinct(OP, &[("dz", dz)], &[("z", z), ("dlogp", dlogp)])?;
    let d = gpu.dispatch(
        &SHADER,
        "normal_backward",
        &params(z, samples, mode),
        &[Bind::read(1, z), Bind::read(3, dlogp), Bind::write(4, dz)],
        grid(z.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}
