//! Batch normalization per channel of NCHW tensors (shaders/batch_norm.wgsl), plain
//! (the s, t networks: affine weight and bias) and flow (exp(log_gamma) and beta, with
//! a log-determinant and an inverse). eps = 1e-5, biased variance, momentum 0.1.
//!
//! Training normalizes with the batch's statistics, which the forward writes into the
//! caller's [`Statistics::Batch`] tensors; the backward and an exact inverse read them back.
//! The running averages change only through [`update_running`], a separate op, so a
//! forward can be recorded twice (the trainer recomputes layers) without updating twice.
//! Evaluation normalizes with the running averages and writes nothing but its outputs.
//!
//! [`forward`] with [`After::Relu`], and [`backward`] given the ReLU's output, are the plain batch norm
//! with the ReLU that follows it fused in (the s,t networks' "batch norm then ReLU"),
//! one pass over memory fewer each way.

use bytemuck::{Pod, Zeroable};

use super::{GradMode, Op, distinct, nchw};
use crate::error::{Result, shape_err};
use crate::runtime::{Bind, Dispatch, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("batch_norm");

pub const EPS: f32 = 1e-5;
pub const MOMENTUM: f32 = 0.1;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    batch: u32,
    channels: u32,
    inner: u32,
    flow: u32,
    train: u32,
    accumulate: u32,
    eps: f32,
    momentum: f32,
    relu: u32,
    pad: [u32; 3],
}

impl Params {
    /// The vec4 entries apply: no four floats straddle two channels' planes (views start
    /// at multiples of VIEW_ALIGN floats, so every binding is 16-byte aligned).
    fn vec4(&self) -> bool {
        self.inner.is_multiple_of(4)
    }

    /// `entry`, or its vec4 twin (`entry` + "4") when it applies.
    fn entry(&self, scalar: &'static str, vec4: &'static str) -> &'static str {
        if self.vec4() { vec4 } else { scalar }
    }

    /// Slot of an activation bound as `slot` by the scalar entries, for this shape's entry.
    fn slot(&self, slot: u32) -> u32 {
        if !self.vec4() {
            return slot;
        }
        match slot {
            SRC => 18,
            DST => 19,
            DY => 20,
            DX => 21,
            MASK => 22,
            _ => unreachable!("slot {slot} has no vec4 twin"),
        }
    }

    /// The elementwise grid: [H*W (or H*W / 4) over WG, C, N], N capped at the limit of
    /// 65535 groups per dimension (the kernels step through the images past it).
    fn planes_grid(&self) -> [u32; 3] {
        let units = if self.vec4() {
            self.inner / 4
        } else {
            self.inner
        };
        [
            units.div_ceil(WG),
            self.channels,
            self.batch.min(MAX_GROUPS),
        ]
    }
}

/// The scalar entries' activation slots (the vec4 entries bind them elsewhere, see
/// [`Params::slot`]).
const SRC: u32 = 1;
const DST: u32 = 6;
const DY: u32 = 12;
const DX: u32 = 14;
const MASK: u32 = 17;

/// wgpu's limit on workgroups per grid dimension.
const MAX_GROUPS: u32 = 65535;

/// Per-channel mean and biased variance, each [C].
#[derive(Clone, Copy)]
pub struct Stats<'a> {
    pub mean: &'a Tensor,
    pub var: &'a Tensor,
}

/// Which statistics a batch norm normalises with: the one name for this choice in the
/// ops, the model and the CPU twin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistics {
    /// The batch's own: the forward computes them into the given tensors, the backward
    /// differentiates through them (they depend on x).
    Batch,
    /// Fixed ones (the running averages), read only.
    Running,
}

/// The plain batch norm's parameters, each [C].
#[derive(Clone, Copy)]
pub struct Affine<'a> {
    pub weight: &'a Tensor,
    pub bias: &'a Tensor,
}

/// The flow batch norm's parameters, each [C]: the scale is exp(log_gamma).
#[derive(Clone, Copy)]
pub struct FlowAffine<'a> {
    pub log_gamma: &'a Tensor,
    pub beta: &'a Tensor,
}

/// Where a backward puts its results.
pub struct NormGrads<'a> {
    /// The gradient wrt x, written or added per the mode.
    pub dx: (&'a Tensor, GradMode),
    /// dweight (plain) or dlog_gamma (flow), added.
    pub dscale: &'a Tensor,
    /// dbias (plain) or dbeta (flow), added.
    pub dshift: &'a Tensor,
}

