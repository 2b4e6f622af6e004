//! Affine coupling (shaders/coupling.wgsl), given s and t from the network (s already
//! bounded: s = scale * tanh(raw)). Two masks choose which elements of x are kept (and
//! feed the network) and which are transformed.

use bytemuck::{Pod, Zeroable};

use super::per_sample::{per_sample_output, sample_grid};
use super::{GradMode, Op, distinct, nchw, same_shape};
use crate::error::{Result, shape_err};
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("coupling");

/// Which elements of x [N, C, H, W] a coupling keeps; the others it transforms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mask {
    /// Keeps x[n, c, h, w] where (h + w) % 2 == parity (0 or 1), for every channel;
    /// s and t are shaped like x.
    Checkerboard { parity: u32 },
    /// x = (xa, xb), its channel halves (C even). half 1 transforms xb conditioned on xa,
    /// half 0 transforms xa conditioned on xb; s and t are [N, C/2, H, W].
    Channel { half: u32 },
}

impl Mask {
    /// Shape of s, t and the network input for x of shape (N, C, H, W).
    pub fn st_shape(self, (n, c, h, w): (usize, usize, usize, usize)) -> [usize; 4] {
        match self {
            Mask::Checkerboard { .. } => [n, c, h, w],
            Mask::Channel { .. } => [n, c / 2, h, w],
        }
    }

