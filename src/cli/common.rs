//! What several commands share: opening a model file on the chosen adapter, loading
//! data shaped for a model, choosing the images a command reads, the noise flag.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::out;
use crate::Gpu;
use crate::data::{self, DataSplit, Dataset, folder};
use crate::model::{Model, ModelConfig};
use crate::runtime::tuning::Tuning;

/// The chosen adapter, with conv kernels tuned per shape and cached in the user's cache
/// directory (unless `REALNVP_KERNELS` forces a family).
pub fn gpu(adapter: Option<&str>) -> crate::Result<Arc<Gpu>> {
    let gpu = Gpu::new(adapter)?;
    gpu.tune_kernels(Tuning::default_path(&gpu.info));
    Ok(gpu)
}

/// A checkpoint or weights-only file on the chosen adapter, with an inference plan of
/// `batch` (the config's batch if None).
pub fn open(adapter: Option<&str>, path: &Path, batch: Option<usize>) -> anyhow::Result<Model> {
    Ok(Model::open(gpu(adapter)?, path, batch)?)
}

/// The dataset at `path` (the bundled MNIST subset when None) shaped for `config`,
/// with a note when it was resized.
pub fn load_data(config: &ModelConfig, path: Option<&Path>) -> crate::Result<DataSplit> {
    let (split, resized_from) = data::load_for_model(path, config.chw())?;
    if let Some([h, w]) = resized_from {
        out::note(format_args!(
            "note: resizing {h}x{w} images to {}x{} for this model",
            config.height, config.width
        ));
    }
    Ok(split)
}

/// The images a command reads, and for files their paths.
pub struct Images {
    pub data: Dataset,
    /// How many of `data`'s images (from the first) the command uses.
    pub count: usize,
    pub files: Option<Vec<PathBuf>>,
}

impl Images {
    pub fn indices(&self) -> Vec<usize> {
        (0..self.count).collect()
    }

    /// How output names image i: its file, or its index in the dataset.
    pub fn label(&self, i: usize) -> serde_json::Value {
        match &self.files {
            Some(files) => serde_json::json!({ "file": files[i].to_string_lossy() }),
            None => serde_json::json!({ "index": i }),
        }
    }
}

/// The files `images` (scaled to the model's size), or the first `count` (all if None)
/// images of the test split of the dataset at `data` (its training set if it has no
/// test split; the bundled MNIST subset if None).
pub fn load_images(
    config: &ModelConfig,
    images: &[PathBuf],
    data: Option<&Path>,
    count: Option<usize>,
) -> anyhow::Result<Images> {
    if !images.is_empty() {
        let [c, h, w] = config.chw();
        let data = folder::load_files(images, c, h, w)?;
        // Says how many were resized or converted to fit the model.
        out::note(format_args!("images: {}", data.source));
        return Ok(Images {
            data,
            count: images.len(),
            files: Some(images.to_vec()),
        });
    }
    let split = load_data(config, data)?;
    let data = split.test.unwrap_or(split.train);
    let count = count.map_or(data.len(), |n| n.min(data.len()));
    anyhow::ensure!(count > 0, "no images to read from {}", data.source);
    Ok(Images {
        data,
        count,
        files: None,
    })
}

/// A `--temperature`: a number from 0 to `MAX_TEMPERATURE`.
pub fn temperature(text: &str) -> Result<f32, String> {
    checked(text, crate::model::latent::check_temperature)
}

/// A `--lr`: above 0 and at most `MAX_LEARNING_RATE`.
pub fn learning_rate(text: &str) -> Result<f32, String> {
    checked(text, crate::ops::adam::check_learning_rate)
}

/// `text` as a number that `check` accepts; its message (as typed) otherwise.
fn checked(text: &str, check: fn(f32) -> crate::Result<()>) -> Result<f32, String> {
    let value = text
        .parse::<f32>()
        .map_err(|e| format!("not a number: {e}"))?;
    match check(value) {
        Ok(()) => Ok(value),
        // The library's message without its prefix, with the value as typed.
        Err(crate::Error::Config(message)) => {
            let shown = message
                .rsplit_once(", not ")
                .map_or(message.as_str(), |(m, _)| m);
            Err(format!("{shown}, not {text}"))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// A `--seed`: a whole number from 0 to 2^64 - 1. (The argument takes negative numbers
/// so that `--seed -1` gets this message, not clap's "unexpected argument".)
pub fn seed(text: &str) -> Result<u64, String> {
    text.parse().map_err(|_| {
        format!(
            "the seed is a whole number from 0 to 2^64 - 1 ({}), not {text}",
            u64::MAX
        )
    })
}

/// A count that must be at least 1 (`--batch`).
pub fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("not a whole number: {e}")),
    }
}
