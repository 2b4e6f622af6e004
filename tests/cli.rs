//! The `realnvp` binary end to end on the tiny preset: train, eval, sample, interpolate,
//! encode, decode, resume, and clear errors for bad input.

use std::path::Path;
use std::process::{Command, Output};

fn realnvp(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_realnvp"))
        .args(args)
        .output()
        .expect("the binary runs");
    eprintln!(
        "$ realnvp {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ok(args: &[&str]) -> String {
    let out = realnvp(args);
    assert!(out.status.success(), "realnvp {} failed", args.join(" "));
    String::from_utf8(out.stdout).unwrap()
}

fn png_size(path: &Path) -> (u32, u32) {
    image::image_dimensions(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn train_then_use_the_checkpoint_with_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let run = d("run");
    ok(&[
        "--train",
        "--preset",
        "tiny",
        "--epochs",
        "1",
        "--steps",
        "6",
        "--samples",
        "4",
        "--out",
        &run,
    ]);
    let ckpt = d("run/checkpoint.safetensors");
    assert!(Path::new(&ckpt).exists() && Path::new(&d("run/config.json")).exists());
    assert!(
        std::fs::read_to_string(d("run/metrics.jsonl"))
            .unwrap()
            .lines()
            .count()
            >= 6
    );

    let eval: serde_json::Value =
        serde_json::from_str(ok(&["eval", "--checkpoint", &ckpt]).trim()).unwrap();
    assert_eq!(eval["split"], "test");
    assert_eq!(eval["images"], 500);
    assert!(eval["bits_per_dim"].as_f64().unwrap() > 0.0);

    ok(&[
        "sample",
        "--checkpoint",
        &ckpt,
        "--n",
        "16",
        "--temperature",
        "0.7",
        "--out",
        &d("s.png"),
    ]);
    assert_eq!(png_size(Path::new(&d("s.png"))), (4 * 9 + 1, 4 * 9 + 1));

    ok(&[
        "interpolate",
        "--checkpoint",
        &ckpt,
        "--out",
        &d("i.png"),
        "--grid",
        "5",
    ]);
    assert_eq!(png_size(Path::new(&d("i.png"))), (5 * 9 + 1, 5 * 9 + 1));
    ok(&[
        "interpolate",
        "--checkpoint",
        &ckpt,
        "--out",
        &d("i2.png"),
        "--data",
        "assets/mnist",
        "--grid",
        "3",
    ]);

    ok(&[
        "encode",
        "--checkpoint",
        &ckpt,
        "--count",
        "5",
        "--out",
        &d("z.safetensors"),
    ]);
    ok(&[
        "decode",
        "--checkpoint",
        &ckpt,
        "--latents",
        &d("z.safetensors"),
        "--out",
        &d("dec.png"),
    ]);
    assert_eq!(png_size(Path::new(&d("dec.png"))), (3 * 9 + 1, 2 * 9 + 1));

    ok(&["train", "--resume", "--steps", "8", "--out", &run]);
    let metrics = std::fs::read_to_string(d("run/metrics.jsonl")).unwrap();
    let steps: Vec<u64> = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("train_bpd").is_some() && v.get("epoch_done").is_none())
        .map(|v| v["step"].as_u64().unwrap())
        .collect();
    assert_eq!(
        steps,
        (1..=8).collect::<Vec<_>>(),
        "the resumed run continues at step 7"
    );
    let out = realnvp(&["train", "--resume", "--preset", "mnist", "--out", &run]);
    assert!(
        !out.status.success(),
        "--resume with a model flag must be refused"
    );
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.safetensors");
    let out = realnvp(&["eval", "--checkpoint", missing.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("nope.safetensors"),
        "{err}"
    );

    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"not a checkpoint at all").unwrap();
    let out = realnvp(&[
        "sample",
        "--checkpoint",
        garbage.to_str().unwrap(),
        "--out",
        "x.png",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("garbage.safetensors"),
        "{err}"
    );

    let out = realnvp(&[
        "train",
        "--preset",
        "huge",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("huge"), "{err}");

    let out = realnvp(&[
        "train",
        "--preset",
        "tiny",
        "--data",
        "/no/such/dir",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("/no/such/dir"),
        "{err}"
    );
}
