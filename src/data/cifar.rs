//! CIFAR-10's binary batches: records of one label byte followed by a 32x32 image as
//! three planes (R, G, B), which is already the CHW order a `Dataset` stores.

use std::io::Read;
use std::path::Path;

use super::Dataset;
use super::fs::{io_err, open_file};
use crate::Result;
use crate::error::data_err;

const CHANNELS: usize = 3;
const SIDE: usize = 32;
const PIXELS: usize = CHANNELS * SIDE * SIDE;
/// Bytes per record: the label, then the pixels.
pub const RECORD_BYTES: usize = 1 + PIXELS;
/// Records in each of CIFAR-10's batch files, training and test alike.
const RECORDS_PER_FILE: usize = 10_000;
/// The largest file read: one batch.
const MAX_FILE_BYTES: u64 = (RECORDS_PER_FILE * RECORD_BYTES) as u64;

/// The records of `files`, concatenated in the order given. Each file holds up to one
/// batch: its length is checked before it is read.
pub fn load(files: &[impl AsRef<Path>]) -> Result<Dataset> {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for file in files {
        let file = file.as_ref();
        let (reader, len) = open_file(file)?;
        check_length(file, len)?;
        let mut bytes = Vec::new();
        // One byte past the limit: a file longer than its length said is caught too.
        reader
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io_err(file))?;
        check_length(file, bytes.len() as u64)?;
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

/// A batch file holds whole records, at least one and at most a batch's.
fn check_length(file: &Path, len: u64) -> Result<()> {
    if len == 0 || !len.is_multiple_of(RECORD_BYTES as u64) {
        return data_err(
            file,
            format!(
                "size {len} bytes is not a positive multiple of the {RECORD_BYTES}-byte \
                 CIFAR-10 record (1 label byte + {PIXELS} pixel bytes)"
            ),
        );
    }
    if len > MAX_FILE_BYTES {
        return data_err(
            file,
            format!(
                "size {len} bytes is more than a CIFAR-10 batch file holds \
                 ({RECORDS_PER_FILE} records, {MAX_FILE_BYTES} bytes)"
            ),
        );
    }
    Ok(())
}
