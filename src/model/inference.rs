//! A model opened for inference: its state, loaded from a checkpoint or a weights-only
//! file, and a plan without training ops. What the CLI's inference commands and the
//! desktop app open.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::config::ModelConfig;
use super::plan::Plan;
use super::saved::Contents;
use super::state::ModelState;
use crate::checkpoint;
use crate::error::{Error, Result};
use crate::runtime::Gpu;

pub struct Model {
    pub state: ModelState,
    pub plan: Plan,
    /// What the file held.
    pub contents: Contents,
    /// The file's metadata beyond the format's own (training position, ...).
    pub meta: BTreeMap<String, String>,
    pub path: PathBuf,
}

impl Model {
    /// Loads `path` (a checkpoint or a weights-only file) onto `gpu` with an inference
    /// plan of `batch` images (the config's training batch if None). Errors name the file.
    pub fn open(gpu: Arc<Gpu>, path: &Path, batch: Option<usize>) -> Result<Model> {
        let ckpt = checkpoint::load(path)?;
        let state = ModelState::from_checkpoint(gpu, &ckpt).map_err(|e| Error::Checkpoint {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        let batch = batch.unwrap_or(state.config.batch);
        let plan = Plan::inference(&state, batch)?;
        Ok(Model {
            plan,
            state,
            contents: Contents::of(&ckpt),
            meta: ckpt.meta,
            path: path.to_owned(),
        })
    }

    /// A model already on the GPU (a new one, or a trainer's), with an inference plan.
    pub fn from_state(state: ModelState, batch: usize, path: PathBuf) -> Result<Model> {
        let plan = Plan::inference(&state, batch)?;
        Ok(Model {
            plan,
            state,
            contents: Contents::Weights,
            meta: BTreeMap::new(),
            path,
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.state.config
    }

    pub fn gpu(&self) -> &Arc<Gpu> {
        &self.state.gpu
    }
}
