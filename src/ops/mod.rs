//! GPU ops, one file per op family (`conv2d/` a folder: choosing kernels, the kernels,
//! the tuner), each beside its shader `shaders/<name>.wgsl` and its CPU twin
//! `src/cpu/<name>.rs` (for `rng`, `src/philox.rs`); the comparison tests are in
//! `tests/ops/<name>.rs`. `per_sample` holds the shape rule and grid of the ops that
//! fuse a per-sample sum.
//!
//! An op builder validates shapes (an `Err` naming the op and the shapes, never a GPU
//! validation abort), then returns an [`Op`]: its dispatches with bindings fixed, to be
//! recorded any number of times. Backward ops add parameter gradients into their
//! gradient tensors (zeroed once per step), never overwrite them.

pub mod activation;
pub mod adam;
pub mod batch_norm;
pub mod conv2d;
pub mod coupling;
pub mod display;
pub mod fill;
pub mod logit;
pub mod normal;
mod per_sample;
pub mod rng;
pub mod split;
pub mod squeeze;
pub mod weight_norm;

use crate::error::{Result, shape_err};
use crate::runtime::{Dispatch, Tensor};

/// One or more dispatches that together perform an op, in order.
pub struct Op {
    dispatches: Vec<Dispatch>,
}

impl Op {
    pub fn new(dispatches: Vec<Dispatch>) -> Self {
        Op { dispatches }
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>) {
        self.dispatches.iter().for_each(|d| d.encode(pass));
    }

    pub fn dispatches(&self) -> &[Dispatch] {
        &self.dispatches
    }
}

/// Whether a backward op adds its input gradient into the destination (the destination
/// already holds another path's gradient, as at a residual connection) or writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradMode {
    Write,
    Accumulate,
}

impl GradMode {
    pub(crate) fn flag(self) -> u32 {
        (self == GradMode::Accumulate) as u32
    }
}

/// Err unless every named tensor has the shape of the first.
pub(crate) fn same_shape(op: &'static str, tensors: &[(&str, &Tensor)]) -> Result<()> {
    let (first_name, first) = tensors[0];
    for (name, t) in &tensors[1..] {
        if t.shape() != first.shape() {
            return shape_err(
                op,
                format!(
                    "{name} has shape {} but {first_name} has shape {}",
                    t.shape(),
                    first.shape()
                ),
            );
        }
    }
    Ok(())
}

/// Err when an output tensor shares its buffer with an input: wgpu refuses a dispatch
/// that binds one buffer both read-only and writable, even through disjoint views.
pub(crate) fn distinct(
    op: &'static str,
    outputs: &[(&str, &Tensor)],
    inputs: &[(&str, &Tensor)],
) -> Result<()> {
    for (on, o) in outputs {
        for (iname, i) in inputs {
            if o.shares_buffer(i) {
                return shape_err(
                    op,
                    format!("output {on} shares its buffer with input {iname}"),
                );
            }
        }
    }
    Ok(())
}

/// Err when two outputs overlap. (Disjoint writable views of one buffer are allowed.)
pub(crate) fn disjoint(op: &'static str, outputs: &[(&str, &Tensor)]) -> Result<()> {
    for (k, (a, ta)) in outputs.iter().enumerate() {
        for (b, tb) in &outputs[k + 1..] {
            if ta.overlaps(tb) {
                return shape_err(op, format!("outputs {a} and {b} overlap in memory"));
            }
        }
    }
    Ok(())
}

/// (N, C, H, W) of a 4-D tensor, or an error naming the op and the tensor.
pub(crate) fn nchw(
    op: &'static str,
    name: &str,
    t: &Tensor,
) -> Result<(usize, usize, usize, usize)> {
    t.shape().nchw().ok_or_else(|| crate::Error::Shape {
        op,
        detail: format!(
            "{name} must be NCHW (4 dimensions), got shape {}",
            t.shape()
        ),
    })
}
