//! A model's state as a checkpoint and back (docs/MODEL.md, "Checkpoint"): every
//! parameter and running statistic under its layout name, Adam's moments under
//! `optimizer.m.<name>` / `optimizer.v.<name>`, and two small tensors of raw 32-bit words
//! stored as F32 bytes: `optimizer.state` (step count, ...) and `rng.train` (the
//! dequantisation generator's seed and counter).
//!
//! A weights-only file (`realnvp export`) holds the parameters and running statistics
//! alone, in the same names and checksum scheme: all that evaluation, sampling and a
//! new run (`train --init`) need, a third of the size.

use std::sync::Arc;

use super::config::ModelConfig;
use super::params::Arena;
use super::state::ModelState;
use crate::checkpoint::{Checkpoint, TensorData};
use crate::error::{Error, Result};
use crate::ops::{adam, rng};
use crate::runtime::{Gpu, Tensor};

const M: &str = "optimizer.m.";
const V: &str = "optimizer.v.";
const OPTIMIZER_STATE: &str = "optimizer.state";
const RNG_TRAIN: &str = "rng.train";
/// Metadata key naming what a file holds: [`Contents::key`].
pub const CONTENTS_KEY: &str = "contents";

/// What a model file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contents {
    /// Everything to resume training exactly: weights, optimizer state, RNG.
    Training,
    /// Parameters and running statistics only.
    Weights,
}

impl Contents {
    /// A weights-only file has none of the optimizer's or the RNG's tensors.
    pub fn of(ckpt: &Checkpoint) -> Contents {
        let training = ckpt.tensors.keys().any(|name| {
            name.starts_with(M)
                || name.starts_with(V)
                || name == OPTIMIZER_STATE
                || name == RNG_TRAIN
        });
        if training {
            Contents::Training
        } else {
            Contents::Weights
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Contents::Training => "training",
            Contents::Weights => "weights",
        }
    }
}

fn unpack(arena: &Arena, flat: &[f32], prefix: &str, out: &mut Checkpoint) {
    for slot in &arena.slots {
        out.tensors.insert(
            format!("{prefix}{}", slot.name),
            TensorData {
                shape: slot.shape.clone(),
                data: arena.values(slot, flat).to_vec(),
            },
        );
    }
}

/// The arena's tensors from the file, each checked: finite, and a running variance
/// above zero (the file's checksum only says the bytes are as written, not that
/// another tool wrote a usable model).
fn pack(arena: &Arena, ckpt: &Checkpoint, prefix: &str) -> Result<Vec<f32>> {
    let mut flat = vec![0f32; arena.len];
    for slot in &arena.slots {
        let name = format!("{prefix}{}", slot.name);
        let data = ckpt.expect_tensor(&name, &slot.shape)?;
        let variance = slot.name.ends_with(".running_var");
        if let Some((i, v)) = data
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite() || (variance && **v <= 0.0))
        {
            return Err(Error::CheckpointMismatch(format!(
                "{name} holds {v} at element {i}: {}",
                if variance && v.is_finite() {
                    "a variance must be above zero"
                } else {
                    "every value must be finite"
                }
            )));
        }
        flat[slot.offset..slot.offset + slot.len()].copy_from_slice(data);
    }
    Ok(flat)
}

/// A model whose values are not all finite is never written: the error names the
/// first tensor at fault.
fn refuse_non_finite(ckpt: &Checkpoint) -> Result<()> {
    for (name, t) in &ckpt.tensors {
        if let Some((i, v)) = t.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::Training(format!(
                "{name} holds {v} (element {i}): a model with non-finite values is not saved"
            )));
        }
    }
    Ok(())
}

impl ModelState {
    /// Everything needed to resume exactly; `meta` is the caller's (step, epoch, ...).
    pub fn to_checkpoint(
        &self,
        meta: std::collections::BTreeMap<String, String>,
    ) -> Result<Checkpoint> {
        let gpu = &self.gpu;
        let mut ckpt = self.to_weights(meta)?;
        ckpt.meta
            .insert(CONTENTS_KEY.into(), Contents::Training.key().into());
        unpack(&self.layout.params, &gpu.read(&self.adam_m)?, M, &mut ckpt);
        unpack(&self.layout.params, &gpu.read(&self.adam_v)?, V, &mut ckpt);
        refuse_non_finite(&ckpt)?;
        // Raw 32-bit words: any bit pattern is valid, so no finiteness check.
        for (name, t) in [(OPTIMIZER_STATE, &self.adam_state), (RNG_TRAIN, &self.rng)] {
            ckpt.tensors.insert(
                name.into(),
                TensorData {
                    shape: vec![t.numel()],
                    data: gpu.read(t)?,
                },
            );
        }
        Ok(ckpt)
    }

