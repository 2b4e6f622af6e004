//! Setting a tensor to a constant (shaders/fill.wgsl): the trainer zeroes its gradient
//! arena with it at the start of every step.

use bytemuck::{Pod, Zeroable};

use super::Op;
use crate::error::Result;
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("fill");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    value: f32,
}

/// y[i] = value for every element of y. Any tensor shape is valid, so this never fails;
/// it returns `Result` like every other builder.
pub fn fill(gpu: &Gpu, y: &Tensor, value: f32) -> Result<Op> {
    let params = Params {
        n: y.numel() as u32,
        value,
    };
    let d = gpu.dispatch(
        &SHADER,
        "fill",
        &params,
        &[Bind::write(1, y)],
        grid(y.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}
