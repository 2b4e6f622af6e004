//! Random fills from Philox4x32-10 (shaders/rng.wgsl): uniform [0, 1) (dequantisation
//! noise) and normal at a temperature (sampling latents). The key and a counter base
//! live in a small state tensor on the GPU; `advance` bumps the base, so each training
//! step draws fresh numbers without a CPU write, and saving the state's words in a
//! checkpoint makes a resumed run draw exactly what the uninterrupted one would have.

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

    pub fn from_words(words: &[f32]) -> Result<Self> {
        let [seed_lo, seed_hi, base_lo, base_hi] = words else {
            return shape_err(
                "rng_state",
                format!("state has {} words, expected {STATE_LEN}", words.len()),
            );
        };
        let join = |lo: &f32, hi: &f32| (hi.to_bits() as u64) << 32 | lo.to_bits() as u64;
        Ok(RngState {
            seed: join(seed_lo, seed_hi),
            base: join(base_lo, base_hi),
        })
    }

    /// A new state tensor holding this state.
    pub fn upload(&self, gpu: &Gpu) -> Result<Tensor> {
        gpu.upload([STATE_LEN], &self.to_words())
    }

    /// Reads a state tensor back (waits for submitted work).
    pub fn read(gpu: &Gpu, state: &Tensor) -> Result<Self> {
        Self::from_words(&gpu.read(state)?)
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    n: u32,
    stream: u32,
    temperature: f32,
}

/// y = uniform values in [0, 1), multiples of 2^-24, at the state's current base.
/// Fills with different `stream` numbers are independent of each other.
pub fn uniform(gpu: &Gpu, state: &Tensor, y: &Tensor, stream: u32) -> Result<Op> {
    fill(gpu, "rng_uniform", "fill_uniform", state, y, stream, 1.0)
}

/// y = N(0, temperature^2) values (Box-Muller) at the state's current base.
pub fn normal(gpu: &Gpu, state: &Tensor, y: &Tensor, stream: u32, temperature: f32) -> Result<Op> {
    fill(
        gpu,
        "rng_normal",
        "fill_normal",
        state,
        y,
        stream,
        temperature,
    )
}

/// Moves the state's counter base on by one, so the next fills draw fresh numbers.
pub fn advance(gpu: &Gpu, state: &Tensor) -> Result<Op> {
    const OP: &str = "rng_advance";
    check_state(OP, state)?;
    let params = Params {
        n: 0,
        stream: 0,
        temperature: 0.0,
    };
    let d = gpu.dispatch(
        &SHADER,
        "advance",
        &params,
        &[Bind::write(2, state)],
        [1, 1, 1],
    )?;
    Ok(Op::new(vec![d]))
}

fn fill(
    gpu: &Gpu,
    op: &'static str,
    entry: &'static str,
    state: &Tensor,
    y: &Tensor,
    stream: u32,
    temperature: f32,
) -> Result<Op> {
    check_state(op, state)?;
    super::distinct(op, &[("y", y)], &[("state", state)])?;
    let params = Params {
        n: y.numel() as u32,
        stream,
        temperature,
    };
    let d = gpu.dispatch(
        &SHADER,
        entry,
        &params,
        &[Bind::write(1, y), Bind::write(2, state)],
        grid(y.numel().div_ceil(4), WG),
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
