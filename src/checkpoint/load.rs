//! Reading a checkpoint file, refusing anything that is not an intact realnvp checkpoint.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::Path;

use safetensors::tensor::{Metadata, TensorView};
use safetensors::{Dtype, SafeTensorError, SafeTensors};

use super::format::{
    CONFIG_KEY, CRC32_KEY, FORMAT, FORMAT_KEY, RESERVED_KEYS, VERSION, VERSION_KEY, checksum,
    checksum_text,
};
use super::{Checkpoint, TensorData, file_error};
use crate::error::Result;
use crate::input::open_regular;

/// Bytes of a safetensors file's header length field.
const LENGTH_FIELD: u64 = 8;
/// The safetensors format's own limit on a header; the crate refuses longer ones.
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// Loads the checkpoint at `path`. Every failure is an `Error::Checkpoint` naming the
/// file: missing, unreadable or not a regular file, not safetensors (truncated, corrupt
/// header, longer than its header says), another format or version, a tensor that is
/// not F32 or whose bytes do not fit its shape, or tensor data that fails the checksum.
pub fn load(path: &Path) -> Result<Checkpoint> {
    let bytes = read_as_described(path).map_err(|detail| file_error(path, detail))?;
    parse(&bytes).map_err(|detail| file_error(path, detail))
}

