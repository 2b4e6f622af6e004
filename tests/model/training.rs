//! Training runs of the tiny preset on the bundled data: bits/dim goes down, evaluation
//! mode agrees with training mode, checkpoints round-trip and resume exactly, damaged
//! checkpoints are refused, a non-finite loss stops the run and keeps the last good
//! checkpoint.

use std::sync::atomic::AtomicBool;

use realnvp::data::{self, DataSplit, Dataset};
use realnvp::model::ModelConfig;
use realnvp::model::plan::{Memory, Plan};
use realnvp::model::state::ModelState;
use realnvp::ops::adam::AdamConfig;
use realnvp::ops::conv2d::{ConvKernels, Gemm, WeightGrad};
use realnvp::train::CHECKPOINT_FILE;
use realnvp::train::{
    EvalNoise, Evaluation, Event, Finish, Position, ResumeChanges, Settings, Trainer,
};

use crate::common::gpu;

fn subset(d: &Dataset, n: usize) -> Dataset {
    let keep = d.pixels_per_image() * n;
    Dataset {
        images: d.images[..keep].to_vec(),
        n,
        labels: d.labels.as_ref().map(|l| l[..n].to_vec()),
        ..d.clone()
    }
}

/// 512 training and 128 test images of the bundled MNIST at 8x8.
fn tiny_data() -> DataSplit {
    let split = data::load_split(&data::bundled_mnist_dir(), 1, 28, 28).unwrap();
    DataSplit {
        train: subset(&split.train, 512).resized(8, 8),
        test: Some(subset(&split.test.unwrap(), 128).resized(8, 8)),
    }
}

/// `data` in evaluation mode under the trainer's model, through an inference plan at
/// the run's batch, as `realnvp eval` scores a checkpoint.
fn evaluate(t: &Trainer, data: &Dataset, noise: EvalNoise) -> Evaluation {
    let plan = Plan::inference(&t.state, t.state.config.batch).unwrap();
    realnvp::train::evaluate(&plan, data, noise).unwrap()
}

fn test_set() -> Dataset {
    tiny_data().test.unwrap()
}

fn settings(epochs: u64) -> Settings {
    Settings {
        epochs,
        max_steps: None,
        lr: 1e-3,
        seed: 5,
        checkpoint_every: 0,
        samples: 4,
        temperature: 0.7,
        data: None,
        train_images: 0,
        memory: Memory::Recompute,
    }
}

fn trainer(dir: &std::path::Path, settings: Settings) -> Trainer {
    let state =
        ModelState::new(gpu(), ModelConfig::preset("tiny").unwrap(), settings.seed).unwrap();
    Trainer::new(state, tiny_data(), settings, Position::default(), dir).unwrap()
}

/// (train, test) bits/dim of one epoch.
type EpochBpd = (Option<f64>, Option<f64>);

/// Per epoch (train, test) bits/dim, and every step's training-mode bits/dim.
fn run(t: &mut Trainer) -> (Vec<EpochBpd>, Vec<f64>) {
    let mut epochs = Vec::new();
    let mut steps = Vec::new();
    let finish = t
        .run(&AtomicBool::new(false), &mut |e| match e {
            Event::Epoch {
                train_bits_per_dim,
                test,
                ..
            } => epochs.push((train_bits_per_dim, test.map(|t| t.bits_per_dim))),
            Event::Step { bits_per_dim, .. } => steps.push(bits_per_dim),
            _ => {}
        })
        .unwrap();
    assert_eq!(finish, Finish::Completed);
    (epochs, steps)
}

