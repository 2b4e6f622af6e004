//! Writing a checkpoint file.

use std::collections::HashMap;
use std::path::Path;

use safetensors::Dtype;
use safetensors::tensor::TensorView;

use super::format::{
    CONFIG_KEY, CRC32_KEY, FORMAT, FORMAT_KEY, RESERVED_KEYS, VERSION, VERSION_KEY, checksum,
    checksum_text,
};
use super::replace::replace_file;
use super::{Checkpoint, file_error};
use crate::error::Result;

/// The header key safetensors reserves for metadata; a tensor of that name would clash.
const METADATA_HEADER_KEY: &str = "__metadata__";

/// Saves `ckpt` to `path`, replacing any existing file there atomically: after a crash
/// the file holds the old or the new checkpoint. Every tensor is checked (data length
/// equal to its shape's product) before anything is written.
pub fn save(path: &Path, ckpt: &Checkpoint) -> Result<()> {
    let bytes = serialize(ckpt).map_err(|detail| file_error(path, detail))?;
    replace_file(path, &bytes).map_err(|err| file_error(path, format!("cannot write: {err}")))
}

/// The whole file's bytes, or why `ckpt` cannot be saved.
fn serialize(ckpt: &Checkpoint) -> Result<Vec<u8>, String> {
    if let Some(key) = RESERVED_KEYS.iter().find(|k| ckpt.meta.contains_key(**k)) {
        return Err(format!(
            "metadata key '{key}' is reserved for the checkpoint format"
        ));
    }
    let mut tensors = Vec::with_capacity(ckpt.tensors.len());
    for (name, tensor) in &ckpt.tensors {
        if name == METADATA_HEADER_KEY {
            return Err(format!("tensor name '{name}' is reserved by safetensors"));
        }
        let elements = tensor
            .shape
            .iter()
            .try_fold(1usize, |n, &dim| n.checked_mul(dim));
        if elements != Some(tensor.data.len()) {
            return Err(format!(
                "tensor '{name}': shape {:?} needs {} elements, data has {}",
                tensor.shape,
                elements.map_or("too many".to_string(), |n| n.to_string()),
                tensor.data.len()
            ));
        }
        let bytes: Vec<u8> = tensor.data.iter().flat_map(|x| x.to_le_bytes()).collect();
        tensors.push((name.as_str(), tensor.shape.as_slice(), bytes));
    }

    let crc = checksum(tensors.iter().map(|(n, s, b)| (*n, *s, b.as_slice())));
    let mut metadata: HashMap<String, String> = ckpt.meta.clone().into_iter().collect();
    metadata.insert(FORMAT_KEY.into(), FORMAT.into());
    metadata.insert(VERSION_KEY.into(), VERSION.into());
    metadata.insert(CONFIG_KEY.into(), ckpt.config_json.clone());
    metadata.insert(CRC32_KEY.into(), checksum_text(crc));

    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.to_vec(), bytes).map(|view| (*name, view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| err.to_string())?;
    safetensors::serialize(views, Some(metadata)).map_err(|err| err.to_string())
}
