//! The `realnvp` binary end to end on the tiny preset: train, eval, sample, interpolate,
//! encode, decode, resume, and clear errors for bad input.

use std::path::Path;
use std::process::{Command, Output};

/// The binary with kernel tuning off (`REALNVP_KERNELS` forces the direct kernels), so
/// that tests do not write the user's kernel cache, and their results do not depend on
/// timing (Winograd, which tuning may choose, differs from the direct kernels by
/// rounding).
fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_realnvp"));
    c.env(realnvp::runtime::KERNELS_ENV, "direct");
    c
}

fn realnvp(args: &[&str]) -> Output {
    let out = command().args(args).output().expect("the binary runs");
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

/// Runs `realnvp args`, which must fail with a message containing `why`; its stdout.
fn refused(args: &[&str], why: &str) -> String {
    let out = realnvp(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains(why),
        "realnvp {}: {err}",
        args.join(" ")
    );
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

/// `realnvp train` of the `tiny` preset for `steps` steps into `out`, no sample grids.
fn train_tiny(out: &str, steps: u32) {
    ok(&[
        "train",
        "--preset",
        "tiny",
        "--steps",
        &steps.to_string(),
        "--samples",
        "0",
        "--out",
        out,
    ]);
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn train_bpd_of_step(run: &str, step: u64) -> f64 {
    let metrics = std::fs::read_to_string(Path::new(run).join("metrics.jsonl")).unwrap();
    json_lines(&metrics)
        .into_iter()
        .find(|v| v["step"] == step && v.get("epoch_done").is_none())
        .and_then(|v| v["train_bpd"].as_f64())
        .unwrap_or_else(|| panic!("no step {step} in {run}"))
}

#[test]
fn score_export_and_init() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let run = d("run");
    train_tiny(&run, 10);
    let ckpt = d("run/checkpoint.safetensors");

    // score: one line per test image whose mean is eval's figure, and whose parts add up.
    let eval = json_lines(&ok(&["eval", "--checkpoint", &ckpt]))[0].clone();
    let scores = json_lines(&ok(&["score", "--checkpoint", &ckpt]));
    assert_eq!(scores.len(), 500);
    let bpd = |v: &serde_json::Value| v["bits_per_dim"].as_f64().unwrap();
    let mean = scores.iter().map(bpd).sum::<f64>() / scores.len() as f64;
    let want = eval["bits_per_dim"].as_f64().unwrap();
    assert!(
        (mean - want).abs() < 1e-9,
        "score mean {mean} vs eval {want}"
    );
    for (i, s) in scores.iter().enumerate() {
        assert_eq!(s["index"], i);
        let scales = s["per_scale_bits_per_dim"].as_array().unwrap();
        assert_eq!(scales.len(), 2, "the tiny preset has 2 scales");
        let parts = s["preprocessing_bits_per_dim"].as_f64().unwrap()
            + scales
                .iter()
                .map(|p| p["latent"].as_f64().unwrap() + p["logdet"].as_f64().unwrap())
                .sum::<f64>();
        assert!((parts - bpd(s)).abs() < 1e-9, "image {i}: parts {parts}");
        let nats = s["nats"].as_f64().unwrap();
        assert!((nats / (64.0 * std::f64::consts::LN_2) - bpd(s)).abs() < 1e-9);
    }
    // A score does not depend on the batch the image ran in.
    let few = json_lines(&ok(&[
        "score",
        "--checkpoint",
        &ckpt,
        "--count",
        "3",
        "--batch",
        "2",
    ]));
    for (a, b) in few.iter().zip(&scores) {
        assert!((bpd(a) - bpd(b)).abs() < 1e-6, "{a} vs {b}");
    }
    let png = d("digit.png");
    image::GrayImage::from_fn(8, 8, |x, y| image::Luma([((x * 30 + y * 7) % 256) as u8]))
        .save(&png)
        .unwrap();
    let file = json_lines(&ok(&["score", "--checkpoint", &ckpt, "--images", &png]));
    assert_eq!(file.len(), 1);
    assert_eq!(file[0]["file"], png.as_str());
    assert!(bpd(&file[0]).is_finite());

    // export: weights only, smaller, and the same evaluation.
    let weights = d("weights.safetensors");
    ok(&["export", "--checkpoint", &ckpt, "--out", &weights]);
    let size = |p: &str| std::fs::metadata(p).unwrap().len();
    assert!(
        size(&weights) * 2 < size(&ckpt),
        "{} vs {}",
        size(&weights),
        size(&ckpt)
    );
    let from_weights = json_lines(&ok(&["eval", "--checkpoint", &weights]))[0].clone();
    assert_eq!(from_weights["bits_per_dim"], eval["bits_per_dim"]);
    assert_eq!(
        json_lines(&ok(&["score", "--checkpoint", &weights, "--count", "3"]))[..],
        scores[..3]
    );
    let out = realnvp(&["export", "--checkpoint", &ckpt, "--out", &ckpt]);
    assert!(!out.status.success(), "export over its own input");

    // A weights-only file cannot resume a run; it starts a new one with --init.
    let copied = d("copied");
    std::fs::create_dir(&copied).unwrap();
    std::fs::copy(&weights, d("copied/checkpoint.safetensors")).unwrap();
    let out = realnvp(&["train", "--resume", "--out", &copied]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("weights only") && err.contains("--init"),
        "{err}"
    );
    let out = realnvp(&["train", "--init", &weights, "--preset", "tiny"]);
    assert!(
        !out.status.success(),
        "--init takes the model from the file"
    );
    let run0 = d("run0");
    ok(&[
        "train",
        "--init",
        &weights,
        "--steps",
        "0",
        "--samples",
        "0",
        "--out",
        &run0,
    ]);
    let started = json_lines(&ok(&[
        "eval",
        "--checkpoint",
        &d("run0/checkpoint.safetensors"),
    ]));
    assert_eq!(
        started[0]["bits_per_dim"], eval["bits_per_dim"],
        "--init starts from the file's weights"
    );
    let run2 = d("run2");
    ok(&[
        "train",
        "--init",
        &weights,
        "--steps",
        "1",
        "--samples",
        "0",
        "--out",
        &run2,
    ]);
    // Same seed, so the same first batch and noise as the fresh run: only the weights differ.
    let (fresh, initialised) = (train_bpd_of_step(&run, 1), train_bpd_of_step(&run2, 1));
    assert!(
        initialised < fresh,
        "a run from trained weights starts lower: {initialised} vs {fresh}"
    );
}

#[test]
fn resume_refuses_a_dataset_of_another_size() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let run = d("run");
    train_tiny(&run, 2);
    let folder = d("pngs");
    std::fs::create_dir(&folder).unwrap();
    for i in 0..20u32 {
        image::GrayImage::from_fn(8, 8, |x, y| image::Luma([((x + y + i) * 13 % 256) as u8]))
            .save(dir.path().join(format!("pngs/{i}.png")))
            .unwrap();
    }
    let out = realnvp(&["train", "--resume", "--data", &folder, "--out", &run]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("3500") && err.contains("20"),
        "{err}"
    );
}

#[test]
fn a_new_run_never_overwrites_one_without_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run = run.to_str().unwrap();
    train_tiny(run, 2);
    let file = |name: &str| std::fs::read(Path::new(run).join(name)).unwrap();
    let (checkpoint, metrics) = (file("checkpoint.safetensors"), file("metrics.jsonl"));

    let again = [
        "train",
        "--preset",
        "tiny",
        "--steps",
        "1",
        "--samples",
        "0",
        "--out",
        run,
    ];
    let out = realnvp(&again);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("already holds a run")
            && err.contains("--resume")
            && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(
        file("checkpoint.safetensors"),
        checkpoint,
        "the run is untouched"
    );
    assert_eq!(file("metrics.jsonl"), metrics);

    ok(&[&again[..], &["--overwrite"]].concat());
    let lines = String::from_utf8(file("metrics.jsonl")).unwrap();
    assert_eq!(
        lines.lines().count(),
        1,
        "only the new run's step:\n{lines}"
    );
    let out = realnvp(&["train", "--resume", "--overwrite", "--out", run]);
    assert!(!out.status.success(), "--overwrite is for new runs only");
}