#[test]
fn training_lowers_bits_per_dim_and_eval_mode_agrees_with_train_mode() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(dir.path(), settings(3));
    let initial = evaluate(&t, &test_set(), EvalNoise::Seeded).bits_per_dim;
    let (epochs, steps) = run(&mut t);
    println!("initial test {initial:.4} bits/dim; epochs (train, test): {epochs:?}");
    let last_test = epochs[2].1.unwrap();
    assert!(
        last_test < initial - 0.5,
        "test bits/dim {initial} -> {last_test}"
    );
    assert!(
        epochs[2].0.unwrap() < epochs[0].0.unwrap(),
        "train bits/dim did not fall: {epochs:?}"
    );
    let last_steps = steps[steps.len() - 4..].iter().sum::<f64>() / 4.0;
    let train_eval = evaluate(&t, &tiny_data().train, EvalNoise::Seeded).bits_per_dim;
    println!(
        "last steps (training mode) {last_steps:.4}, train set (eval mode) {train_eval:.4}, test (eval mode) {last_test:.4}"
    );
    // The running averages trail the moving parameters by ~10 steps, so a short run
    // leaves a small gap; a batch norm using the wrong statistics leaves bits, not tenths.
    assert!(
        last_test < last_steps + 0.3,
        "test (eval mode) {last_test} far above train {last_steps}"
    );
    assert!(
        (train_eval - last_steps).abs() < 0.3,
        "eval mode {train_eval} vs training mode {last_steps}"
    );

    // With the parameters frozen, the running averages converge to the batch statistics
    // and the two modes must agree closely on the same images and noise.
    let plan = Plan::new(&t.state, 16, Memory::Recompute, &AdamConfig::default()).unwrap();
    let train = tiny_data().train;
    let mut pixels = Vec::new();
    for k in 0..40 {
        train.batch(
            &(k * 16..k * 16 + 16)
                .map(|i| i % train.len())
                .collect::<Vec<_>>(),
            &mut pixels,
        );
        plan.gradients(&pixels, None).unwrap();
    }
    let noise = vec![0.5f32; 16 * 64];
    let train_mode = plan
        .gradients(&pixels, Some(&noise))
        .unwrap()
        .mean_bits_per_dim(16, 64);
    let eval_mode = plan
        .evaluate(&pixels, &noise)
        .unwrap()
        .mean_bits_per_dim(16, 64);
    println!(
        "frozen parameters, one batch: training mode {train_mode:.4}, evaluation mode {eval_mode:.4}"
    );
    assert!(
        (train_mode - eval_mode).abs() < 0.05,
        "training mode {train_mode} vs evaluation mode {eval_mode}"
    );
    assert!(dir.path().join("samples_epoch2.png").exists());
    assert!(
        std::fs::read_to_string(dir.path().join("metrics.jsonl"))
            .unwrap()
            .contains("\"epoch_done\":2")
    );
}

#[test]
fn saved_and_reloaded_model_gives_identical_log_likelihoods() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(
        dir.path(),
        Settings {
            max_steps: Some(5),
            ..settings(1)
        },
    );
    run(&mut t);
    let before = evaluate(&t, &test_set(), EvalNoise::Half);
    drop(t);
    let resumed = Trainer::resume(gpu(), dir.path(), ResumeChanges::default(), |_, _| {
        Ok(tiny_data())
    })
    .unwrap();
    assert_eq!(
        resumed.position,
        Position {
            step: 5,
            epoch: 0,
            batch: 5
        }
    );
    let after = evaluate(&resumed, &test_set(), EvalNoise::Half);
    assert_eq!(
        before, after,
        "log p(x) must be identical after save and load"
    );
}

#[test]
fn a_run_keeps_its_memory_policy_unless_resume_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(
        dir.path(),
        Settings {
            max_steps: Some(1),
            memory: Memory::Store,
            ..settings(1)
        },
    );
    run(&mut t);
    drop(t);
    let resume = |memory| {
        Trainer::resume(
            gpu(),
            dir.path(),
            ResumeChanges {
                memory,
                ..Default::default()
            },
            |_, _| Ok(tiny_data()),
        )
        .unwrap()
        .settings
        .memory
    };
    assert_eq!(resume(None), Memory::Store);
    assert_eq!(resume(Some(Memory::Recompute)), Memory::Recompute);
    // A checkpoint without the policy field reads as recomputing.
    let mut old = serde_json::to_value(settings(1)).unwrap();
    old.as_object_mut().unwrap().remove("memory");
    let old: Settings = serde_json::from_value(old).unwrap();
    assert_eq!(old.memory, Memory::Recompute);
}

