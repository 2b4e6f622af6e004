//! Weight normalization of conv weights, w = g * v / |v| per output channel
//! (shaders/weight_norm.wgsl).

use bytemuck::{Pod, Zeroable};

use super::{Op, distinct, same_shape};
use crate::error::{Result, shape_err};
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("weight_norm");

const OP: &str = "weight_norm";
const OP_BACKWARD: &str = "weight_norm_backward";

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
}

/// Checks that v is [O, I, kh, kw] and g is [O]; returns the rows and columns of v
/// seen as a matrix (O rows of I * kh * kw).
fn rows_cols(op: &'static str, v: &Tensor, g: &Tensor) -> Result<Params> {
    let Some((rows, _, _, _)) = v.shape().nchw() else {
        return shape_err(
            op,
            format!("v must be [O, I, kh, kw] (4 dimensions), got {}", v.shape()),
        );
    };
    if g.shape().dims() != [rows] {
        return shape_err(
            op,
            format!(
                "g must have shape [{rows}] for v {}, got {}",
                v.shape(),
                g.shape()
            ),
        );
    }
    Ok(Params {
        rows: rows as u32,
        cols: (v.numel() / rows) as u32,
    })
}

/// w[o, ...] = g[o] * v[o, ...] / |v[o, ...]|, the norm over all of one output channel's
/// weights. A row of v that is all zero gives non-finite weights.
pub fn forward(gpu: &Gpu, v: &Tensor, g: &Tensor, w: &Tensor) -> Result<Op> {
    let params = rows_cols(OP, v, g)?;
    same_shape(OP, &[("v", v), ("w", w)])?;
    distinct(OP, &[("w", w)], &[("v", v), ("g", g)])?;
    let d = gpu.dispatch(
        &SHADER,
        "weight_norm_forward",
        &params,
        &[Bind::read(1, v), Bind::read(2, g), Bind::write(4, w)],
        grid(params.rows as usize, WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// Gradients of [`forward`] given dw (the gradient wrt w), ADDED into dv and dg.
pub fn backward(
    gpu: &Gpu,
    v: &Tensor,
    g: &Tensor,
    dw: &Tensor,
    dv: &Tensor,
    dg: &Tensor,
) -> Result<Op> {
    let params = rows_cols(OP_BACKWARD, v, g)?;
    same_shape(OP_BACKWARD, &[("v", v), ("dw", dw), ("dv", dv)])?;
    same_shape(OP_BACKWARD, &[("g", g), ("dg", dg)])?;
    distinct(
        OP_BACKWARD,
        &[("dv", dv), ("dg", dg)],
        &[("v", v), ("g", g), ("dw", dw)],
    )?;
    let d = gpu.dispatch(
        &SHADER,
        "weight_norm_backward",
        &params,
        &[
            Bind::read(1, v),
            Bind::read(2, g),
            Bind::read(3, dw),
            Bind::write(5, dv),
            Bind::write(6, dg),
        ],
        grid(params.rows as usize, WG),
    )?;
    Ok(Op::new(vec![d]))
}