#[test]
fn learning_rates_that_cannot_train_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rates = ["--lr=nan", "--lr=inf", "--lr=-1", "--lr=0", "--lr=1e9"];
    for (i, lr) in rates.iter().enumerate() {
        let run = dir.path().join(format!("bad{i}"));
        let args = ["train", "--preset", "tiny", "--steps", "2", lr, "--out"];
        let out = realnvp(&[&args[..], &[run.to_str().unwrap()]].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("learning rate must be above 0 and at most 1"),
            "{lr}: {err}"
        );
        assert!(!run.exists(), "{lr}: nothing written");
    }
}

#[cfg(unix)]
#[test]
fn sigterm_saves_a_checkpoint_like_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let child = command()
        .args([
            "train",
            "--preset",
            "tiny",
            "--epochs",
            "50",
            "--samples",
            "0",
            "--out",
        ])
        .arg(&run)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once a step is logged, the run is under way.
    let metrics = run.join("metrics.jsonl");
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&metrics).map_or(true, |m| m.lines().count() < 2) {
        assert!(start.elapsed().as_secs() < 120, "no step logged");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {err}", out.status);
    assert!(err.contains("interrupted: checkpoint saved"), "{err}");
    let run = run.to_str().unwrap();
    let resumed = realnvp(&["train", "--resume", "--steps", "1", "--out", run]);
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert!(err.contains("resuming at step"), "{err}");
}

