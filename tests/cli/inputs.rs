//! Inputs read with a bound that follows from what they can legitimately be: devices,
//! FIFOs, huge and sparse files, oversized configs and images are refused before memory
//! runs out.
//!
//! Each refusal runs the binary under a watch on its peak memory and its time, and
//! kills it past either: a bound that fails must not take the machine with it.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use image::GrayImage;

use crate::command;

/// The bundled model: a real checkpoint for the commands that open one first.
const BUNDLED_MODEL: &str = "assets/models/mnist.safetensors";
/// Peak memory a refused input may leave the process at: its baseline with the
/// adapter open (~160 MB on lavapipe), and well short of any of the files read whole.
const MAX_PEAK_KB: u64 = 512 * 1024;
/// Far past a refusal's fraction of a second, short of reading gigabytes.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// The process's peak resident memory so far, in kB (Linux's `VmHWM`).
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `realnvp args`, which must fail (status 1: an error, not a panic or an abort)
/// with a message containing `why`, within [`TIME_LIMIT`] and [`MAX_PEAK_KB`].
fn refused_within_bounds(args: &[&str], why: &str) {
    let mut child = command()
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let start = Instant::now();
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        peak = peak.max(peak_kb(child.id()).unwrap_or(0));
        if peak > MAX_PEAK_KB || start.elapsed() > TIME_LIMIT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "realnvp {}: stopped at {peak} kB after {:.1} s",
                args.join(" "),
                start.elapsed().as_secs_f64()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let err = reader.join().unwrap();
    eprintln!("$ realnvp {}\n{err}(peak {peak} kB)", args.join(" "));
    assert!(
        status.code() == Some(1) && err.contains(why),
        "realnvp {}: {status:?}, expected '{why}' in: {err}",
        args.join(" ")
    );
}

/// A sparse file of `len` bytes starting with `head`: no disk, and gigabytes to read.
fn sparse(path: &Path, head: &[u8], len: u64) -> String {
    std::fs::write(path, head).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
    path.to_str().unwrap().to_owned()
}

const TWENTY_GB: u64 = 20 << 30;