/// Checks that x (which the op calls `x_name`) is NCHW and every `per_channel` tensor
/// is [C]; returns the sizes.
fn params(
    op: &'static str,
    (x_name, x): (&str, &Tensor),
    per_channel: &[(&str, &Tensor)],
) -> Result<Params> {
    let (n, c, h, w) = nchw(op, x_name, x)?;
    // The forward's grid has H*W / WG workgroups in x (scalar entries, the larger).
    if h * w > MAX_GROUPS as usize * WG as usize {
        return shape_err(
            op,
            format!(
                "{x_name} {} has planes of {} values; at most {}",
                x.shape(),
                h * w,
                MAX_GROUPS as usize * WG as usize
            ),
        );
    }
    if c > MAX_GROUPS as usize {
        return shape_err(
            op,
            format!(
                "{x_name} {} has {c} channels; at most {MAX_GROUPS} (one workgroup each)",
                x.shape()
            ),
        );
    }
    for (name, t) in per_channel {
        if t.shape().dims() != [c] {
            return shape_err(
                op,
                format!(
                    "{name} must have shape [{c}] for {x_name} {}, got {}",
                    x.shape(),
                    t.shape()
                ),
            );
        }
    }
    Ok(Params {
        batch: n as u32,
        channels: c as u32,
        inner: (h * w) as u32,
        flow: 0,
        train: 0,
        accumulate: 0,
        eps: EPS,
        momentum: MOMENTUM,
        relu: 0,
        pad: [0; 3],
    })
}

/// Err unless `t` has the shape of x (`x_name` is what the op calls x).
fn like_x(op: &'static str, name: &str, t: &Tensor, x_name: &str, x: &Tensor) -> Result<()> {
    if t.shape() != x.shape() {
        return shape_err(
            op,
            format!(
                "{name} has shape {} but {x_name} has shape {}",
                t.shape(),
                x.shape()
            ),
        );
    }
    Ok(())
}

/// Err unless `t` is [N] (one log-det per sample).
fn per_sample(op: &'static str, name: &str, t: &Tensor, x: &Tensor) -> Result<()> {
    let n = x.shape().dims()[0];
    if t.shape().dims() != [n] {
        return shape_err(
            op,
            format!(
                "{name} must have shape [{n}] for x {}, got {}",
                x.shape(),
                t.shape()
            ),
        );
    }
    Ok(())
}

/// The affine map as the shader sees it: `scale` is weight or log_gamma, `shift` bias
/// or beta, named as the caller knows them in errors.
#[derive(Clone, Copy)]
struct Channels<'a> {
    flow: bool,
    scale: (&'static str, &'a Tensor),
    shift: (&'static str, &'a Tensor),
}

/// What the plain batch norm writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// y = (x - mean) / sqrt(var + eps) * weight + bias.
    Nothing,
    /// r = max(0, y): the ReLU that follows it in the s,t networks, in the same pass
    /// over memory (y is never stored).
    Relu,
}

/// y = (x - mean) / sqrt(var + eps) * weight + bias, or relu(y) (see [`After`]).
pub fn forward(
    gpu: &Gpu,
    x: &Tensor,
    affine: Affine<'_>,
    statistics: Statistics,
    stats: Stats<'_>,
    out: &Tensor,
    after: After,
) -> Result<Op> {
    plain(
        gpu,
        x,
        affine,
        (statistics, stats),
        out,
        after == After::Relu,
    )
}

