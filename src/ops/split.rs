//! Channel split (factor-out) and concat, its inverse (shaders/split.wgsl).
//!
//! Each is the other's backward: the gradients of the two parts concatenate into the
//! gradient of the whole, and the gradient of the whole splits into those of the parts.

use bytemuck::{Pod, Zeroable};

use super::{Op, distinct, nchw};
use crate::error::{Result, shape_err};
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("split");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    samples: u32,
    channels: u32,
    first: u32,
    plane: u32,
}

/// Params once `a` [N, C1, H, W] and `b` [N, C - C1, H, W] are checked to be the two
/// channel parts of `x` [N, C, H, W], 0 < C1 < C.
fn check(op: &'static str, x: &Tensor, a: &Tensor, b: &Tensor) -> Result<Params> {
    let (n, c, h, w) = nchw(op, "x", x)?;
    let (_, c1, _, _) = nchw(op, "a", a)?;
    let fits = c1 > 0
        && c1 < c
        && a.shape().dims() == [n, c1, h, w]
        && b.shape().dims() == [n, c - c1, h, w];
    if !fits {
        return shape_err(
            op,
            format!(
                "a {} and b {} must be [N, C1, H, W] and [N, C - C1, H, W] with 0 < C1 < C \
                 for x {}",
                a.shape(),
                b.shape(),
                x.shape()
            ),
        );
    }
    Ok(Params {
        samples: n as u32,
        channels: c as u32,
        first: c1 as u32,
        plane: (h * w) as u32,
    })
}

/// a = x[:, :C1], b = x[:, C1:], C1 given by a's shape. Also the backward of [`concat`].
pub fn split(gpu: &Gpu, x: &Tensor, a: &Tensor, b: &Tensor) -> Result<Op> {
    const OP: &str = "split";
    let params = check(OP, x, a, b)?;
    distinct(OP, &[("a", a), ("b", b)], &[("x", x)])?;
    let d = gpu.dispatch(
        &SHADER,
        "split_forward",
        &params,
        &[Bind::read(1, x), Bind::write(2, a), Bind::write(3, b)],
        grid(x.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// x = (a, b) along channels, the inverse of [`split`]. Also the backward of [`split`].
pub fn concat(gpu: &Gpu, a: &Tensor, b: &Tensor, x: &Tensor) -> Result<Op> {
    const OP: &str = "concat";
    let params = check(OP, x, a, b)?;
    distinct(OP, &[("x", x)], &[("a", a), ("b", b)])?;
    let d = gpu.dispatch(
        &SHADER,
        "split_inverse",
        &params,
        &[Bind::read(4, a), Bind::read(5, b), Bind::write(6, x)],
        grid(x.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}