#[test]
fn no_command_writes_over_its_inputs_or_a_file_of_another_kind() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let run = d("run");
    train_tiny(&run, 1);
    let ckpt = d("run/checkpoint.safetensors");
    let model = std::fs::read(&ckpt).unwrap();
    let refused_keeping_model = |args: &[&str], why: &str| {
        refused(args, why);
        assert_eq!(
            std::fs::read(&ckpt).unwrap(),
            model,
            "{args:?} touched the model"
        );
    };
    let inputs = "one of this command's inputs";
    refused_keeping_model(
        &[
            "encode",
            "--checkpoint",
            &ckpt,
            "--count",
            "2",
            "--out",
            &ckpt,
        ],
        inputs,
    );
    refused_keeping_model(&["export", "--checkpoint", &ckpt, "--out", &ckpt], inputs);
    refused_keeping_model(
        &["sample", "--checkpoint", &ckpt, "--n", "4", "--out", &ckpt],
        inputs,
    );
    refused_keeping_model(
        &[
            "interpolate",
            "--checkpoint",
            &ckpt,
            "--grid",
            "2",
            "--out",
            &ckpt,
        ],
        inputs,
    );

    // Another run's checkpoint is not replaced by latents or weights without --force.
    let other = d("other.safetensors");
    std::fs::copy(&ckpt, &other).unwrap();
    let kind = "a realnvp training file";
    refused_keeping_model(
        &[
            "encode",
            "--checkpoint",
            &ckpt,
            "--count",
            "2",
            "--out",
            &other,
        ],
        kind,
    );
    refused_keeping_model(&["export", "--checkpoint", &ckpt, "--out", &other], kind);
    let notes = d("notes.safetensors");
    std::fs::write(&notes, "not a model").unwrap();
    refused_keeping_model(
        &[
            "encode",
            "--checkpoint",
            &ckpt,
            "--count",
            "2",
            "--out",
            &notes,
        ],
        "a file realnvp did not write",
    );
    assert_eq!(std::fs::read(&notes).unwrap(), b"not a model");

    // Rerunning into a file of the same kind is fine; so is --force.
    let z = d("z.safetensors");
    for _ in 0..2 {
        ok(&["encode", "--checkpoint", &ckpt, "--count", "2", "--out", &z]);
    }
    refused_keeping_model(
        &[
            "decode",
            "--checkpoint",
            &ckpt,
            "--latents",
            &z,
            "--out",
            &z,
        ],
        inputs,
    );
    ok(&[
        "encode",
        "--checkpoint",
        &ckpt,
        "--count",
        "2",
        "--out",
        &notes,
        "--force",
    ]);

    // PNG outputs: a rerun replaces its PNG; any other file needs --force; a folder is
    // not a file.
    let readme = d("README.md");
    std::fs::write(&readme, "# notes").unwrap();
    let sample = |out: &str, more: &[&str]| {
        let args = ["sample", "--checkpoint", &ckpt, "--n", "4", "--out", out];
        realnvp(&[&args[..], more].concat())
    };
    let out = sample(&readme, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("something other than a PNG"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), "# notes");
    let png = d("s.png");
    for _ in 0..2 {
        assert!(
            sample(&png, &[]).status.success(),
            "a rerun replaces its PNG"
        );
    }
    assert!(sample(&readme, &["--force"]).status.success());
    let out = sample(dir.path().to_str().unwrap(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("is a folder: refusing to replace it"),
        "{err}"
    );
}

