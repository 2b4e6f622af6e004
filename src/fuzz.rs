//! What the fuzz targets in `fuzz/` run, one function per parser of user files, shared
//! with `tests/fuzz_corpus.rs`, which replays the saved corpus on stable Rust. Each
//! takes arbitrary bytes and must return (an error is fine) without panicking.

use std::path::{Path, PathBuf};

use crate::checkpoint;
use crate::data::{cifar, folder, idx};
use crate::model::ModelConfig;
use crate::model::params::Layout;
use crate::model::saved::Contents;
use crate::model::state::check_fits;

/// This process's folder for the files the parsers read (they take paths, as the
/// commands do); [`remove_scratch`] deletes it.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("realnvp-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

/// Deletes this process's scratch folder.
pub fn remove_scratch() {
    let _ = std::fs::remove_dir_all(scratch());
}

/// Writes `data` to the scratch file `name` and runs `parse` on it.
fn with_file(name: &str, data: &[u8], parse: impl FnOnce(&Path)) {
    let path = scratch().join(name);
    std::fs::write(&path, data).expect("the scratch file is written");
    parse(&path);
}

/// A checkpoint, weights-only or latents file.
pub fn checkpoint(data: &[u8]) {
    with_file("model.safetensors", data, |path| {
        if let Ok(file) = checkpoint::load(path) {
            let _ = Contents::of(&file);
            let _ = file.check_names(&["z"]);
            if let Ok(config) = serde_json::from_str::<ModelConfig>(&file.config_json) {
                model_config(&config);
            }
        }
    });
}

/// An MNIST IDX images or labels file (raw or gzip).
pub fn idx(data: &[u8]) {
    with_file("images-idx3-ubyte", data, |path| {
        let _ = idx::read_images(path);
        let _ = idx::read_labels(path);
    });
}

/// A CIFAR-10 binary batch.
pub fn cifar(data: &[u8]) {
    with_file("data_batch_1.bin", data, |path| {
        let _ = cifar::load(&[path]);
    });
}

/// An image file, loaded as the app and `--images` load one (1 and 3 channels).
pub fn image(data: &[u8]) {
    with_file("image.png", data, |path| {
        let files = [path.to_owned()];
        let _ = folder::load_files(&files, 1, 8, 8);
        let _ = folder::load_files(&files, 3, 5, 7);
    });
}

/// A JSON model config (`--config`).
pub fn config(data: &[u8]) {
    with_file("config.json", data, |path| {
        if let Ok(config) = ModelConfig::from_file(path) {
            model_config(&config);
        }
    });
}

/// lavapipe's largest buffer: the adapter the sizes are checked against here.
const MAX_BUFFER: u64 = 128 << 20;

/// What a valid config leads to before any GPU work, as `ModelState::new` checks and
/// builds it: its sizes against an adapter's, then its layout.
fn model_config(config: &ModelConfig) {
    if config.validate().is_ok() && check_fits(config, MAX_BUFFER).is_ok() {
        let layout = Layout::new(config);
        let _ = layout.param_count();
    }
}
