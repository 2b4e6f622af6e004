//! conv2d, stride 1, zero padding K/2, K in {1, 3}, with bias: forward, grad input,
//! grad weight, grad bias (shaders/conv2d.wgsl).
//!
//! [`forward`] and [`backward`] run with the kernels [`kernels_for`] chooses for the
//! shape: the adapter's kernel family, or with tuning on ([`Gpu::tune_kernels`]) the
//! fastest variants as measured by `tune.rs`. The variants and their launchers are in
//! `kernels.rs`, which the tuner times without going through this choice.

mod kernels;
mod shape;
mod tune;
mod winograd;

pub use kernels::{
    ConvGrads, ConvKernels, Gemm, UNIFORM_WEIGHTS, WeightGrad, backward_with, forward_with,
    grad_input_with,
};
pub use shape::ConvShape;

use kernels::{OP, OP_BACKWARD};
use shape::conv_shape;

use crate::error::Result;
use crate::ops::Op;
use crate::runtime::{Gpu, Tensor};

/// y = conv(x, weight) + bias, with the kernels chosen for this shape.
pub fn forward(
    gpu: &Gpu,
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    y: &Tensor,
) -> Result<Op> {
    let s = conv_shape(OP, x, weight, bias, y)?;
    forward_with(gpu, kernels_for(gpu, s)?, x, weight, bias, y)
}

/// Gradients of [`forward`] given dy, with the kernels chosen for this shape.
pub fn backward(
    gpu: &Gpu,
    x: &Tensor,
    weight: &Tensor,
    dy: &Tensor,
    grads: ConvGrads<'_>,
) -> Result<Op> {
    let s = conv_shape(OP_BACKWARD, x, weight, grads.dbias, dy)?;
    backward_with(gpu, kernels_for(gpu, s)?, x, weight, dy, grads)
}

/// The kernels for convolutions of shape `s` on `gpu`: the adapter's family, or with
/// tuning on the measured fastest (timed once per shape and adapter, then cached), any
/// that cannot run `s` itself replaced ([`ConvKernels::fitting`]).
fn kernels_for(gpu: &Gpu, s: ConvShape) -> Result<ConvKernels> {
    let chosen = match gpu.tuning() {
        None => ConvKernels::family(gpu.kernels),
        Some(tuning) => tune::fastest_kernels(gpu, tuning, s)?,
    };
    Ok(chosen.fitting(gpu, s))
}
