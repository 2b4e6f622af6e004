//! Checkpoints: named f32 tensors plus string metadata in one safetensors file.
//!
//! # File format
//!
//! A standard safetensors file (8-byte little-endian header length, JSON header,
//! tensor bytes), so any safetensors reader can open it.
//!
//! - Every tensor is dtype `F32`, little-endian, row-major (C order). Tensor names and
//!   shapes are owned by the model that writes them; this module does not interpret them.
//! - The header's `__metadata__` map holds:
//!   - `format` = `"realnvp-checkpoint"`, so that a foreign safetensors file is refused;
//!   - `version` = `"1"`, the layout described here;
//!   - `config` = the model config as a JSON string (its schema belongs to the model);
//!   - `crc32` = 8 lowercase hex digits, a CRC-32 over every tensor's name, shape and
//!     bytes in name order: safetensors itself validates the header, not the data, so a
//!     flipped byte in the tensor data would otherwise load silently;
//!   - any other key/value pairs the caller adds (step count, epoch, RNG state, ...),
//!     returned by [`load`] in [`Checkpoint::meta`].
//!
//! [`save`] writes a temporary file beside the target and renames it over the target,
//! so a crash leaves either the old or the new checkpoint, never a torn one.

mod format;
mod load;
mod replace;
mod save;

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};

pub use format::{FORMAT, VERSION};
pub use load::load;
pub use replace::{remove_stale_temp_files, replace_file};
pub use save::save;

/// Everything a checkpoint file holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checkpoint {
    /// The model config, serialised by the model module; stored verbatim.
    pub config_json: String,
    /// Caller-defined metadata (step count, epoch, RNG state, ...). Keys must not be one
    /// of the reserved keys `format`, `version`, `config`, `crc32`.
    pub meta: BTreeMap<String, String>,
    pub tensors: BTreeMap<String, TensorData>,
}

/// One tensor: its shape and its elements in row-major order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TensorData {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// How many names of each kind [`Checkpoint::check_names`] lists before summarising.
const NAMES_LISTED: usize = 5;

impl Checkpoint {
    /// The data of tensor `name`, which must exist and have exactly `shape`.
    pub fn expect_tensor(&self, name: &str, shape: &[usize]) -> Result<&[f32]> {
        match self.tensors.get(name) {
            Some(t) if t.shape == shape => Ok(&t.data),
            Some(t) => Err(Error::CheckpointMismatch(format!(
                "tensor '{name}': expected shape {shape:?}, found {:?}",
                t.shape
            ))),
            None => Err(Error::CheckpointMismatch(format!(
                "tensor '{name}': expected shape {shape:?}, found missing"
            ))),
        }
    }

    /// Checks that the checkpoint holds exactly the tensors named in `expected`,
    /// listing missing and unexpected names (the first few of each) otherwise.
    pub fn check_names(&self, expected: &[&str]) -> Result<()> {
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        let missing: Vec<&str> = expected
            .iter()
            .copied()
            .filter(|name| !self.tensors.contains_key(*name))
            .collect();
        let unexpected: Vec<&str> = self
            .tensors
            .keys()
            .map(String::as_str)
            .filter(|name| !expected.contains(name))
            .collect();
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing tensors {}", list_names(&missing)));
        }
        if !unexpected.is_empty() {
            problems.push(format!("unexpected tensors {}", list_names(&unexpected)));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::CheckpointMismatch(problems.join("; ")))
        }
    }
}

/// `['a', 'b'] and 3 more`: the first few names, then a count of the rest.
fn list_names(names: &[&str]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(NAMES_LISTED)
        .map(|n| format!("'{n}'"))
        .collect();
    let mut text = format!("[{}]", shown.join(", "));
    if names.len() > NAMES_LISTED {
        text += &format!(" and {} more", names.len() - NAMES_LISTED);
    }
    text
}

/// An error about the checkpoint file at `path`.
fn file_error(path: &std::path::Path, detail: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}