#[test]
fn values_out_of_range_are_refused_with_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let run = d("run");
    train_tiny(&run, 1);
    let ckpt = d("run/checkpoint.safetensors");
    let refused_without_null = |args: &[&str], why: &str| {
        assert!(!refused(args, why).contains("null"), "no null as a result");
    };
    let png = d("s.png");
    for t in ["nan", "inf", "-1", "1e30"] {
        let range = "the temperature must be from 0 to 10";
        refused_without_null(
            &[
                "sample",
                "--checkpoint",
                &ckpt,
                "--temperature",
                t,
                "--out",
                &png,
            ],
            range,
        );
        refused_without_null(
            &[
                "interpolate",
                "--checkpoint",
                &ckpt,
                "--temperature",
                t,
                "--out",
                &png,
            ],
            range,
        );
        refused_without_null(
            &[
                "train",
                "--preset",
                "tiny",
                "--temperature",
                t,
                "--out",
                &d("t"),
            ],
            range,
        );
    }
    refused_without_null(
        &["eval", "--checkpoint", &ckpt, "--batch", "0"],
        "at least 1",
    );
    refused_without_null(
        &["score", "--checkpoint", &ckpt, "--batch", "0"],
        "at least 1",
    );

    // Latents with a NaN: refused, naming the file and the latent.
    let z = d("z.safetensors");
    ok(&["encode", "--checkpoint", &ckpt, "--count", "3", "--out", &z]);
    let mut latents = realnvp::checkpoint::load(Path::new(&z)).unwrap();
    let dim = latents.tensors["z"].shape[1];
    latents.tensors.get_mut("z").unwrap().data[dim + 5] = f32::NAN;
    realnvp::checkpoint::save(Path::new(&z), &latents).unwrap();
    refused_without_null(
        &[
            "decode",
            "--checkpoint",
            &ckpt,
            "--latents",
            &z,
            "--out",
            &png,
        ],
        "latent 1 holds NaN at element 5",
    );

    // Finite weights that overflow: eval fails instead of printing null.
    let mut model = realnvp::checkpoint::load(Path::new(&ckpt)).unwrap();
    for (name, t) in model.tensors.iter_mut() {
        if name.ends_with(".g") && !name.starts_with("optimizer") {
            t.data.iter_mut().for_each(|v| *v = 1e30);
        }
    }
    let huge = d("huge.safetensors");
    realnvp::checkpoint::save(Path::new(&huge), &model).unwrap();
    refused_without_null(&["eval", "--checkpoint", &huge], "not a usable model");
}

#[test]
fn a_model_too_large_for_the_adapter_is_refused_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out = out.to_str().unwrap();
    // Sizes beyond any adapter's buffers: 7 TB of parameters; 4.4 GB activations
    // (and, on lavapipe, 0.7 GB of parameters already).
    let cases = [
        (
            vec!["--preset", "tiny", "--features", "100000"],
            "features (now 100000)",
        ),
        (
            vec!["--preset", "mnist", "--batch", "3500", "--features", "400"],
            "smaller",
        ),
    ];
    for (flags, why) in cases {
        let args = [
            &["train"],
            &flags[..],
            &["--steps", "1", "--samples", "0", "--out", out],
        ]
        .concat();
        let run = realnvp(&args);
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "an error, not an abort: {err}");
        assert!(err.contains(why) && err.contains("adapter"), "{err}");
    }
    // 301 MB activations: past lavapipe's 128 MB buffers (CI), within a big GPU's.
    let args = [
        "train", "--preset", "mnist", "--batch", "3000", "--steps", "1",
    ];
    let run = realnvp(&[&args[..], &["--samples", "0", "--out", out, "--overwrite"]].concat());
    if !run.status.success() {
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{err}");
        assert!(err.contains("batch (now 3000)"), "{err}");
    }
}

#[test]
fn long_work_shows_progress_or_is_refused_and_steps_past_the_epochs_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run = run.to_str().unwrap();
    // 3500 images in batches of 512: 6 steps an epoch.
    let out = realnvp(&[
        "train",
        "--preset",
        "tiny",
        "--batch",
        "512",
        "--steps",
        "10",
        "--samples",
        "0",
        "--out",
        run,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("--steps 10 is past the end of --epochs 1 (6 steps"),
        "the early stop is explained: {err}"
    );
    // stderr is a pipe here, as in CI logs: plain progress lines instead of a bar.
    assert!(err.contains("step 1 of 6 (epoch 0):"), "{err}");

    let ckpt = format!("{run}/checkpoint.safetensors");
    let png = dir.path().join("g.png");
    let png = png.to_str().unwrap();
    for (args, why) in [
        (
            ["interpolate", "--grid", "65"],
            "--grid must be from 2 to 64",
        ),
        (["sample", "--n", "5000"], "--n must be from 1 to 4096"),
    ] {
        let out = realnvp(&[&args[..], &["--checkpoint", &ckpt, "--out", png]].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(why), "{err}");
    }
}

