//! What several commands share: opening a checkpoint for inference, loading data shaped
//! for a model, latent vectors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::data::{self, DataSplit};
use crate::model::ModelConfig;
use crate::model::architecture::latent_shapes;
use crate::model::plan::Plan;
use crate::model::state::ModelState;
use crate::{Gpu, checkpoint};

/// A model loaded from a checkpoint with a plan of `batch` (the config's batch if None).
pub struct Loaded {
    pub gpu: Arc<Gpu>,
    pub state: ModelState,
    pub plan: Plan,
}

pub fn open(adapter: Option<&str>, path: &Path, batch: Option<usize>) -> anyhow::Result<Loaded> {
    let gpu = Gpu::new(adapter)?;
    let ckpt = checkpoint::load(path)?;
    let state = ModelState::from_checkpoint(gpu.clone(), &ckpt)
        .with_context(|| format!("loading {}", path.display()))?;
    let batch = batch.unwrap_or(state.config.batch).max(1);
    let plan = Plan::inference(&state, batch)?;
    Ok(Loaded { gpu, state, plan })
}

/// The dataset at `path` (the bundled MNIST subset when None) as the model's image shape.
/// Images with the model's channel count but another size are resized (with a note).
pub fn load_data(config: &ModelConfig, path: Option<&Path>) -> crate::Result<DataSplit> {
    let path: PathBuf = path
        .map(Path::to_owned)
        .unwrap_or_else(data::bundled_mnist_dir);
    let (c, h, w) = (config.channels, config.height, config.width);
    match data::load_split(&path, c, h, w) {
        Ok(split) => Ok(split),
        Err(first) => {
            // Formats with a fixed size (IDX, CIFAR) refuse another shape; fit them.
            let native = data::Layout::find(&path)?;
            let train = native.load_train(c, h, w)?;
            if train.channels != c {
                return Err(first);
            }
            eprintln!(
                "note: resizing {}x{} images to {h}x{w} for this model",
                train.height, train.width
            );
            let test = native.load_test()?.map(|t| t.resized(h, w));
            Ok(DataSplit {
                train: train.resized(h, w),
                test,
            })
        }
    }
}

/// Splits per-sample latent vectors (each z_0 .. z_{L-1} flattened CHW and concatenated)
/// into the plan's per-tensor NCHW layout, `n` samples padded to the plan's batch.
pub fn latents_to_tensors(config: &ModelConfig, z: &[Vec<f32>], batch: usize) -> Vec<Vec<f32>> {
    let shapes = latent_shapes(config);
    let mut out: Vec<Vec<f32>> = shapes.iter().map(|_| Vec::new()).collect();
    for i in 0..batch {
        let v = &z[i.min(z.len() - 1)];
        let mut at = 0;
        for (k, s) in shapes.iter().enumerate() {
            let len: usize = s.iter().product();
            out[k].extend_from_slice(&v[at..at + len]);
            at += len;
        }
    }
    out
}

/// The inverse of [`latents_to_tensors`] for the first `n` samples.
pub fn tensors_to_latents(config: &ModelConfig, tensors: &[Vec<f32>], n: usize) -> Vec<Vec<f32>> {
    let shapes = latent_shapes(config);
    (0..n)
        .map(|i| {
            shapes
                .iter()
                .zip(tensors)
                .flat_map(|(s, t)| {
                    let len: usize = s.iter().product();
                    t[i * len..(i + 1) * len].iter().copied()
                })
                .collect()
        })
        .collect()
}