#[test]
fn resume_continues_exactly() {
    // 512 images in batches of 16: 32 steps an epoch. Stopping at 32 resumes from an
    // epoch-end checkpoint into the next epoch's shuffled order.
    let everything = |t: &Trainer| -> Vec<Vec<u32>> {
        let s = &t.state;
        [
            &s.params,
            &s.adam_m,
            &s.adam_v,
            &s.adam_state,
            &s.buffers,
            &s.rng,
        ]
        .iter()
        .map(|x| gpu().read(x).unwrap().iter().map(|v| v.to_bits()).collect())
        .collect()
    };
    let straight = tempfile::tempdir().unwrap();
    let mut t = trainer(
        straight.path(),
        Settings {
            max_steps: Some(36),
            ..settings(2)
        },
    );
    run(&mut t);
    let want = everything(&t);

    let split = tempfile::tempdir().unwrap();
    let mut first = trainer(
        split.path(),
        Settings {
            max_steps: Some(32),
            ..settings(2)
        },
    );
    run(&mut first);
    drop(first);
    let mut second = Trainer::resume(gpu(), split.path(), ResumeChanges::default(), |_, _| {
        Ok(tiny_data())
    })
    .unwrap();
    assert_eq!(
        second.position,
        Position {
            step: 32,
            epoch: 1,
            batch: 0
        }
    );
    second.settings.max_steps = Some(36);
    run(&mut second);
    assert_eq!(second.position.step, 36);
    let names = [
        "parameters",
        "Adam m",
        "Adam v",
        "Adam state",
        "running statistics",
        "RNG state",
    ];
    for ((name, w), g) in names.iter().zip(&want).zip(&everything(&second)) {
        assert!(
            w == g,
            "{name}: the resumed run differs from the straight one"
        );
    }
}

#[test]
fn damaged_checkpoints_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(
        dir.path(),
        Settings {
            max_steps: Some(1),
            ..settings(1)
        },
    );
    run(&mut t);
    drop(t);
    let path = dir.path().join(CHECKPOINT_FILE);
    let bytes = std::fs::read(&path).unwrap();
    let resume_err = || {
        Trainer::resume(gpu(), dir.path(), ResumeChanges::default(), |_, _| {
            Ok(tiny_data())
        })
        .err()
        .expect("must fail")
        .to_string()
    };

    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = resume_err();
    assert!(e.contains(CHECKPOINT_FILE), "truncated: {e}");

    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x40;
    std::fs::write(&path, &flipped).unwrap();
    let e = resume_err();
    assert!(
        e.contains(CHECKPOINT_FILE) && e.contains("checksum"),
        "corrupt: {e}"
    );

    // A checkpoint of another model: a tensor it lacks.
    let mut other = realnvp::checkpoint::load(&{
        std::fs::write(&path, &bytes).unwrap();
        path.clone()
    })
    .unwrap();
    other.tensors.remove("scale0.checker0.scale");
    realnvp::checkpoint::save(&path, &other).unwrap();
    let e = resume_err();
    assert!(
        e.contains(CHECKPOINT_FILE) && e.contains("scale0.checker0.scale"),
        "mismatched: {e}"
    );
}

#[test]
fn a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(
        dir.path(),
        Settings {
            max_steps: Some(2),
            ..settings(1)
        },
    );
    run(&mut t);
    let good = std::fs::read(dir.path().join(CHECKPOINT_FILE)).unwrap();
    // Poison a flow batch norm's shift: every later value, and the loss, is NaN.
    let mut params = gpu().read(&t.state.params).unwrap();
    params[t
        .state
        .layout
        .params
        .get("scale0.checker0.bn.beta")
        .unwrap()
        .offset] = f32::NAN;
    gpu().write(&t.state.params, &params).unwrap();
    t.settings.max_steps = Some(4);
    let e = t
        .run(&AtomicBool::new(false), &mut |_| {})
        .expect_err("a NaN loss must stop training")
        .to_string();
    assert!(
        e.contains("NaN")
            && e.contains("step 3")
            && e.contains("last good checkpoint")
            && e.contains("(step 2)"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(dir.path().join(CHECKPOINT_FILE)).unwrap(),
        good,
        "the good checkpoint was overwritten"
    );
    // Nor can a save write the poisoned model: the error names the first bad tensor
    // (the failed step's running statistics are NaN too).
    let e = t
        .save()
        .expect_err("NaN parameters are not saved")
        .to_string();
    assert!(
        e.contains("holds NaN") && e.contains("not saved") && e.contains("(step 2)"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(dir.path().join(CHECKPOINT_FILE)).unwrap(),
        good
    );
}

#[test]
fn a_stop_request_saves_a_checkpoint_and_returns_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(dir.path(), settings(1));
    let finish = t.run(&AtomicBool::new(true), &mut |_| {}).unwrap();
    assert_eq!(finish, Finish::Interrupted);
    assert!(dir.path().join(CHECKPOINT_FILE).exists());
}