    /// The parameters and running statistics alone (a weights-only file).
    pub fn to_weights(
        &self,
        mut meta: std::collections::BTreeMap<String, String>,
    ) -> Result<Checkpoint> {
        let gpu = &self.gpu;
        meta.insert(CONTENTS_KEY.into(), Contents::Weights.key().into());
        let mut ckpt = Checkpoint {
            config_json: self.config.to_json(),
            meta,
            ..Default::default()
        };
        unpack(&self.layout.params, &gpu.read(&self.params)?, "", &mut ckpt);
        unpack(
            &self.layout.buffers,
            &gpu.read(&self.buffers)?,
            "",
            &mut ckpt,
        );
        refuse_non_finite(&ckpt)?;
        Ok(ckpt)
    }

    /// Rebuilds a model from a checkpoint or a weights-only file: the config it holds,
    /// every tensor checked by name and shape (an error names the first that does not
    /// fit). A weights-only file leaves the optimizer state zero and the training noise
    /// generator at seed 0, as a new run has them.
    pub fn from_checkpoint(gpu: Arc<Gpu>, ckpt: &Checkpoint) -> Result<ModelState> {
        let config: ModelConfig = serde_json::from_str(&ckpt.config_json).map_err(|e| {
            Error::CheckpointMismatch(format!("its config is not a model config: {e}"))
        })?;
        config.validate()?;
        let state = ModelState::new(gpu, config, 0)?;
        let layout = &state.layout;
        let contents = Contents::of(ckpt);
        if ckpt.meta.get(CONTENTS_KEY).map(String::as_str) == Some(Contents::Training.key())
            && contents == Contents::Weights
        {
            return Err(Error::CheckpointMismatch(
                "marked as a training checkpoint but holds no optimizer or RNG tensors".into(),
            ));
        }
        let prefixes: &[&str] = match contents {
            Contents::Training => &["", M, V],
            Contents::Weights => &[""],
        };
        let mut expected: Vec<String> = Vec::new();
        for prefix in prefixes {
            expected.extend(
                layout
                    .params
                    .slots
                    .iter()
                    .map(|s| format!("{prefix}{}", s.name)),
            );
        }
        expected.extend(layout.buffers.slots.iter().map(|s| s.name.clone()));
        if contents == Contents::Training {
            expected.extend([OPTIMIZER_STATE.to_owned(), RNG_TRAIN.to_owned()]);
        }
        ckpt.check_names(&expected.iter().map(String::as_str).collect::<Vec<_>>())?;

        let write = |t: &Tensor, data: &[f32]| state.gpu.write(t, data);
        write(&state.params, &pack(&layout.params, ckpt, "")?)?;
        write(&state.buffers, &pack(&layout.buffers, ckpt, "")?)?;
        if contents == Contents::Training {
            write(&state.adam_m, &pack(&layout.params, ckpt, M)?)?;
            write(&state.adam_v, &pack(&layout.params, ckpt, V)?)?;
            write(
                &state.adam_state,
                ckpt.expect_tensor(OPTIMIZER_STATE, &[adam::STATE_LEN])?,
            )?;
            write(
                &state.rng,
                ckpt.expect_tensor(RNG_TRAIN, &[rng::STATE_LEN])?,
            )?;
        }
        Ok(state)
    }

    /// The weights of the file at `path` (a weights-only file or a checkpoint) ready for a
    /// new run: Adam's moments and step count zero, the training noise generator at
    /// `seed` (what `train --init` starts from). Errors name the file.
    pub fn for_new_run(gpu: Arc<Gpu>, path: &std::path::Path, seed: u64) -> Result<ModelState> {
        let in_file = |e: Error| Error::Checkpoint {
            path: path.to_owned(),
            detail: e.to_string(),
        };
        let state =
            ModelState::from_checkpoint(gpu, &crate::checkpoint::load(path)?).map_err(in_file)?;
        state.restart_training(seed).map_err(in_file)?;
        Ok(state)
    }

    /// Keeps the weights and starts training afresh: Adam's moments and step count zero,
    /// the training noise generator at `seed`.
    fn restart_training(&self, seed: u64) -> Result<()> {
        let gpu = &self.gpu;
        gpu.write(&self.adam_m, &vec![0.0; self.adam_m.numel()])?;
        gpu.write(&self.adam_v, &vec![0.0; self.adam_v.numel()])?;
        gpu.write(&self.adam_state, &[0.0; adam::STATE_LEN])?;
        gpu.write(&self.rng, &rng::RngState::new(seed).to_words())
    }
}