    /// (mask_kind, mask_arg) as the shader reads them.
    fn code(self) -> (u32, u32) {
        match self {
            Mask::Checkerboard { parity } => (0, parity),
            Mask::Channel { half } => (1, half),
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    samples: u32,
    channels: u32,
    height: u32,
    width: u32,
    mask_kind: u32,
    mask_arg: u32,
    accumulate: u32,
}

/// Params once the mask fits `x` (the full-size tensor: x, y or dx; NCHW, even C for a
/// channel mask) and `st` (s, or the network input) has the mask's s shape.
fn check(
    op: &'static str,
    mask: Mask,
    (x_name, x): (&str, &Tensor),
    (st_name, st): (&str, &Tensor),
    mode: GradMode,
) -> Result<Params> {
    let dims = nchw(op, x_name, x)?;
    let (n, c, h, w) = dims;
    let (mask_kind, mask_arg) = mask.code();
    if mask_arg > 1 {
        return shape_err(op, format!("{mask:?}: the mask argument must be 0 or 1"));
    }
    if matches!(mask, Mask::Channel { .. }) && c % 2 != 0 {
        return shape_err(
            op,
            format!(
                "{mask:?} needs an even channel count, {x_name} has shape {}",
                x.shape()
            ),
        );
    }
    let want = mask.st_shape(dims);
    if st.shape().dims() != want {
        return shape_err(
            op,
            format!(
                "{st_name} must have shape {want:?} for {x_name} {} with {mask:?}, got {}",
                x.shape(),
                st.shape()
            ),
        );
    }
    Ok(Params {
        samples: n as u32,
        channels: c as u32,
        height: h as u32,
        width: w as u32,
        mask_kind,
        mask_arg,
        accumulate: mode.flag(),
    })
}

/// y = x where kept, x * exp(s) + t where transformed; logdet[n] += sum of s over the
/// transformed elements of sample n. x, y: [N, C, H, W]; s, t: [`Mask::st_shape`];
/// logdet: [N].
pub fn forward(
    gpu: &Gpu,
    mask: Mask,
    x: &Tensor,
    s: &Tensor,
    t: &Tensor,
    y: &Tensor,
    logdet: &Tensor,
) -> Result<Op> {
    const OP: &str = "coupling_forward";
    let params = check(OP, mask, ("x", x), ("s", s), GradMode::Write)?;
    same_shape(OP, &[("s", s), ("t", t)])?;
    same_shape(OP, &[("x", x), ("y", y)])?;
    per_sample_output(OP, ("x", x), ("logdet", logdet))?;
    distinct(
        OP,
        &[("y", y), ("logdet", logdet)],
        &[("x", x), ("s", s), ("t", t)],
    )?;
    let d = gpu.dispatch(
        &SHADER,
        "coupling_forward",
        &params,
        &[
            Bind::read(1, x),
            Bind::read(2, s),
            Bind::read(3, t),
            Bind::write(4, y),
            Bind::write(5, logdet),
        ],
        sample_grid(params.samples as usize),
    )?;
    Ok(Op::new(vec![d]))
}

/// x = y where kept, (y - t) * exp(-s) where transformed (note the argument order:
/// input y first, output x last); shapes as in [`forward`].
pub fn inverse(
    gpu: &Gpu,
    mask: Mask,
    y: &Tensor,
    s: &Tensor,
    t: &Tensor,
    x: &Tensor,
) -> Result<Op> {
    const OP: &str = "coupling_inverse";
    let params = check(OP, mask, ("y", y), ("s", s), GradMode::Write)?;
    same_shape(OP, &[("s", s), ("t", t)])?;
    same_shape(OP, &[("y", y), ("x", x)])?;
    distinct(OP, &[("x", x)], &[("y", y), ("s", s), ("t", t)])?;
    let d = gpu.dispatch(
        &SHADER,
        "coupling_inverse",
        &params,
        &[
            Bind::read(2, s),
            Bind::read(3, t),
            Bind::read(6, y),
            Bind::write(7, x),
        ],
        grid(y.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// Gradients of [`forward`] from dy and dlogdet [N], given its input x (the trainer may
/// rebuild x with [`inverse`]): dx = dy where kept, dy * exp(s) where transformed,
/// written or added per `mode`; ds = dy * x * exp(s) + dlogdet[n] and dt = dy where
/// transformed, 0 at the kept elements of a checkerboard, written (they feed the
/// network's backward). The gradient through the network's input x is added separately
/// by [`masked_input_backward`].
#[allow(clippy::too_many_arguments)]
pub fn backward(
    gpu: &Gpu,
    mask: Mask,
    x: &Tensor,
    s: &Tensor,
    dy: &Tensor,
    dlogdet: &Tensor,
    dx: &Tensor,
    ds: &Tensor,
    dt: &Tensor,
    mode: GradMode,
) -> Result<Op> {
    const OP: &str = "coupling_backward";
    let params = check(OP, mask, ("x", x), ("s", s), mode)?;
    same_shape(OP, &[("s", s), ("ds", ds), ("dt", dt)])?;
    same_shape(OP, &[("x", x), ("dy", dy), ("dx", dx)])?;
    per_sample_output(OP, ("x", x), ("dlogdet", dlogdet))?;
    distinct(
        OP,
        &[("dx", dx), ("ds", ds), ("dt", dt)],
        &[("x", x), ("s", s), ("dy", dy), ("dlogdet", dlogdet)],
    )?;
    let d = gpu.dispatch(
        &SHADER,
        "coupling_backward",
        &params,
        &[
            Bind::read(1, x),
            Bind::read(2, s),
            Bind::read(8, dy),
            Bind::read(9, dlogdet),
            Bind::write(10, dx),
            Bind::write(11, ds),
            Bind::write(12, dt),
        ],
        grid(x.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// The network's input: b * x for a checkerboard (x's shape, zeros at transformed
/// elements), the kept channel half for a channel mask ([N, C/2, H, W]).
pub fn masked_input(gpu: &Gpu, mask: Mask, x: &Tensor, net_in: &Tensor) -> Result<Op> {
    const OP: &str = "masked_input";
    let params = check(OP, mask, ("x", x), ("net_in", net_in), GradMode::Write)?;
    distinct(OP, &[("net_in", net_in)], &[("x", x)])?;
    let d = gpu.dispatch(
        &SHADER,
        "masked_input_forward",
        &params,
        &[Bind::read(1, x), Bind::write(13, net_in)],
        grid(x.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// Adds the gradient of [`masked_input`]'s output into dx at the kept elements (always
/// added: dx already holds the coupling's own gradient from [`backward`]).
pub fn masked_input_backward(gpu: &Gpu, mask: Mask, d_net_in: &Tensor, dx: &Tensor) -> Result<Op> {
    const OP: &str = "masked_input_backward";
    let params = check(
        OP,
        mask,
        ("dx", dx),
        ("d_net_in", d_net_in),
        GradMode::Accumulate,
    )?;
    distinct(OP, &[("dx", dx)], &[("d_net_in", d_net_in)])?;
    let d = gpu.dispatch(
        &SHADER,
        "masked_input_backward",
        &params,
        &[Bind::read(14, d_net_in), Bind::write(10, dx)],
        grid(dx.numel(), WG),
    )?;
    Ok(Op::new(vec![d]))
}