#[test]
fn advancing_one_unit_at_a_time_is_the_same_run() {
    // 34 steps cross the end of epoch 0 (32 steps): step by step, the epoch's end is a
    // unit of its own and the run ends as `run` ends it.
    let params = |t: &Trainer| -> Vec<u32> {
        let p = gpu().read(&t.state.params).unwrap();
        p.iter().map(|v| v.to_bits()).collect()
    };
    let steps = Settings {
        max_steps: Some(34),
        ..settings(2)
    };
    let whole = tempfile::tempdir().unwrap();
    let mut t = trainer(whole.path(), steps.clone());
    let (epochs, _) = run(&mut t);
    let want = params(&t);

    let units = tempfile::tempdir().unwrap();
    let mut u = trainer(units.path(), steps);
    let (mut calls, mut epoch_ends) = (0, Vec::new());
    while !u.done() {
        u.advance(&mut |e| {
            if let Event::Epoch { epoch, test, .. } = e {
                epoch_ends.push((epoch, test.map(|t| t.bits_per_dim)));
            }
        })
        .unwrap();
        calls += 1;
    }
    assert_eq!(calls, 35, "34 steps and one epoch end");
    assert_eq!(u.position.step, 34);
    assert_eq!(epoch_ends.len(), 1);
    assert_eq!(epoch_ends[0].1, epochs[0].1, "the same test evaluation");
    assert!(params(&u) == want, "the same parameters as `run`");
    u.advance(&mut |_| panic!("a finished run does nothing"))
        .unwrap();
}

#[test]
fn a_new_learning_rate_applies_from_the_next_step() {
    // Two runs take the same first step; the second step's gradients and Adam moments
    // are then the same too, so its update scales with the rate alone.
    let params = |t: &Trainer| gpu().read(&t.state.params).unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut changed = trainer(a.path(), settings(1));
    let mut kept = trainer(b.path(), settings(1));
    changed.advance(&mut |_| {}).unwrap();
    kept.advance(&mut |_| {}).unwrap();
    let before = params(&kept);
    assert_eq!(params(&changed), before);
    changed.set_learning_rate(3e-3).unwrap();
    changed.advance(&mut |_| {}).unwrap();
    kept.advance(&mut |_| {}).unwrap();
    assert_eq!(changed.settings.lr, 3e-3, "kept for a resumed run");
    let (fast, slow) = (params(&changed), params(&kept));
    let mut moved = 0;
    for ((f, s), p) in fast.iter().zip(&slow).zip(&before) {
        let (df, ds) = ((f - p) as f64, (s - p) as f64);
        // f32 rounding of parameters near 1 is ~1e-7; updates are ~1e-3.
        assert!(
            (df - 3.0 * ds).abs() <= 1e-6 + 1e-3 * ds.abs(),
            "{df} vs 3 x {ds}"
        );
        moved += usize::from(ds.abs() > 1e-5);
    }
    assert!(moved > fast.len() / 2, "most parameters moved");

    for bad in [0.0, -1e-3, f32::NAN, f32::INFINITY] {
        let e = changed.set_learning_rate(bad).unwrap_err().to_string();
        assert!(e.contains("learning rate"), "{e}");
    }
    assert_eq!(changed.settings.lr, 3e-3, "a refused rate changes nothing");
}

#[test]
fn a_stop_during_an_epochs_last_step_closes_the_epoch_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(dir.path(), settings(2));
    let per_epoch = t.batches_per_epoch();
    let stop = AtomicBool::new(false);
    let mut epochs = 0;
    let finish = t
        .run(&stop, &mut |e| match e {
            Event::Step { position, .. } if position.batch == per_epoch => {
                stop.store(true, std::sync::atomic::Ordering::Relaxed)
            }
            Event::Epoch { .. } => epochs += 1,
            _ => {}
        })
        .unwrap();
    assert_eq!(finish, Finish::Interrupted);
    assert_eq!(epochs, 1, "the epoch's end ran before the stop");
    assert_eq!(
        t.position,
        Position {
            step: per_epoch,
            epoch: 1,
            batch: 0
        }
    );
}

