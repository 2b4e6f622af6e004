//! Checkpoint files: exact round trips, crash-safe replacement, and a clear error
//! naming the file for every kind of damaged or foreign file.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use realnvp::Error;
use realnvp::checkpoint::{Checkpoint, FORMAT, TensorData, VERSION, load, save};
use safetensors::Dtype;
use safetensors::tensor::TensorView;

fn tensor(shape: &[usize], data: Vec<f32>) -> TensorData {
    TensorData {
        shape: shape.to_vec(),
        data,
    }
}

/// Tensors of several ranks, with values whose bits are easy to lose: signed zero,
/// subnormals, infinities, a NaN with a payload.
fn sample() -> Checkpoint {
    let odd_values = vec![
        -0.0,
        f32::from_bits(1),
        f32::MIN_POSITIVE,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::from_bits(0x7fc1_2345),
        1.0 / 3.0,
        -1e30,
    ];
    let mut tensors = BTreeMap::new();
    tensors.insert("scale".to_string(), tensor(&[1], vec![0.5]));
    tensors.insert("odd".to_string(), tensor(&[8], odd_values));
    tensors.insert(
        "coupling.0.w".to_string(),
        tensor(&[2, 3, 4], (0..24).map(|i| i as f32 * 0.25 - 3.0).collect()),
    );
    tensors.insert("empty".to_string(), tensor(&[0, 5], vec![]));
    let meta = [
        ("step", "1200"),
        ("epoch", "3"),
        ("rng", "philox:0123456789abcdef"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Checkpoint {
        config_json: r#"{"layers":4,"hidden":[64,64],"name":"flow \"a\""}"#.to_string(),
        meta,
        tensors,
    }
}

/// `(name, shape, bit patterns)` of every tensor: equality that NaN payloads survive.
fn bits(ckpt: &Checkpoint) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    ckpt.tensors
        .iter()
        .map(|(name, t)| {
            let data = t.data.iter().map(|x| x.to_bits()).collect();
            (name.clone(), t.shape.clone(), data)
        })
        .collect()
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The error `load` gives for a file holding `bytes`; it must name the file.
fn load_error(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.safetensors");
    fs::write(&path, bytes).unwrap();
    load_error_at(&path)
}

fn load_error_at(path: &Path) -> String {
    let err = load(path).expect_err("loading should fail");
    let message = err.to_string();
    match err {
        Error::Checkpoint { path: reported, .. } => assert_eq!(reported, path),
        other => panic!("expected Error::Checkpoint, got {other:?}"),
    }
    assert!(
        message.contains(&path.display().to_string()),
        "message does not name the file: {message}"
    );
    message
}

fn saved_bytes(ckpt: &Checkpoint) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    save(&path, ckpt).unwrap();
    fs::read(&path).unwrap()
}

/// A safetensors file written directly, with `metadata` as its `__metadata__`.
fn raw_safetensors(dtype: Dtype, bytes: &[u8], metadata: &[(&str, &str)]) -> Vec<u8> {
    let shape = vec![bytes.len() * 8 / dtype.bitsize()];
    let view = TensorView::new(dtype, shape, bytes).unwrap();
    let metadata: HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    safetensors::serialize([("w", view)], Some(metadata)).unwrap()
}

/// Length of the JSON header, from the file's first 8 bytes.
fn header_len(bytes: &[u8]) -> usize {
    u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
}

#[test]
fn round_trip_preserves_every_bit_and_all_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let original = sample();
    save(&path, &original).unwrap();
    let loaded = load(&path).unwrap();
    assert_eq!(bits(&loaded), bits(&original));
    assert_eq!(loaded.meta, original.meta);
    assert_eq!(loaded.config_json, original.config_json);
}