#[test]
fn messages_name_what_is_wrong_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let fails = |args: &[&str]| {
        let out = realnvp(args);
        assert!(!out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let config = d("config.json");
    std::fs::write(
        &config,
        r#"{"channels":1,"height":28,"width":28,"scales":4,"features":8,"blocks":1,"batch":16}"#,
    )
    .unwrap();
    let err = fails(&["train", "--config", &config, "--out", &d("a")]);
    assert!(
        err.contains("config.json") && err.contains("divisible by 8"),
        "{err}"
    );
    assert_eq!(err.matches("model config").count(), 1, "{err}");

    let file = d("file.txt");
    std::fs::write(&file, "notes").unwrap();
    let err = fails(&["train", "--preset", "tiny", "--out", &file]);
    assert!(
        err.contains("is a file: a run writes into a folder"),
        "{err}"
    );
    assert!(!err.contains("cannot read"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "notes");

    train_tiny(&d("run"), 1);
    let err = fails(&[
        "decode",
        "--checkpoint",
        &d("run/checkpoint.safetensors"),
        "--latents",
        &file,
        "--out",
        &d("x.png"),
    ]);
    assert!(
        err.contains("latents file") && err.contains("file.txt"),
        "{err}"
    );

    // A CIFAR test batch of the wrong length: the error alone, no note about resizing
    // 32x32 images to 32x32 before it.
    let cifar = dir.path().join("cifar");
    std::fs::create_dir(&cifar).unwrap();
    std::fs::write(
        cifar.join("data_batch_1.bin"),
        [&[1u8][..], &[0u8; 3072]].concat(),
    )
    .unwrap();
    std::fs::write(cifar.join("test_batch.bin"), [0u8; 100]).unwrap();
    let err = fails(&[
        "train",
        "--preset",
        "cifar10",
        "--data",
        cifar.to_str().unwrap(),
        "--steps",
        "1",
        "--out",
        &d("c"),
    ]);
    assert!(
        err.contains("test_batch.bin") && err.contains("3073-byte"),
        "{err}"
    );
    assert!(!err.contains("resizing"), "{err}");
}

/// Reliability of the command line under hostile input and hostile surroundings; the
/// helpers above (`realnvp`, `ok`, `refused`, ...) are reached as `crate::...`.
mod cli {
    mod inputs;
    mod pipes;
    mod run_folder;
}

/// `realnvp ood` of the bundled MNIST model, its bundled test digits against `out`,
/// the first `count` images of each: one JSON line per score.
fn mnist_model_ood(out: &str, count: &str) -> Vec<serde_json::Value> {
    json_lines(&ok(&[
        "ood",
        "--checkpoint",
        "assets/models/mnist.safetensors",
        "--in",
        "assets/mnist",
        "--out",
        out,
        "--count",
        count,
    ]))
}

/// `ood` prints one AUROC per score. A dataset against itself separates nothing: every
/// score's AUROC is exactly one half.
#[test]
fn ood_of_a_dataset_against_itself_is_chance() {
    let lines = mnist_model_ood("assets/mnist", "12");
    let names: Vec<&str> = lines.iter().map(|l| l["score"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "bits_per_dim",
            "complexity",
            "later_scales",
            "typicality",
            "combined"
        ]
    );
    for l in &lines {
        assert_eq!(l["auroc"].as_f64(), Some(0.5), "{l}");
        assert_eq!(
            (l["in_images"].as_u64(), l["out_images"].as_u64()),
            (Some(12), Some(12))
        );
        assert_eq!(l["in_mean"], l["out_mean"], "{l}");
    }
}

/// The bundled MNIST model tells the bundled Fashion-MNIST images from its own test
/// digits: raw bits/dim and the combined score both separate them (measured 0.99 and
/// more on 1000 images each; deterministic here, with the direct kernels and seeded
/// noise).
#[test]
fn ood_tells_clothes_from_digits_for_the_mnist_model() {
    let lines = mnist_model_ood(
        "assets/fashion-mnist/fashion-test-images-idx3-ubyte.gz",
        "48",
    );
    for l in &lines {
        let auroc = l["auroc"].as_f64().unwrap();
        match l["score"].as_str().unwrap() {
            "bits_per_dim" | "combined" => assert!(auroc > 0.9, "{l}"),
            _ => assert!((0.0..=1.0).contains(&auroc), "{l}"),
        }
    }
}