#[test]
fn a_kill_during_an_epochs_end_resumes_into_that_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(dir.path(), settings(2));
    let per_epoch = t.batches_per_epoch();
    // The run folder as the epoch's end saved it, before its evaluation: what a kill
    // during that evaluation (a minute or more on a CPU adapter) leaves on disk.
    let left = tempfile::tempdir().unwrap();
    let mut copied = false;
    while !copied {
        t.advance(&mut |e| {
            if let Event::Checkpoint { .. } = e
                && !copied
            {
                for entry in std::fs::read_dir(dir.path()).unwrap() {
                    let entry = entry.unwrap();
                    std::fs::copy(entry.path(), left.path().join(entry.file_name())).unwrap();
                }
                copied = true;
            }
        })
        .unwrap();
    }
    drop(t);
    let mut resumed = Trainer::resume(gpu(), left.path(), ResumeChanges::default(), |_, _| {
        Ok(tiny_data())
    })
    .unwrap();
    assert_eq!(
        resumed.position,
        Position {
            step: per_epoch,
            epoch: 0,
            batch: per_epoch
        },
        "the resume is at epoch 0's end"
    );
    let mut closed = None;
    resumed
        .advance(&mut |e| {
            if let Event::Epoch { epoch, test, .. } = e {
                closed = Some((epoch, test.is_some()));
            }
        })
        .unwrap();
    assert_eq!(
        closed,
        Some((0, true)),
        "epoch 0 is closed, with its test figure"
    );
    assert!(left.path().join("samples_epoch0.png").exists());
    assert_eq!((resumed.position.epoch, resumed.position.batch), (1, 0));
}

#[test]
fn a_learning_rate_that_cannot_train_is_refused_before_anything_is_written() {
    for lr in [f32::NAN, f32::INFINITY, 0.0, -1e-3] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let state = ModelState::new(gpu(), ModelConfig::preset("tiny").unwrap(), 0).unwrap();
        let settings = Settings { lr, ..settings(1) };
        let e = Trainer::new(state, tiny_data(), settings, Position::default(), &out)
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains("learning rate"), "{e}");
        assert!(!out.exists(), "nothing written for lr {lr}");
    }
}

#[test]
fn a_file_with_non_finite_values_or_a_variance_of_zero_is_refused_naming_the_tensor() {
    let state = ModelState::new(gpu(), ModelConfig::preset("tiny").unwrap(), 0).unwrap();
    let good = state.to_checkpoint(Default::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("scale0.checker0.net.conv_in.v", f32::NAN, "must be finite"),
        (
            "optimizer.m.scale0.checker0.bn.beta",
            f32::INFINITY,
            "must be finite",
        ),
        ("scale0.checker0.bn.running_var", 0.0, "above zero"),
        ("scale1.checker0.bn.running_var", -1.0, "above zero"),
    ];
    for (name, value, why) in cases {
        let mut bad = good.clone();
        bad.tensors.get_mut(name).expect(name).data[0] = value;
        // Saved properly, so the checksum matches: only the values are wrong.
        let path = dir.path().join("bad.safetensors");
        realnvp::checkpoint::save(&path, &bad).unwrap();
        let e = realnvp::model::Model::open(gpu(), &path, None)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            e.contains("bad.safetensors") && e.contains(name) && e.contains(why),
            "{e}"
        );
    }
}

