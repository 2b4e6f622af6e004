//! The arithmetic roof (shaders/roof.wgsl): independent `fma` chains and nothing else,
//! so its GFLOP/s is the most any kernel can reach on the adapter. `bench kernels`
//! reports every kernel as a fraction of it.

use bytemuck::{Pod, Zeroable};

use crate::error::{Result, shape_err};
use crate::ops::Op;
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("roof");

/// Independent vec4 chains per invocation (the shader's a0..a7).
pub const CHAINS: usize = 8;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    invocations: u32,
    iterations: u32,
    _pad: [u32; 2],
}

/// One invocation per element of `out`, each running `iterations` steps of every chain.
pub fn fma_roof(gpu: &Gpu, out: &Tensor, iterations: u32) -> Result<Op> {
    if out.numel() == 0 {
        return shape_err("fma_roof", "out must have at least one element".to_string());
    }
    let params = Params {
        invocations: out.numel() as u32,
        iterations,
        _pad: [0; 2],
    };
    let d = gpu.dispatch(
        &SHADER,
        "fma_roof",
        &params,
        &[Bind::write(1, out)],
        grid(out.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// Floating-point operations of one [`fma_roof`] run (an fma counts two).
pub fn flops(invocations: usize, iterations: u32) -> f64 {
    2.0 * 4.0 * CHAINS as f64 * invocations as f64 * iterations as f64
}
