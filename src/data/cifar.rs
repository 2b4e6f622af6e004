//! CIFAR-10's binary batches: records of one label byte followed by a 32x32 image as
//! three planes (R, G, B), which is already the CHW order a `Dataset` stores.

use std::path::Path;

use super::Dataset;
use super::fs::read_bytes;
use crate::Result;
use crate::error::data_err;

const CHANNELS: usize = 3;
const SIDE: usize = 32;
const PIXELS: usize = CHANNELS * SIDE * SIDE;
/// Bytes per record: the label, then the pixels.
pub const RECORD_BYTES: usize = 1 + PIXELS;

/// The records of `files`, concatenated in the order given.
pub fn load(files: &[impl AsRef<Path>]) -> Result<Dataset> {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for file in files {
        let file = file.as_ref();
        let bytes = read_bytes(file)?;
        if bytes.is_empty() || bytes.len() % RECORD_BYTES != 0 {
            return data_err(
                file,
                format!(
                    "size {} bytes is not a positive multiple of the {RECORD_BYTES}-byte \
                     CIFAR-10 record (1 label byte + {PIXELS} pixel bytes)",
                    bytes.len()
                ),
            );
        }
        for record in bytes.chunks_exact(RECORD_BYTES) {
            labels.push(record[0]);
            images.extend_from_slice(&record[1..]);
        }
    }
    let names: Vec<String> = files
        .iter()
        .map(|f| f.as_ref().display().to_string())
        .collect();
    Ok(Dataset {
        images,
        n: labels.len(),
        channels: CHANNELS,
        height: SIDE,
        width: SIDE,
        labels: Some(labels),
        source: format!("CIFAR-10 {}", names.join(", ")),
    })
}