fn plain(
    gpu: &Gpu,
    x: &Tensor,
    affine: Affine<'_>,
    statistics: (Statistics, Stats<'_>),
    y: &Tensor,
    relu: bool,
) -> Result<Op> {
    let channels = Channels {
        flow: false,
        scale: ("weight", affine.weight),
        shift: ("bias", affine.bias),
    };
    let (op, y_name) = if relu {
        ("batch_norm_relu", "r")
    } else {
        ("batch_norm", "y")
    };
    normalize(op, gpu, x, channels, statistics, (y_name, y), None, relu)
}

/// y = (x - mean) / sqrt(var + eps) * exp(log_gamma) + beta, and ADDS the log-det
/// H*W * sum_c (log_gamma[c] - 0.5 * log(var[c] + eps)) to every entry of `logdet` [N].
pub fn flow_forward(
    gpu: &Gpu,
    x: &Tensor,
    affine: FlowAffine<'_>,
    statistics: Statistics,
    stats: Stats<'_>,
    y: &Tensor,
    logdet: &Tensor,
) -> Result<Op> {
    let channels = Channels {
        flow: true,
        scale: ("log_gamma", affine.log_gamma),
        shift: ("beta", affine.beta),
    };
    normalize(
        "flow_batch_norm",
        gpu,
        x,
        channels,
        (statistics, stats),
        ("y", y),
        Some(logdet),
        false,
    )
}

#[allow(clippy::too_many_arguments)]
fn normalize(
    op: &'static str,
    gpu: &Gpu,
    x: &Tensor,
    ch: Channels<'_>,
    (statistics, stats): (Statistics, Stats<'_>),
    (y_name, y): (&'static str, &Tensor),
    logdet: Option<&Tensor>,
    relu: bool,
) -> Result<Op> {
    let mut p = params(
        op,
        ("x", x),
        &[ch.scale, ch.shift, ("mean", stats.mean), ("var", stats.var)],
    )?;
    p.flow = ch.flow as u32;
    p.relu = relu as u32;
    like_x(op, y_name, y, "x", x)?;
    let mut outputs = vec![(y_name, y)];
    let mut inputs = vec![("x", x), ch.scale, ch.shift];
    let stat_list = [("mean", stats.mean), ("var", stats.var)];
    match statistics {
        Statistics::Batch => outputs.extend(stat_list),
        Statistics::Running => inputs.extend(stat_list),
    }
    if let Some(ld) = logdet {
        per_sample(op, "logdet", ld, x)?;
        outputs.push(("logdet", ld));
    }
    distinct(op, &outputs, &inputs)?;

    let mut dispatches = Vec::new();
    if statistics == Statistics::Batch {
        let s = stats;
        dispatches.push(gpu.dispatch(
            &SHADER,
            p.entry("batch_norm_stats", "batch_norm_stats4"),
            &p,
            &[
                Bind::read(p.slot(SRC), x),
                Bind::write(7, s.mean),
                Bind::write(8, s.var),
            ],
            [p.channels, 1, 1],
        )?);
    }
    dispatches.push(gpu.dispatch(
        &SHADER,
        p.entry("batch_norm_forward", "batch_norm_forward4"),
        &p,
        &[
            Bind::read(p.slot(SRC), x),
            Bind::read(2, ch.scale.1),
            Bind::read(3, ch.shift.1),
            Bind::read(4, stats.mean),
            Bind::read(5, stats.var),
            Bind::write(p.slot(DST), y),
        ],
        p.planes_grid(),
    )?);
    if let Some(ld) = logdet {
        dispatches.push(log_det(gpu, &p, ch.scale.1, stats.var, ld)?);
    }
    Ok(Op::new(dispatches))
}

fn log_det(
    gpu: &Gpu,
    p: &Params,
    log_gamma: &Tensor,
    var: &Tensor,
    logdet: &Tensor,
) -> Result<Dispatch> {
    gpu.dispatch(
        &SHADER,
        "batch_norm_log_det",
        p,
        &[
            Bind::read(2, log_gamma),
            Bind::read(5, var),
            Bind::write(11, logdet),
        ],
        grid(p.batch as usize, WG),
    )
}

/// The inverse of [`flow_forward`], x = (y - beta) * exp(-log_gamma) * sqrt(var + eps) +
/// mean, with the saved batch statistics (rebuilding a layer's input in training) or
/// the running averages (evaluation, sampling).
///
/// When `logdet` is given, ADDS to it the forward's log-det with these statistics,
/// H*W * sum_c (log_gamma[c] - 0.5 * log(var[c] + eps)), the same value
/// [`flow_forward`] adds: the inverse's own log-det is its negative, so a caller that
/// wants log|det dx/dy| collects it in a separate buffer and subtracts that.
pub fn flow_inverse(
    gpu: &Gpu,
    y: &Tensor,
    affine: FlowAffine<'_>,
    stats: Stats<'_>,
    x: &Tensor,
    logdet: Option<&Tensor>,
) -> Result<Op> {
    const OP: &str = "flow_batch_norm_inverse";
    let p = params(
        OP,
        ("y", y),
        &[
            ("log_gamma", affine.log_gamma),
            ("beta", affine.beta),
            ("mean", stats.mean),
            ("var", stats.var),
        ],
    )?;
    like_x(OP, "x", x, "y", y)?;
    let inputs = [
        ("y", y),
        ("log_gamma", affine.log_gamma),
        ("beta", affine.beta),
        ("mean", stats.mean),
        ("var", stats.var),
    ];
    let mut outputs = vec![("x", x)];
    if let Some(ld) = logdet {
        per_sample(OP, "logdet", ld, y)?;
        outputs.push(("logdet", ld));
    }
    distinct(OP, &outputs, &inputs)?;
    let mut dispatches = vec![gpu.dispatch(
        &SHADER,
        "batch_norm_inverse",
        &p,
        &[
            Bind::read(1, y),
            Bind::read(2, affine.log_gamma),
            Bind::read(3, affine.beta),
            Bind::read(4, stats.mean),
            Bind::read(5, stats.var),
            Bind::write(6, x),
        ],
        grid(y.numel(), WG),
    )?];
    if let Some(ld) = logdet {
        dispatches.push(log_det(gpu, &p, affine.log_gamma, stats.var, ld)?);
    }
    Ok(Op::new(dispatches))
}

/// running = (1 - MOMENTUM) * running + MOMENTUM * batch for the mean and the biased
/// variance, all [C]; record once per training step after a training forward.
pub fn update_running(gpu: &Gpu, batch: Stats<'_>, running: Stats<'_>) -> Result<Op> {
    const OP: &str = "batch_norm_update_running";
    let &[c] = batch.mean.shape().dims() else {
        return shape_err(
            OP,
            format!("batch mean must be [C], got {}", batch.mean.shape()),
        );
    };
    for (name, t) in [
        ("batch var", batch.var),
        ("running mean", running.mean),
        ("running var", running.var),
    ] {
        if t.shape().dims() != [c] {
            return shape_err(
                OP,
                format!(
                    "{name} has shape {} but batch mean has shape [{c}]",
                    t.shape()
                ),
            );
        }
    }
    distinct(
        OP,
        &[("running mean", running.mean), ("running var", running.var)],
        &[("batch mean", batch.mean), ("batch var", batch.var)],
    )?;
    let p = Params {
        batch: 0,
        channels: c as u32,
        inner: 0,
        flow: 0,
        train: 0,
        accumulate: 0,
        eps: EPS,
        momentum: MOMENTUM,
        relu: 0,
        pad: [0; 3],
    };
    let d = gpu.dispatch(
        &SHADER,
        "batch_norm_update_running",
        &p,
        &[
            Bind::read(4, batch.mean),
            Bind::read(5, batch.var),
            Bind::write(9, running.mean),
            Bind::write(10, running.var),
        ],
        grid(c, WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// Gradients of [`forward`] given dy, or, when `relu_output` is given, of
/// [`forward`] with [`After::Relu`] given dr, the gradient wrt its output r (which it reads for the
/// ReLU's mask: r > 0 exactly where the normalized value was; one pass over memory
/// fewer than a ReLU backward followed by the batch norm's). `x` is the forward's input
/// and `statistics`, `stats` its statistics.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    gpu: &Gpu,
    x: &Tensor,
    relu_output: Option<&Tensor>,
    dy: &Tensor,
    weight: &Tensor,
    statistics: Statistics,
    stats: Stats<'_>,
    grads: NormGrads<'_>,
) -> Result<Op> {
    let (op, dy_name) = match relu_output {
        None => ("batch_norm_backward", "dy"),
        Some(_) => ("batch_norm_relu_backward", "dr"),
    };
    let inputs = BackwardInputs {
        x,
        dy: (dy_name, dy),
        relu_output,
        scale: ("weight", weight),
        statistics,
        stats,
    };
    let p = backward_params(op, &inputs, &grads, None)?;
    Ok(Op::new(backward_dispatches(gpu, &p, &inputs, &grads)?))
}

/// Gradients of [`flow_forward`] given dy and dlogdet [N] (the loss gradient wrt each
/// sample's log-det); `x` is the forward's input (the trainer rebuilds it with
/// [`flow_inverse`] and the saved stats) and `statistics`, `stats` its statistics.
#[allow(clippy::too_many_arguments)]
pub fn flow_backward(
    gpu: &Gpu,
    x: &Tensor,
    dy: &Tensor,
    dlogdet: &Tensor,
    log_gamma: &Tensor,
    statistics: Statistics,
    stats: Stats<'_>,
    grads: NormGrads<'_>,
) -> Result<Op> {
    const OP: &str = "flow_batch_norm_backward";
    let inputs = BackwardInputs {
        x,
        dy: ("dy", dy),
        relu_output: None,
        scale: ("log_gamma", log_gamma),
        statistics,
        stats,
    };
    let mut p = backward_params(OP, &inputs, &grads, Some(dlogdet))?;
    p.flow = 1;
    let log_det_part = gpu.dispatch(
        &SHADER,
        "batch_norm_log_det_backward",
        &p,
        &[
            Bind::read(1, x),
            Bind::read(4, stats.mean),
            Bind::read(5, stats.var),
            Bind::read(13, dlogdet),
            Bind::write(14, grads.dx.0),
            Bind::write(15, grads.dscale),
        ],
        [p.channels, 1, 1],
    )?;
    let mut dispatches = backward_dispatches(gpu, &p, &inputs, &grads)?;
    dispatches.push(log_det_part);
    Ok(Op::new(dispatches))
}

/// What a backward reads besides dlogdet: the forward's input, dy (named as the caller
/// knows it), the fused ReLU's output if any, the scale parameter (named as the caller
/// knows it) and which statistics, and their tensors.
struct BackwardInputs<'a> {
    x: &'a Tensor,
    dy: (&'static str, &'a Tensor),
    relu_output: Option<&'a Tensor>,
    scale: (&'static str, &'a Tensor),
    statistics: Statistics,
    stats: Stats<'a>,
}

fn backward_params(
    op: &'static str,
    inputs: &BackwardInputs<'_>,
    grads: &NormGrads<'_>,
    dlogdet: Option<&Tensor>,
) -> Result<Params> {
    let BackwardInputs {
        x,
        dy,
        relu_output,
        scale,
        statistics,
        stats,
    } = *inputs;
    let (dx, dx_mode) = grads.dx;
    let mut p = params(
        op,
        ("x", x),
        &[
            scale,
            ("mean", stats.mean),
            ("var", stats.var),
            ("dscale", grads.dscale),
            ("dshift", grads.dshift),
        ],
    )?;
    like_x(op, dy.0, dy.1, "x", x)?;
    like_x(op, "dx", dx, "x", x)?;
    let mut read = vec![
        ("x", x),
        dy,
        scale,
        ("mean", stats.mean),
        ("var", stats.var),
    ];
    if let Some(r) = relu_output {
        like_x(op, "r", r, "x", x)?;
        read.push(("r", r));
    }
    if let Some(dl) = dlogdet {
        per_sample(op, "dlogdet", dl, x)?;
        read.push(("dlogdet", dl));
    }
    distinct(
        op,
        &[
            ("dx", dx),
            ("dscale", grads.dscale),
            ("dshift", grads.dshift),
        ],
        &read,
    )?;
    p.train = (statistics == Statistics::Batch) as u32;
    p.accumulate = dx_mode.flag();
    p.relu = relu_output.is_some() as u32;
    Ok(p)
}

/// The backward's dispatches: dx and the per-channel sums, then the parameter
/// gradients from those sums.
fn backward_dispatches(
    gpu: &Gpu,
    p: &Params,
    inputs: &BackwardInputs<'_>,
    grads: &NormGrads<'_>,
) -> Result<Vec<Dispatch>> {
    let stats = inputs.stats;
    let dy = inputs.dy.1;
    // Written and read within this op's own dispatches: one buffer per channel count.
    let sums = gpu.scratch("batch norm sums", [p.channels as usize, 2])?;
    let input = gpu.dispatch(
        &SHADER,
        p.entry("batch_norm_backward", "batch_norm_backward4"),
        p,
        &[
            Bind::read(p.slot(SRC), inputs.x),
            Bind::read(2, inputs.scale.1),
            Bind::read(4, stats.mean),
            Bind::read(5, stats.var),
            Bind::read(p.slot(DY), dy),
            // Unread without the ReLU (a uniform branch), but the entry declares it.
            Bind::read(p.slot(MASK), inputs.relu_output.unwrap_or(dy)),
            Bind::write(p.slot(DX), grads.dx.0),
            Bind::write(23, &sums),
        ],
        [p.channels, 1, 1],
    )?;
    let params = gpu.dispatch(
        &SHADER,
        "batch_norm_backward_params",
        p,
        &[
            Bind::read(2, inputs.scale.1),
            Bind::write(15, grads.dscale),
            Bind::write(16, grads.dshift),
            Bind::write(23, &sums),
        ],
        grid(p.channels as usize, WG),
    )?;
    Ok(vec![input, params])
}