#[test]
fn file_is_plain_safetensors_with_format_metadata() {
    let bytes = saved_bytes(&sample());
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let w = file.tensor("coupling.0.w").unwrap();
    assert_eq!(w.dtype(), Dtype::F32);
    assert_eq!(w.shape(), &[2, 3, 4]);
    assert_eq!(&w.data()[..4], &(-3.0f32).to_le_bytes());
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().as_ref().unwrap();
    assert_eq!(metadata["format"], FORMAT);
    assert_eq!(metadata["version"], VERSION);
    assert_eq!(metadata["config"], sample().config_json);
    assert_eq!(metadata["crc32"].len(), 8);
}

#[test]
fn saving_over_an_existing_file_replaces_it_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    save(&path, &sample()).unwrap();

    let mut newer = sample();
    newer.meta.insert("step".into(), "1300".into());
    newer.tensors.remove("odd");
    newer
        .tensors
        .insert("extra".into(), tensor(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]));
    save(&path, &newer).unwrap();

    let loaded = load(&path).unwrap();
    assert_eq!(bits(&loaded), bits(&newer));
    assert_eq!(loaded.meta, newer.meta);
    assert_eq!(dir_entries(dir.path()), ["model.safetensors"]);
}

#[test]
fn a_missing_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let message = load_error_at(&dir.path().join("nowhere.safetensors"));
    assert!(message.contains("cannot read"), "{message}");
}

#[test]
fn a_truncated_file_is_refused_naming_it() {
    let bytes = saved_bytes(&sample());
    let data_start = 8 + header_len(&bytes);
    let cuts = [
        0,
        5,              // inside the header length
        8,              // header length only
        8 + 10,         // inside the header
        data_start - 1, // the header's last byte
        data_start,     // header complete, no data
        data_start + 7, // inside the data
        bytes.len() - 1,
    ];
    for cut in cuts {
        let message = load_error(&bytes[..cut]);
        assert!(
            message.contains("not a valid safetensors file"),
            "cut at {cut}: {message}"
        );
    }
}

#[test]
fn a_length_other_than_the_header_describes_is_refused_before_the_data_is_read() {
    let bytes = saved_bytes(&sample());
    let longer = load_error(&[&bytes[..], &[0; 10]].concat());
    assert!(
        longer.contains(&format!(
            "trailing data, its header describes {} bytes and the file has {}",
            bytes.len(),
            bytes.len() + 10
        )),
        "{longer}"
    );

    // A header length of 1 TB in an 8-byte file.
    let claim = load_error(&(1u64 << 40).to_le_bytes());
    assert!(
        claim.contains("header length 1099511627776 bytes is past the format's limit"),
        "{claim}"
    );
}

#[cfg(unix)]
#[test]
fn a_device_or_a_folder_is_refused_saying_what_it_is() {
    for (path, kind) in [("/dev/null", "a character device"), ("/", "a folder")] {
        let message = load_error_at(Path::new(path));
        assert!(
            message.contains(&format!("is {kind}, not a regular file")),
            "{message}"
        );
    }
}

#[test]
fn a_flipped_data_byte_fails_the_checksum() {
    let bytes = saved_bytes(&sample());
    let data_start = 8 + header_len(&bytes);
    for at in [data_start, data_start + 13, bytes.len() - 1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        let message = load_error(&damaged);
        assert!(
            message.contains("checksum mismatch: the file is corrupt"),
            "flip at {at}: {message}"
        );
    }
}

#[test]
fn random_garbage_is_refused() {
    let mut rng = StdRng::seed_from_u64(7);
    for len in [0, 3, 8, 64, 4096] {
        let garbage: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        load_error(&garbage);
    }
    // A plausible header length followed by bytes that are not JSON.
    let mut plausible = 16u64.to_le_bytes().to_vec();
    plausible.extend((0..64).map(|_| rng.random::<u8>()));
    load_error(&plausible);
}

#[test]
fn a_foreign_safetensors_file_is_refused() {
    let data = 1.5f32.to_le_bytes().repeat(4);
    let message = load_error(&raw_safetensors(Dtype::F32, &data, &[]));
    assert!(message.contains("not a realnvp checkpoint"), "{message}");

    let other_format = [("format", "pt"), ("version", VERSION)];
    let message = load_error(&raw_safetensors(Dtype::F32, &data, &other_format));
    assert!(message.contains("format is 'pt'"), "{message}");
}