#[test]
fn metadata_that_cannot_be_is_refused_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(
        dir.path(),
        Settings {
            max_steps: Some(3),
            ..settings(1)
        },
    );
    run(&mut t);
    drop(t);
    let path = dir.path().join(CHECKPOINT_FILE);
    let good = realnvp::checkpoint::load(&path).unwrap();
    let cases = [
        (
            "train.position",
            r#"{"step":3,"epoch":0,"batch":9000}"#,
            "batch 9000",
        ),
        (
            "train.position",
            r#"{"step":70,"epoch":2,"batch":3}"#,
            "cannot be",
        ),
    ];
    let mut lr_1e30 = good.meta["train.settings"].replace(r#""lr":0.001"#, r#""lr":1e30"#);
    assert_ne!(
        lr_1e30, good.meta["train.settings"],
        "the settings hold lr 0.001"
    );
    for (key, value, why) in cases.iter().map(|&(k, v, w)| (k, v.to_owned(), w)).chain([(
        "train.settings",
        std::mem::take(&mut lr_1e30),
        "learning rate",
    )]) {
        let mut bad = good.clone();
        bad.meta.insert(key.into(), value);
        // Saved properly: the checksum covers the tensors, not this metadata.
        realnvp::checkpoint::save(&path, &bad).unwrap();
        let e = Trainer::resume(gpu(), dir.path(), ResumeChanges::default(), |_, _| {
            Ok(tiny_data())
        })
        .err()
        .expect("refused")
        .to_string();
        assert!(
            e.contains(CHECKPOINT_FILE) && e.contains(key) && e.contains(why),
            "{e}"
        );
    }
}

#[test]
fn finite_weights_with_a_non_finite_loss_are_not_saved() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(dir.path(), settings(1));
    t.advance(&mut |_| {}).unwrap();
    let saved = t.save().unwrap();
    let good = std::fs::read(&saved).unwrap();
    t.advance(&mut |_| {}).unwrap();
    // Every weight-norm scale at 1e30: finite values whose outputs overflow.
    let mut params = gpu().read(&t.state.params).unwrap();
    for slot in &t.state.layout.params.slots {
        if slot.name.ends_with(".g") {
            params[slot.offset..slot.offset + slot.len()].fill(1e30);
        }
    }
    gpu().write(&t.state.params, &params).unwrap();
    let e = t.save().expect_err("refused").to_string();
    assert!(
        e.contains("after step 2") && e.contains("gives a loss of") && e.contains("(step 1)"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        good,
        "the good checkpoint stays"
    );
}

/// A run records its kernel choices in its checkpoint, and resuming pins them: a cache
/// emptied or measured differently in between (Winograd and the direct kernels differ
/// by rounding) cannot change the kernels the run goes on with.
#[test]
fn a_resumed_run_runs_the_kernels_its_checkpoint_names() {
    let dir = tempfile::tempdir().unwrap();
    let tuned = |cache: &str| {
        let gpu = realnvp::Gpu::new(None).unwrap();
        gpu.tune_kernels(Some(dir.path().join(cache)));
        gpu
    };
    let first = tuned("first.json");
    let Some(tuning) = first.tuning() else {
        assert!(realnvp::runtime::KernelFamily::forced().is_some());
        eprintln!("skipped: REALNVP_KERNELS forces a family, so nothing is tuned");
        return;
    };
    let out = dir.path().join("run");
    let state = ModelState::new(first.clone(), ModelConfig::preset("tiny").unwrap(), 5).unwrap();
    let s = Settings {
        max_steps: Some(1),
        ..settings(1)
    };
    run(&mut Trainer::new(state, tiny_data(), s, Position::default(), &out).unwrap());
    let recorded = tuning.in_use();
    assert!(!recorded.is_empty(), "nothing was tuned");

    // Another process whose cache holds another choice for every shape the run tuned.
    let second = tuned("second.json");
    let other = serde_json::to_value(ConvKernels {
        forward: Gemm::Direct,
        grad_input: Gemm::Direct8,
        grad_weight: WeightGrad::Direct,
    })
    .unwrap();
    for key in recorded.keys() {
        let _: serde_json::Value = second
            .tuning()
            .unwrap()
            .choose(key, || Ok(other.clone()))
            .unwrap();
    }
    assert_ne!(second.tuning().unwrap().in_use(), recorded);
    // Asked to choose again, it keeps its own choices.
    let retune = ResumeChanges {
        retune: true,
        ..Default::default()
    };
    Trainer::resume(second.clone(), &out, retune, |_, _| Ok(tiny_data())).unwrap();
    assert_ne!(second.tuning().unwrap().in_use(), recorded);
    Trainer::resume(second.clone(), &out, ResumeChanges::default(), |_, _| {
        Ok(tiny_data())
    })
    .unwrap();
    assert_eq!(second.tuning().unwrap().in_use(), recorded);
}
