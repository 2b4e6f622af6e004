//! Random fills from Philox4x32-10 (shaders/rng.wgsl): uniform [0, 1), the training's
//! dequantisation noise. The key and a counter base live in a small state tensor on the
//! GPU; `advance` bumps the base, so each training step draws fresh numbers without a
//! CPU write, and saving the state's words in a checkpoint makes a resumed run draw
//! exactly what the uninterrupted one would have.

use bytemuck::{Pod, Zeroable};

use super::Op;
use crate::error::{Result, shape_err};
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("rng");

/// Elements of the state tensor (layout: [`RngState::to_words`]).
pub const STATE_LEN: usize = 4;

/// The generator's state: the key (the seed) and the counter base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngState {
    pub seed: u64,
    pub base: u64,
}

impl RngState {
    /// A fresh generator: the seed as key, base 0.
    pub fn new(seed: u64) -> Self {
        RngState { seed, base: 0 }
    }

    /// The state tensor's words, as f32 bit patterns (the shader reads them as u32):
    /// seed low, seed high, base low, base high.
    pub fn to_words(&self) -> [f32; STATE_LEN] {
        [
            self.seed as u32,
            (self.seed >> 32) as u32,
            self.base as u32,
            (self.base >> 32) as u32,
        ]
        .map(f32::from_bits)
    }

    /// A new state tensor holding this state.
    pub fn upload(&self, gpu: &Gpu) -> Result<Tensor> {
        gpu.upload([STATE_LEN], &self.to_words())
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    stream: u32,
}

/// y = uniform values in [0, 1), multiples of 2^-24, at the state's current base.
/// Fills with different `stream` numbers are independent of each other.
pub fn uniform(gpu: &Gpu, state: &Tensor, y: &Tensor, stream: u32) -> Result<Op> {
    const OP: &str = "rng_uniform";
    check_state(OP, state)?;
    super::distinct(OP, &[("y", y)], &[("state", state)])?;
    let params = Params {
        n: y.numel() as u32,
        stream,
    };
    let d = gpu.dispatch(
        &SHADER,
        "fill_uniform",
        &params,
        &[Bind::write(1, y), Bind::write(2, state)],
        grid(y.numel().div_ceil(4), WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// Moves the state's counter base on by one, so the next fills draw fresh numbers.
pub fn advance(gpu: &Gpu, state: &Tensor) -> Result<Op> {
    const OP: &str = "rng_advance";
    check_state(OP, state)?;
    let params = Params { n: 0, stream: 0 };
    let d = gpu.dispatch(
        &SHADER,
        "advance",
        &params,
        &[Bind::write(2, state)],
        [1, 1, 1],
    )?;
    Ok(Op::new(vec![d]))
}

fn check_state(op: &'static str, state: &Tensor) -> Result<()> {
    if state.numel() != STATE_LEN {
        return shape_err(
            op,
            format!(
                "state must have {STATE_LEN} elements, got shape {}",
                state.shape()
            ),
        );
    }
    Ok(())
}
