//! Per-channel scale * tanh (the coupling's bounded log-scale) and the residual add
//! (shaders/activation.wgsl). The s,t networks' ReLU is fused into their batch norms
//! (`batch_norm::forward` with `After::Relu`).

use bytemuck::{Pod, Zeroable};

use super::{GradMode, Op, distinct, nchw, same_shape};
use crate::error::{Result, shape_err};
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("activation");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    inner: u32,
    channels: u32,
    accumulate: u32,
}

fn params(t: &Tensor, mode: GradMode) -> Params {
    let (channels, inner) = match t.shape().nchw() {
        Some((_, c, h, w)) => (c, h * w),
        None => (1, t.numel()),
    };
    Params {
        n: t.numel() as u32,
        inner: inner as u32,
        channels: channels as u32,
        accumulate: mode.flag(),
    }
}

fn check_scale(op: &'static str, x: &Tensor, scale: &Tensor) -> Result<()> {
    let (_, c, _, _) = nchw(op, "x", x)?;
    if scale.shape().dims() != [c] {
        return shape_err(
            op,
            format!(
                "scale must have shape [{c}] for x {}, got {}",
                x.shape(),
                scale.shape()
            ),
        );
    }
    Ok(())
}

/// y[n, c, h, w] = scale[c] * tanh(x[n, c, h, w]) (the coupling's bounded log-scale).
pub fn scale_tanh(gpu: &Gpu, x: &Tensor, scale: &Tensor, y: &Tensor) -> Result<Op> {
    const OP: &str = "scale_tanh";
    check_scale(OP, x, scale)?;
    same_shape(OP, &[("x", x), ("y", y)])?;
    let d = gpu.dispatch(
        &SHADER,
        "scale_tanh_forward",
        &params(x, GradMode::Write),
        &[Bind::read(1, x), Bind::read(3, scale), Bind::write(4, y)],
        grid(x.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// Gradients of [`scale_tanh`]: dx written or added per `mode`; dscale added.
pub fn scale_tanh_backward(
    gpu: &Gpu,
    x: &Tensor,
    scale: &Tensor,
    dy: &Tensor,
    dx: &Tensor,
    dscale: &Tensor,
    mode: GradMode,
) -> Result<Op> {
    const OP: &str = "scale_tanh_backward";
    check_scale(OP, x, scale)?;
    same_shape(OP, &[("x", x), ("dy", dy), ("dx", dx)])?;
    same_shape(OP, &[("scale", scale), ("dscale", dscale)])?;
    distinct(
        OP,
        &[("dx", dx), ("dscale", dscale)],
        &[("x", x), ("dy", dy), ("scale", scale)],
    )?;
    let p = params(x, mode);
    let input = gpu.dispatch(
        &SHADER,
        "scale_tanh_backward_input",
        &p,
        &[
            Bind::read(1, x),
            Bind::read(2, dy),
            Bind::read(3, scale),
            Bind::write(5, dx),
        ],
        grid(x.numel(), WG),
    )?;
    let param = gpu.dispatch(
        &SHADER,
        "scale_tanh_backward_scale",
        &p,
        &[Bind::read(1, x), Bind::read(2, dy), Bind::write(6, dscale)],
        grid(scale.numel(), WG),
    )?;
    Ok(Op::new(vec![input, param]))
}

/// y = a + b (the residual connection; its backward passes dy to both inputs).
pub fn add(gpu: &Gpu, a: &Tensor, b: &Tensor, y: &Tensor) -> Result<Op> {
    const OP: &str = "add";
    same_shape(OP, &[("a", a), ("b", b), ("y", y)])?;
    let p = params(a, GradMode::Write);
    // Views start at multiples of VIEW_ALIGN floats, so every binding is 16-byte aligned.
    let d = if a.numel().is_multiple_of(4) {
        gpu.dispatch(
            &SHADER,
            "add_forward4",
            &p,
            &[Bind::read(8, a), Bind::read(9, b), Bind::write(10, y)],
            grid(a.numel() / 4, WG),
        )?
    } else {
        gpu.dispatch(
            &SHADER,
            "add_forward",
            &p,
            &[Bind::read(1, a), Bind::read(7, b), Bind::write(4, y)],
            grid(a.numel(), WG),
        )?
    };
    Ok(Op::new(vec![d]))
}
