//! Closed pipes and failed writes on stdout and stderr end a command cleanly; --out
//! takes only regular files or new names; the smaller command-line edge cases.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Output, Stdio};

use crate::{command, ok, refused, train_tiny};

/// What a command that ended cleanly never prints.
fn assert_no_panic(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_closed_stdout_ends_a_command_quietly_and_a_full_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run = run.to_str().unwrap();
    train_tiny(run, 1);
    let ckpt = format!("{run}/checkpoint.safetensors");

    // `realnvp score | head -1`: 500 lines (~150 KB), more than a pipe holds, so the
    // writes after the reader has gone fail.
    let mut score = command()
        .args(["score", "--checkpoint", &ckpt])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(score.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("bits_per_dim"), "{first}");
    let out = score.wait_with_output().unwrap();
    assert_no_panic(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(!err.contains("Error"), "a closed pipe is no error: {err}");

    // `realnvp eval > /dev/full`: the error, on one line, and status 1.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = command()
        .args(["eval", "--checkpoint", &ckpt])
        .env("RUST_BACKTRACE", "0")
        .stdout(full)
        .output()
        .unwrap();
    assert_no_panic(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Error: cannot write to stdout: No space left on device"),
        "{err}"
    );
}

#[test]
fn training_goes_on_and_saves_when_its_output_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // `realnvp train ... 2>&1 | head -2`: one pipe for both, read for two lines and
    // closed; the epoch lines, the final one and the progress come after.
    let (reader, writer) = std::io::pipe().unwrap();
    let mut train = command()
        .args([
            "train", "--preset", "tiny", "--batch", "512", "--epochs", "2",
        ])
        .args(["--samples", "0", "--out", run.to_str().unwrap()])
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .unwrap();
    let head: Vec<String> = BufReader::new(reader)
        .lines()
        .take(2)
        .map(Result::unwrap)
        .collect();
    assert!(head[0].starts_with("adapter: "), "{head:?}");
    let status = train.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // Two epochs of 6 steps (3500 images in batches of 512), all saved.
    let saved = realnvp::checkpoint::load(&run.join("checkpoint.safetensors")).unwrap();
    let position: serde_json::Value = serde_json::from_str(&saved.meta["train.position"]).unwrap();
    assert_eq!(position["step"], 12, "{position}");
}

#[cfg(unix)]
#[test]
fn out_takes_only_a_regular_file_or_a_new_name_even_with_force() {
    use std::os::unix::fs::{FileTypeExt, symlink};

    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let fifo = d("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let folder = d("folder");
    std::fs::create_dir(&folder).unwrap();
    symlink("/dev/null", d("null.png")).unwrap();
    symlink(&fifo, d("fifo.png")).unwrap();
    symlink(d("nowhere.png"), d("dangling.png")).unwrap();
    let cases = [
        ("/dev/null".to_owned(), "a character device".to_owned()),
        (fifo.clone(), "a pipe or FIFO".to_owned()),
        (folder.clone(), "a folder".to_owned()),
        (
            d("null.png"),
            "a symbolic link to /dev/null, a character device".to_owned(),
        ),
        (
            d("fifo.png"),
            format!("a symbolic link to {fifo}, a pipe or FIFO"),
        ),
        (
            d("dangling.png"),
            format!(
                "a symbolic link to {}, which does not exist",
                d("nowhere.png")
            ),
        ),
    ];
    // No model is needed: --out is checked before anything is read. (A command past
    // the check would fail on the missing checkpoint, never reaching the write.)
    let ckpt = d("missing.safetensors");
    for (out, what) in &cases {
        let why = format!("--out {out} is {what}: refusing to replace it, with or without --force");
        for force in [&[][..], &["--force"]] {
            for command in [
                &["sample", "--n", "4"][..],
                &["interpolate", "--grid", "2"],
                &["decode", "--latents", &d("z.safetensors")],
                &["encode", "--count", "2"],
                &["export"],
            ] {
                let args = [command, &["--checkpoint", &ckpt, "--out", out], force].concat();
                refused(&args, &why);
            }
        }
    }
    let file_type = |path: &str| std::fs::symlink_metadata(path).unwrap().file_type();
    assert!(file_type("/dev/null").is_char_device());
    assert!(file_type(&fifo).is_fifo());
    assert!(file_type(&folder).is_dir());
    for link in ["null.png", "fifo.png", "dangling.png"] {
        assert!(file_type(&d(link)).is_symlink(), "{link}");
    }
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
}

#[test]
fn command_line_edge_cases_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let run = d("run");
    train_tiny(&run, 1);
    let ckpt = d("run/checkpoint.safetensors");

    // 250-character file names: the temporary file beside the target has a short name.
    let png = d(&format!("{}.png", "s".repeat(246)));
    ok(&["sample", "--checkpoint", &ckpt, "--n", "4", "--out", &png]);
    assert!(image::image_dimensions(&png).is_ok());
    let z = d(&format!("{}.safetensors", "z".repeat(238)));
    ok(&["encode", "--checkpoint", &ckpt, "--count", "2", "--out", &z]);

    // A negative seed is a value out of range, not an unknown flag.
    let seed = "the seed is a whole number from 0 to 2^64 - 1 (18446744073709551615), not -1";
    let out = d("seed.png");
    refused(
        &[
            "sample",
            "--checkpoint",
            &ckpt,
            "--seed",
            "-1",
            "--out",
            &out,
        ],
        seed,
    );
    refused(
        &[
            "interpolate",
            "--checkpoint",
            &ckpt,
            "--seed",
            "-1",
            "--out",
            &out,
        ],
        seed,
    );
    refused(
        &[
            "train",
            "--preset",
            "tiny",
            "--seed",
            "-1",
            "--out",
            &d("t"),
        ],
        seed,
    );

    // decode writes one PNG grid, of at most 4096 images as sample does.
    let mut latents = realnvp::checkpoint::load(Path::new(&z)).unwrap();
    let vectors = latents.tensors.get_mut("z").unwrap();
    let one = vectors.data[..vectors.shape[1]].to_vec();
    vectors.data = one.repeat(4097);
    vectors.shape[0] = 4097;
    let many = d("many.safetensors");
    realnvp::checkpoint::save(Path::new(&many), &latents).unwrap();
    let grid = d("many.png");
    refused(
        &[
            "decode",
            "--checkpoint",
            &ckpt,
            "--latents",
            &many,
            "--out",
            &grid,
        ],
        "holds 4097 latent vectors, more than one PNG grid holds (4096): decode at most 4096 at a time",
    );
    assert!(!Path::new(&grid).exists());

    // No benchmark of zero steps or repetitions silently runs one.
    refused(
        &["bench", "--preset", "tiny", "--steps", "0"],
        "must be at least 1",
    );
    refused(&["bench", "kernels", "--reps", "0"], "0 is not in 1..");

    // What a killed export left beside its target (a torn temporary file, named by
    // the dead process's pid: above Linux's largest, 2^22) goes at the next write there.
    #[cfg(target_os = "linux")]
    {
        let torn = d(".realnvp-4194305-0.tmp");
        std::fs::write(&torn, b"half a weights file").unwrap();
        ok(&[
            "export",
            "--checkpoint",
            &ckpt,
            "--out",
            &d("weights.safetensors"),
        ]);
        assert!(!Path::new(&torn).exists());
    }
}