#[test]
fn an_unsupported_version_is_refused() {
    let data = 1.5f32.to_le_bytes().repeat(4);
    let metadata = [("format", FORMAT), ("version", "2"), ("config", "{}")];
    let message = load_error(&raw_safetensors(Dtype::F32, &data, &metadata));
    assert!(
        message.contains("unsupported checkpoint version '2'"),
        "{message}"
    );
}

#[test]
fn a_tensor_that_is_not_f32_is_refused() {
    let data = 1.5f64.to_le_bytes().repeat(3);
    let metadata = [("format", FORMAT), ("version", VERSION), ("config", "{}")];
    let message = load_error(&raw_safetensors(Dtype::F64, &data, &metadata));
    assert!(message.contains("tensor 'w' has dtype F64"), "{message}");
}

#[test]
fn a_byte_length_that_does_not_match_the_shape_is_refused_naming_the_tensor() {
    let header = r#"{"__metadata__":{"format":"realnvp-checkpoint","version":"1"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.extend([0u8; 20]);
    let message = load_error(&bytes);
    assert!(
        message.contains("tensor 'w': shape [2, 3] of F32 needs 24 bytes"),
        "{message}"
    );
}

#[test]
fn expect_tensor_names_the_tensor_and_both_shapes() {
    let ckpt = sample();
    let w = ckpt.expect_tensor("coupling.0.w", &[2, 3, 4]).unwrap();
    assert_eq!(w.len(), 24);

    let message = ckpt
        .expect_tensor("coupling.0.w", &[4, 3, 2])
        .unwrap_err()
        .to_string();
    for part in ["'coupling.0.w'", "[4, 3, 2]", "[2, 3, 4]"] {
        assert!(message.contains(part), "{part} not in: {message}");
    }

    let message = ckpt
        .expect_tensor("coupling.9.w", &[4])
        .unwrap_err()
        .to_string();
    for part in ["'coupling.9.w'", "[4]", "missing"] {
        assert!(message.contains(part), "{part} not in: {message}");
    }
}

#[test]
fn check_names_lists_missing_and_unexpected_tensors() {
    let ckpt = sample();
    ckpt.check_names(&["scale", "odd", "coupling.0.w", "empty"])
        .unwrap();

    let message = ckpt
        .check_names(&["scale", "odd", "coupling.0.w", "coupling.1.w"])
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("missing tensors ['coupling.1.w']"),
        "{message}"
    );
    assert!(
        message.contains("unexpected tensors ['empty']"),
        "{message}"
    );

    let many: Vec<String> = (0..8).map(|i| format!("t{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let message = Checkpoint::default()
        .check_names(&many)
        .unwrap_err()
        .to_string();
    assert!(message.contains("'t4'] and 3 more"), "{message}");
}

#[test]
fn a_data_length_that_does_not_fit_the_shape_is_refused_and_the_old_file_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    save(&path, &sample()).unwrap();
    let old = fs::read(&path).unwrap();

    let mut bad = sample();
    bad.tensors
        .insert("short".into(), tensor(&[2, 3], vec![0.0; 5]));
    let message = save(&path, &bad).unwrap_err().to_string();
    assert!(message.contains("tensor 'short'"), "{message}");
    assert!(
        message.contains("[2, 3] needs 6 elements, data has 5"),
        "{message}"
    );

    assert_eq!(fs::read(&path).unwrap(), old);
    assert_eq!(dir_entries(dir.path()), ["model.safetensors"]);
}

#[test]
fn reserved_metadata_keys_are_refused_on_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    for key in ["format", "version", "config", "crc32"] {
        let mut ckpt = sample();
        ckpt.meta.insert(key.into(), "x".into());
        let message = save(&path, &ckpt).unwrap_err().to_string();
        assert!(
            message.contains(&format!("'{key}' is reserved")),
            "{message}"
        );
    }
    assert!(!path.exists());
}
