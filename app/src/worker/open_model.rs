//! The model requests run on: its plans, where it came from, and what the worker
//! remembers of it. Opening another model replaces all of it at once.

use std::path::PathBuf;
use std::sync::Arc;

use realnvp::Gpu;
use realnvp::model::state::ModelState;
use realnvp::model::{Model, Plan};

use super::cache::Cache;
use crate::files;
use crate::protocol::{ModelInfo, ModelSource};

pub(super) struct OpenModel {
    pub model: Model,
    /// Where it came from (a new run can start from its weights).
    pub source: ModelSource,
    /// A one-image plan on the same model, for the interpolation point: the
    /// slider-to-image path decodes exactly one image.
    pub point_plan: Plan,
    pub cache: Cache,
}

impl OpenModel {
    /// The model of `source` on `gpu`, with an inference plan of [`app_batch`] images.
    pub fn new(gpu: Arc<Gpu>, source: &ModelSource) -> realnvp::Result<OpenModel> {
        let batch = app_batch(&gpu);
        let model = match source {
            ModelSource::File(path) => Model::open(gpu, path, Some(batch))?,
            ModelSource::New(config, seed) => Model::from_state(
                ModelState::new(gpu, config.clone(), *seed)?,
                batch,
                PathBuf::from(format!("new model (seed {seed})")),
            )?,
        };
        Ok(OpenModel {
            point_plan: Plan::inference(&model.state, 1)?,
            model,
            source: source.clone(),
            cache: Cache::default(),
        })
    }

    /// What the window shows of it.
    pub fn info(&self) -> ModelInfo {
        let (name, file) = match &self.source {
            ModelSource::File(path) => (files::model_name(path), Some(files::for_command(path))),
            ModelSource::New(..) => (self.model.path.display().to_string(), None),
        };
        ModelInfo {
            name,
            file,
            contents: self.model.contents.key(),
            config: self.model.config().clone(),
            parameters: self.model.state.layout.param_count(),
        }
    }
}

/// Images per GPU submission of the app's decoding. The renderer's frames queue behind
/// each submission on the shared device, so on a CPU adapter the batch trades the
/// window's frame rate while a grid decodes against the grid's latency: for an 8 x 8
/// `mnist` grid on lavapipe (2 cores), batches of 2 drew a frame every ~0.11 s and the
/// grid in ~3.2 s, batches of 4 every ~0.16 s and in ~2.3 s, batches of 8 every
/// ~0.24 s and in ~1.8 s (docs/PERFORMANCE.md). A real GPU decodes a batch of 16
/// within a frame.
fn app_batch(gpu: &Gpu) -> usize {
    if gpu.info.device_type == wgpu::DeviceType::Cpu {
        8
    } else {
        16
    }
}
