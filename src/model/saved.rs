//! A model's state as a checkpoint and back (docs/MODEL.md, "Checkpoint"): every
//! parameter and running statistic under its layout name, Adam's moments under
//! `optimizer.m.<name>` / `optimizer.v.<name>`, and two small tensors of raw 32-bit words
//! stored as F32 bytes: `optimizer.state` (step count, ...) and `rng.train` (the
//! dequantisation generator's seed and counter).

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

fn pack(arena: &Arena, ckpt: &Checkpoint, prefix: &str) -> Result<Vec<f32>> {
    let mut flat = vec![0f32; arena.len];
    for slot in &arena.slots {
        let data = ckpt.expect_tensor(&format!("{prefix}{}", slot.name), &slot.shape)?;
        flat[slot.offset..slot.offset + slot.len()].copy_from_slice(data);
    }
    Ok(flat)
}

impl ModelState {
    /// Everything needed to resume exactly; `meta` is the caller's (step, epoch, ...).
    pub fn to_checkpoint(
        &self,
        meta: std::collections::BTreeMap<String, String>,
    ) -> Result<Checkpoint> {
        let gpu = &self.gpu;
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
        unpack(&self.layout.params, &gpu.read(&self.adam_m)?, M, &mut ckpt);
        unpack(&self.layout.params, &gpu.read(&self.adam_v)?, V, &mut ckpt);
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

    /// Rebuilds a model from a checkpoint: the config it holds, every tensor checked by
    /// name and shape (an error names the first that does not fit).
    pub fn from_checkpoint(gpu: Arc<Gpu>, ckpt: &Checkpoint) -> Result<ModelState> {
        let config: ModelConfig = serde_json::from_str(&ckpt.config_json).map_err(|e| {
            Error::CheckpointMismatch(format!("its config is not a model config: {e}"))
        })?;
        config.validate()?;
        let state = ModelState::new(gpu, config, 0)?;
        let layout = &state.layout;
        let mut expected: Vec<String> = Vec::new();
        for prefix in ["", M, V] {
            expected.extend(
                layout
                    .params
                    .slots
                    .iter()
                    .map(|s| format!("{prefix}{}", s.name)),
            );
        }
        expected.extend(layout.buffers.slots.iter().map(|s| s.name.clone()));
        expected.extend([OPTIMIZER_STATE.to_owned(), RNG_TRAIN.to_owned()]);
        ckpt.check_names(&expected.iter().map(String::as_str).collect::<Vec<_>>())?;

        let write = |t: &Tensor, data: &[f32]| state.gpu.write(t, data);
        write(&state.params, &pack(&layout.params, ckpt, "")?)?;
        write(&state.buffers, &pack(&layout.buffers, ckpt, "")?)?;
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
        Ok(state)
    }
}