/// The file's bytes, read no further than its header says the file goes: a safetensors
/// file is an 8-byte header length, the JSON header, then exactly the tensor bytes the
/// header's offsets cover. A header length past the format's limit, or a file of
/// another length than its header describes, is refused before the tensor data is
/// read. A header that does not parse is returned as read, for [`parse`] to describe.
fn read_as_described(path: &Path) -> Result<Vec<u8>, String> {
    let (mut file, len) = open_regular(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    read_more(&mut file, &mut bytes, LENGTH_FIELD)?;
    let Some(field) = bytes.first_chunk::<8>() else {
        return Ok(bytes);
    };
    let header_len = u64::from_le_bytes(*field);
    if header_len > MAX_HEADER_BYTES {
        return Err(format!(
            "not a valid safetensors file: its header length {header_len} bytes is past the \
             format's limit of {MAX_HEADER_BYTES}"
        ));
    }
    let header_end = LENGTH_FIELD + header_len;
    if header_end > len {
        return Err(format!(
            "not a valid safetensors file: truncated, its header needs {header_end} bytes \
             and the file has {len}"
        ));
    }
    read_more(&mut file, &mut bytes, header_len)?;
    let Ok(header) = serde_json::from_slice::<Metadata>(&bytes[LENGTH_FIELD as usize..]) else {
        return Ok(bytes);
    };
    let Some(described) = header_end.checked_add(header.data_len() as u64) else {
        return Err("not a valid safetensors file: its tensors end past any file's length".into());
    };
    let length_err = |actual: u64| {
        let problem = if actual < described {
            "truncated"
        } else {
            "trailing data"
        };
        format!(
            "not a valid safetensors file: {problem}, its header describes {described} \
             bytes and the file has {actual}"
        )
    };
    if len != described {
        return Err(length_err(len));
    }
    let data_len = described - header_end;
    bytes.reserve_exact(data_len as usize);
    // One byte past the end: a file that grew since its length was read is caught too.
    read_more(&mut file, &mut bytes, data_len + 1)?;
    if bytes.len() as u64 != described {
        return Err(length_err(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Appends at most `count` more bytes of `file` to `bytes`.
fn read_more(file: &mut File, bytes: &mut Vec<u8>, count: u64) -> Result<(), String> {
    file.take(count)
        .read_to_end(bytes)
        .map(drop)
        .map_err(|err| format!("cannot read: {err}"))
}

/// The checkpoint in `bytes`, or what is wrong with them.
fn parse(bytes: &[u8]) -> Result<Checkpoint, String> {
    let file = SafeTensors::deserialize(bytes).map_err(|err| safetensors_error(&err, bytes))?;
    let (_, header) =
        SafeTensors::read_metadata(bytes).map_err(|err| safetensors_error(&err, bytes))?;
    let mut metadata = header.metadata().clone().unwrap_or_default();
    check_format(&metadata)?;

    // Name order: the order the checksum was computed in.
    let views: BTreeMap<&str, TensorView> = file.iter().collect();
    if let Some((name, view)) = views.iter().find(|(_, v)| v.dtype() != Dtype::F32) {
        return Err(format!(
            "tensor '{name}' has dtype {:?}; checkpoints hold F32 only",
            view.dtype()
        ));
    }
    let stored_crc = metadata
        .remove(CRC32_KEY)
        .ok_or_else(|| format!("no '{CRC32_KEY}' metadata"))?;
    let crc = checksum(views.iter().map(|(n, v)| (*n, v.shape(), v.data())));
    if stored_crc != checksum_text(crc) {
        return Err("checksum mismatch: the file is corrupt".into());
    }

    let config_json = metadata
        .remove(CONFIG_KEY)
        .ok_or_else(|| format!("no '{CONFIG_KEY}' metadata"))?;
    let meta = metadata
        .into_iter()
        .filter(|(key, _)| !RESERVED_KEYS.contains(&key.as_str()))
        .collect();
    let tensors = views
        .into_iter()
        .map(|(name, view)| (name.to_string(), tensor_data(&view)))
        .collect();
    Ok(Checkpoint {
        config_json,
        meta,
        tensors,
    })
}

/// Refuses safetensors files written by something else, or by a later format version.
fn check_format(metadata: &HashMap<String, String>) -> Result<(), String> {
    match metadata.get(FORMAT_KEY) {
        Some(format) if format == FORMAT => {}
        Some(other) => {
            return Err(format!(
                "not a realnvp checkpoint: format is '{other}', expected '{FORMAT}'"
            ));
        }
        None => {
            return Err(format!(
                "not a realnvp checkpoint: no '{FORMAT_KEY}' metadata (expected '{FORMAT}')"
            ));
        }
    }
    match metadata.get(VERSION_KEY) {
        Some(version) if version == VERSION => Ok(()),
        Some(other) => Err(format!(
            "unsupported checkpoint version '{other}' (this build reads version {VERSION})"
        )),
        None => Err(format!("no '{VERSION_KEY}' metadata")),
    }
}

/// An F32 view's elements (little-endian in the file).
fn tensor_data(view: &TensorView) -> TensorData {
    let (elements, _) = view.data().as_chunks::<4>();
    TensorData {
        shape: view.shape().to_vec(),
        data: elements.iter().map(|b| f32::from_le_bytes(*b)).collect(),
    }
}

/// What safetensors reported, naming the offending tensor where safetensors does not.
fn safetensors_error(err: &SafeTensorError, bytes: &[u8]) -> String {
    let named = match err {
        SafeTensorError::TensorInvalidInfo => tensor_with_wrong_length(bytes),
        _ => None,
    };
    let detail = named.unwrap_or_else(|| err.to_string());
    format!("not a valid safetensors file: {detail}")
}

/// Layout of a header entry, enough to recompute a tensor's byte length.
#[derive(serde::Deserialize)]
struct TensorEntry {
    dtype: Dtype,
    shape: Vec<usize>,
    data_offsets: (usize, usize),
}

/// The first tensor whose byte range in the header does not match its shape and dtype,
/// described; safetensors reports that case without the tensor's name.
fn tensor_with_wrong_length(bytes: &[u8]) -> Option<String> {
    let header_len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let header = bytes.get(8..8usize.checked_add(usize::try_from(header_len).ok()?)?)?;
    let mut entries: HashMap<String, serde_json::Value> = serde_json::from_slice(header).ok()?;
    entries.remove("__metadata__");
    let mut entries: Vec<(String, TensorEntry)> = entries
        .into_iter()
        .filter_map(|(name, value)| Some((name, serde_json::from_value(value).ok()?)))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.into_iter().find_map(|(name, entry)| {
        let (start, end) = entry.data_offsets;
        let bits = entry
            .shape
            .iter()
            .try_fold(entry.dtype.bitsize(), |n, &dim| n.checked_mul(dim))?;
        (end.checked_sub(start)?.checked_mul(8)? != bits).then(|| {
            format!(
                "tensor '{name}': shape {:?} of {:?} needs {} bytes, the header gives it {}",
                entry.shape,
                entry.dtype,
                bits / 8,
                end - start
            )
        })
    })
}
