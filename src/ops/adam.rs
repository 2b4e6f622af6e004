//! One training update (shaders/adam.wgsl): the L2 term's gradient, the global gradient
//! norm, clipping, and Adam, on the trainer's flat arenas (parameters, gradients and both
//! moments, all of one length P) plus a small `state` tensor that carries the step count
//! from step to step on the GPU. Built once, recorded every step: nothing is written from
//! the CPU between steps.

use bytemuck::{Pod, Zeroable};

use super::{Op, disjoint, distinct};
use crate::error::{Result, shape_err};
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("adam");

/// Elements of the `state` tensor (layout: [`OptimState`]).
pub const STATE_LEN: usize = 8;

/// Most workgroups in the first stage of the norm reduction; the second stage is one
/// workgroup that sums this many partials.
const MAX_PARTIALS: usize = 1024;

/// Hyper-parameters, fixed when the op is built (changing one means rebuilding it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// Gradients are scaled down to this global L2 norm when larger.
    pub max_grad_norm: f32,
}

impl Default for AdamConfig {
    /// The model spec's training settings.
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            max_grad_norm: 100.0,
        }
    }
}

/// The largest learning rate accepted: Adam moves each weight by about the rate per
/// step, so above 1 a step rewrites the model.
pub const MAX_LEARNING_RATE: f32 = 1.0;

/// Refuses a learning rate that cannot train: not finite, not above zero, or above
/// [`MAX_LEARNING_RATE`].
pub fn check_learning_rate(lr: f32) -> Result<()> {
    if lr.is_finite() && lr > 0.0 && lr <= MAX_LEARNING_RATE {
        return Ok(());
    }
    Err(crate::Error::Config(format!(
        "the learning rate must be above 0 and at most {MAX_LEARNING_RATE}, not {lr}"
    )))
}

/// The `state` tensor, word by word: 0 step (u32 bits; steps taken), 1 grad_norm (the
/// last step's gradient norm before clipping), 2 clip (the factor that multiplied that
/// gradient), 3 bias1 = 1 - beta1^step, 4 bias2 = 1 - beta2^step, 5..=7 zero. All zeros
/// is the state before the first step. A checkpoint saves and restores the words.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OptimState {
    pub step: u32,
    pub grad_norm: f32,
    pub clip: f32,
    pub bias1: f32,
    pub bias2: f32,
}

impl OptimState {
    /// The state from the tensor's words (a training step reads them back).
    pub fn from_words(words: &[f32]) -> Result<Self> {
        if words.len() != STATE_LEN {
            return shape_err(
                "optim_state",
                format!("state has {} words, expected {STATE_LEN}", words.len()),
            );
        }
        Ok(OptimState {
            step: words[0].to_bits(),
            grad_norm: words[1],
            clip: words[2],
            bias1: words[3],
            bias2: words[4],
        })
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    groups: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    max_norm: f32,
}

/// One update of `params`: grads += 2 * l2 * params; norm = ||grads||;
/// g = grads * min(1, max_grad_norm / (norm + 1e-6)); Adam with bias correction on m, v.
/// `grads` keeps the gradient including the L2 term (unclipped); `state` advances by one
/// step and reports the norm and clip factor. All tensors but `state` have P elements.
#[allow(clippy::too_many_arguments)]
pub fn l2_clip_adam_step(
    gpu: &Gpu,
    params: &Tensor,
    grads: &Tensor,
    m: &Tensor,
    v: &Tensor,
    l2: &Tensor,
    state: &Tensor,
    config: &AdamConfig,
) -> Result<Op> {
    const OP: &str = "l2_clip_adam_step";
    let arenas = [
        ("params", params),
        ("grads", grads),
        ("m", m),
        ("v", v),
        ("l2", l2),
    ];
    for (name, t) in &arenas[1..] {
        if t.numel() != params.numel() {
            return shape_err(
                OP,
                format!(
                    "{name} has {} elements (shape {}) but params has {} (shape {})",
                    t.numel(),
                    t.shape(),
                    params.numel(),
                    params.shape()
                ),
            );
        }
    }
    if state.numel() != STATE_LEN {
        return shape_err(
            OP,
            format!(
                "state must have {STATE_LEN} elements, got shape {}",
                state.shape()
            ),
        );
    }
    let written = [
        ("params", params),
        ("grads", grads),
        ("m", m),
        ("v", v),
        ("state", state),
    ];
    disjoint(OP, &written)?;
    distinct(OP, &written, &[("l2", l2)])?;

    let n = params.numel();
    let groups = n.div_ceil(WG as usize).min(MAX_PARTIALS);
    let partials = gpu.empty([groups])?;
    let p = Params {
        n: n as u32,
        groups: groups as u32,
        lr: config.lr,
        beta1: config.beta1,
        beta2: config.beta2,
        eps: config.eps,
        max_norm: config.max_grad_norm,
    };
    let norms = gpu.dispatch(
        &SHADER,
        "l2_and_partial_norms",
        &p,
        &[
            Bind::write(1, params),
            Bind::write(2, grads),
            Bind::read(5, l2),
            Bind::write(7, &partials),
        ],
        [groups as u32, 1, 1],
    )?;
    let finish = gpu.dispatch(
        &SHADER,
        "finish_norm",
        &p,
        &[Bind::write(6, state), Bind::write(7, &partials)],
        [1, 1, 1],
    )?;
    let update = gpu.dispatch(
        &SHADER,
        "update",
        &p,
        &[
            Bind::write(1, params),
            Bind::write(2, grads),
            Bind::write(3, m),
            Bind::write(4, v),
            Bind::write(6, state),
        ],
        grid(n, WG),
    )?;
    Ok(Op::new(vec![norms, finish, update]))
}