#[cfg(target_os = "linux")]
#[test]
fn devices_and_huge_sparse_files_are_refused_before_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let zeros = sparse(&d("zeros"), &[], TWENTY_GB);
    // A real checkpoint's header, then 20 GB: longer than its header describes.
    let model = std::fs::read(BUNDLED_MODEL).unwrap();
    let long_model = sparse(&d("long.safetensors"), &model, TWENTY_GB);
    // A header length of 1 TB.
    let claim = sparse(
        &d("claim.safetensors"),
        &(1u64 << 40).to_le_bytes(),
        TWENTY_GB,
    );

    let device = "is a character device, not a regular file";
    let not_safetensors = "not a valid safetensors file";
    let checkpoint_cases = [
        ("/dev/zero", device),
        ("/dev/urandom", device),
        (&zeros, not_safetensors),
        (&long_model, "trailing data, its header describes"),
        (
            &claim,
            "header length 1099511627776 bytes is past the format's limit",
        ),
    ];
    for (i, (file, why)) in checkpoint_cases.into_iter().enumerate() {
        let out = d(&format!("run{i}"));
        let out = out.to_str().unwrap();
        let png = d("x.png");
        let png = png.to_str().unwrap();
        refused_within_bounds(&["eval", "--checkpoint", file], why);
        refused_within_bounds(&["train", "--init", file, "--out", out], why);
        refused_within_bounds(
            &[
                "decode",
                "--checkpoint",
                BUNDLED_MODEL,
                "--latents",
                file,
                "--out",
                png,
            ],
            why,
        );
    }
    for (i, (file, why)) in [
        ("/dev/zero", device),
        (
            &zeros,
            "is 21474836480 bytes; a model config file is at most 1048576 bytes",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let out = d(&format!("config-run{i}"));
        refused_within_bounds(
            &["train", "--config", file, "--out", out.to_str().unwrap()],
            why,
        );
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_pipe_as_data_says_what_it_is_and_what_data_takes() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let out = dir.path().join("run");
    let why = "is a pipe or FIFO: a dataset is an MNIST IDX file, a CIFAR-10 batch (.bin), \
               or a folder of those or of PNG/JPEG images";
    let args = ["train", "--preset", "tiny", "--out", out.to_str().unwrap()];
    refused_within_bounds(
        &[&args[..], &["--data", fifo.to_str().unwrap()]].concat(),
        why,
    );

    // `--data <(...)` names a pipe as /dev/fd/N; stdin is one here.
    let result = command()
        .args(args)
        .args(["--data", "/dev/stdin"])
        .stdin(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.code() == Some(1) && err.contains(why),
        "{err}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn model_sizes_past_their_caps_or_the_adapter_are_refused_before_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out = out.to_str().unwrap();
    let tiny = ["train", "--preset", "tiny", "--out", out];
    refused_within_bounds(
        &[&tiny[..], &["--features", "4611686018427387904"]].concat(),
        "model config: features 4611686018427387904 is more than 1048576",
    );
    refused_within_bounds(
        &[&tiny[..], &["--blocks", "100000"]].concat(),
        "model config: blocks 100000 is more than 256",
    );
    let config = dir.path().join("config.json");
    for side in [1u64 << 31, 1 << 32, 1 << 40] {
        std::fs::write(
            &config,
            format!(
                r#"{{"channels":1,"height":{side},"width":{side},"scales":1,"features":8,"blocks":1,"batch":16}}"#
            ),
        )
        .unwrap();
        refused_within_bounds(
            &["train", "--config", config.to_str().unwrap(), "--out", out],
            &format!("height {side} is more than 4096"),
        );
    }
    // Within the caps, past lavapipe's 128 MB buffers (CI) and a large GPU's 4 GB:
    // refused from the config, before the data is scaled to it (59 GB).
    std::fs::write(
        &config,
        r#"{"channels":1,"height":4096,"width":4096,"scales":1,"features":128,"blocks":1,"batch":16}"#,
    )
    .unwrap();
    refused_within_bounds(
        &["train", "--config", config.to_str().unwrap(), "--out", out],
        "one image's largest activation in this model holds 2147483648 values (8.6 GB)",
    );
    // A plan's batch is capped too: its sizes would otherwise wrap.
    let bundled = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/models/mnist.safetensors"
    );
    refused_within_bounds(
        &[
            "eval",
            "--checkpoint",
            bundled,
            "--batch",
            "4611686018427387905",
        ],
        "a plan's batch is from 1 to 65536",
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_small_gzip_of_a_huge_stream_is_inflated_no_further_than_its_header() {
    let dir = tempfile::tempdir().unwrap();
    // MNIST's training header (47 MB of pixels), then 1 GB of zeros: a 1 MB file of 64
    // gzip members, each of 16 MB of zeros.
    let mut header = 0x803u32.to_be_bytes().to_vec();
    for size in [60_000u32, 28, 28] {
        header.extend(size.to_be_bytes());
    }
    let member = |bytes: &[u8]| {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    };
    let zeros = member(&vec![0; 16 << 20]);
    let mut file = member(&header);
    for _ in 0..64 {
        file.extend(&zeros);
    }
    let images = dir.path().join("train-images-idx3-ubyte.gz");
    std::fs::write(&images, file).unwrap();
    let out = dir.path().join("run");
    refused_within_bounds(
        &[
            "train",
            "--preset",
            "tiny",
            "--data",
            images.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        "trailing data: header promises 47040016 bytes (60000x28x28 values after a 16-byte \
         header), the decompressed file has more",
    );
}

#[cfg(target_os = "linux")]
#[test]
fn images_too_narrow_to_resize_are_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    for (w, h, why) in [
        // 2 kB that once cost 1.3 GB, scaled to cover 28x28.
        (
            1,
            1_000_000,
            "is 1 x 1000000 pixels (width x height): its aspect ratio 1:1000000 is past 1:64",
        ),
        // Once a panic inside the image crate's resize.
        (10_000_000, 1, "its aspect ratio 10000000:1 is past 64:1"),
    ] {
        let png = dir.path().join(format!("{w}x{h}.png"));
        GrayImage::new(w, h).save(&png).unwrap();
        refused_within_bounds(
            &[
                "score",
                "--checkpoint",
                BUNDLED_MODEL,
                "--images",
                png.to_str().unwrap(),
            ],
            why,
        );
    }
}
