//! Squeeze (PyTorch's pixel_unshuffle(x, 2)) and unsqueeze (shaders/squeeze.wgsl).
//!
//! Both are permutations, and a permutation's adjoint is its inverse: the backward of
//! squeeze is unsqueeze applied to the gradient, and the backward of unsqueeze is
//! squeeze. The flow calls them for gradients too; there are no separate backward ops.

use bytemuck::{Pod, Zeroable};

use super::{Op, distinct, nchw};
use crate::error::{Result, shape_err};
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("squeeze");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    samples: u32,
    channels: u32,
    height: u32,
    width: u32,
}

/// Params of the unsqueezed tensor `x` once `x` (even H, W) and `y` ([N, 4C, H/2, W/2])
/// are checked to fit.
fn check(op: &'static str, x: &Tensor, y: &Tensor) -> Result<Params> {
    let (n, c, h, w) = nchw(op, "x", x)?;
    if h % 2 != 0 || w % 2 != 0 {
        return shape_err(
            op,
            format!("x must have even H and W, got shape {}", x.shape()),
        );
    }
    let want = [n, 4 * c, h / 2, w / 2];
    if y.shape().dims() != want {
        return shape_err(
            op,
            format!(
                "y must have shape {want:?} for x {}, got {}",
                x.shape(),
                y.shape()
            ),
        );
    }
    distinct(op, &[("y", y)], &[("x", x)])?;
    Ok(Params {
        samples: n as u32,
        channels: c as u32,
        height: h as u32,
        width: w as u32,
    })
}

/// y[n, c*4 + 2*i + j, h, w] = x[n, c, 2*h + i, 2*w + j]; x is [N, C, H, W] with H and
/// W even, y is [N, 4C, H/2, W/2]. Also the backward of [`unsqueeze`] (dy -> dx).
pub fn squeeze(gpu: &Gpu, x: &Tensor, y: &Tensor) -> Result<Op> {
    const OP: &str = "squeeze";
    let params = check(OP, x, y)?;
    let d = gpu.dispatch(
        &SHADER,
        "squeeze_forward",
        &params,
        &[Bind::read(1, x), Bind::write(2, y)],
        grid(x.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// The inverse of [`squeeze`]: x from y, shapes as there (note the argument order: input
/// y first). Also the backward of [`squeeze`] (dy -> dx).
pub fn unsqueeze(gpu: &Gpu, y: &Tensor, x: &Tensor) -> Result<Op> {
    const OP: &str = "unsqueeze";
    let params = check(OP, x, y)?;
    let d = gpu.dispatch(
        &SHADER,
        "squeeze_inverse",
        &params,
        &[Bind::read(3, y), Bind::write(4, x)],
        grid(x.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}
