//! The Training panel through egui_kittest: start a run of the `tiny` preset, the step
//! count rises and the curve gets points; pause, and it stops rising; a single step
//! while paused; save as (also onto the run's own file); stop saves the checkpoint and
//! opens it in the other panels.

use std::time::Duration;

use super::common::{harness, harness_on, step_until, train_tiny};
use egui_kittest::kittest::Queryable;
use realnvp_app::ModelSource;
use realnvp_app::panels::training::Training;
use realnvp_app::protocol::{RunState, StartFrom, Status, TrainCommand, TrainSetup};

fn step(s: &Status) -> u64 {
    s.training.as_ref().map_or(0, |v| v.position.step)
}

#[test]
fn start_pause_step_and_stop_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut h = harness(Training::NAME);
    step_until(&mut h, Duration::from_secs(60), "the model", |s| {
        s.model.is_some()
    });
    {
        let setup = &mut h.state_mut().panels.training.setup;
        setup.from = StartFrom::Preset("tiny".into());
        setup.out = out.clone();
        // Far from an epoch's end (218 steps) whatever the speed.
        setup.epochs = 1000;
    }
    // Lay the changed setup out first: a click goes to the widget of the last frame's
    // accessibility tree.
    h.run_steps(2);
    h.get_by_label("Start").click_accesskit();
    step_until(&mut h, Duration::from_secs(120), "3 steps", |s| {
        step(s) >= 3
    });
    {
        let status = h.state().worker.status();
        let view = status.training.as_ref().unwrap();
        assert!(view.train_curve.len() >= 3, "the curve has points");
        assert!(view.train_curve.iter().all(|p| p[1].is_finite()));
        assert!(view.last_nats.is_some_and(|n| n > 0.0));
    }
    step_until(&mut h, Duration::from_secs(60), "the sample grid", |s| {
        s.training.as_ref().is_some_and(|v| v.samples.is_some())
    });

    h.get_by_label("Pause").click_accesskit();
    step_until(&mut h, Duration::from_secs(60), "the pause", |s| {
        s.training
            .as_ref()
            .is_some_and(|v| v.state == RunState::Paused)
    });
    let paused_at = step(&h.state().worker.status());
    for _ in 0..20 {
        h.step();
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(
        step(&h.state().worker.status()),
        paused_at,
        "paused: the step count stays"
    );

    h.get_by_label("Step").click_accesskit();
    step_until(&mut h, Duration::from_secs(60), "one step", |s| {
        step(s) == paused_at + 1
    });
    for _ in 0..10 {
        h.step();
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(step(&h.state().worker.status()), paused_at + 1);

    // Save as: a copy, and onto the run's own file (which must stay whole).
    let copy = dir.path().join("copy.safetensors");
    let own = out.join("checkpoint.safetensors");
    for path in [&copy, &own] {
        h.state().worker.train(TrainCommand::SaveAs(path.clone()));
        step_until(&mut h, Duration::from_secs(60), "the copy", |s| {
            s.training.as_ref().is_some_and(|v| {
                v.message
                    .as_ref()
                    .is_some_and(|m| m.contains(&path.display().to_string()))
            })
        });
        let saved = realnvp::checkpoint::load(path).unwrap();
        let at = paused_at + 1;
        assert_eq!(
            saved.meta["train.position"],
            format!(r#"{{"step":{at},"epoch":0,"batch":{at}}}"#)
        );
    }

    h.get_by_label("Stop").click_accesskit();
    step_until(&mut h, Duration::from_secs(60), "the stop", |s| {
        s.training
            .as_ref()
            .is_some_and(|v| v.state == RunState::Stopped)
            && s.model
                .as_ref()
                .is_some_and(|m| m.name.ends_with("checkpoint.safetensors"))
    });
    assert!(out.join("checkpoint.safetensors").exists());
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let steps = metrics
        .lines()
        .filter(|l| l.contains("images_per_second"))
        .count();
    assert_eq!(
        steps as u64,
        paused_at + 1,
        "one metrics line per step\n{metrics}"
    );
}

#[test]
fn a_new_run_refuses_a_folder_that_holds_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("checkpoint.safetensors"), b"a run").unwrap();
    let mut h = harness(Training::NAME);
    {
        let setup = &mut h.state_mut().panels.training.setup;
        setup.from = StartFrom::Preset("tiny".into());
        setup.out = dir.path().to_owned();
    }
    h.get_by_label("Start").click_accesskit();
    step_until(&mut h, Duration::from_secs(60), "the refusal", |s| {
        s.training_error
            .as_ref()
            .is_some_and(|e| e.contains("already holds a run"))
    });
    h.run_steps(2);
    h.get_by_label_contains("already holds a run");
    assert_eq!(
        std::fs::read(dir.path().join("checkpoint.safetensors")).unwrap(),
        b"a run",
        "the old run is untouched"
    );
}

/// Adam's step count in a saved file.
fn adam_steps(path: &std::path::Path) -> u32 {
    let file = realnvp::checkpoint::load(path).unwrap();
    file.tensors["optimizer.state"].data[0].to_bits()
}

#[test]
fn the_open_checkpoint_trains_on_with_its_optimizer_state() {
    let dir = tempfile::tempdir().unwrap();
    let trained = train_tiny(&dir.path().join("first"), 3);
    assert!(trained.status.success(), "{trained:?}");
    let checkpoint = dir.path().join("first/checkpoint.safetensors");
    assert_eq!(adam_steps(&checkpoint), 3);
    let weights = dir.path().join("weights.safetensors");
    let export: Vec<std::ffi::OsString> = vec![
        "realnvp".into(),
        "export".into(),
        "--checkpoint".into(),
        checkpoint.clone().into(),
        "--out".into(),
        weights.clone().into(),
    ];
    assert_eq!(realnvp::cli::main(export), std::process::ExitCode::SUCCESS);

    // A checkpoint goes on from step 3; a weights-only file starts a fresh Adam.
    for (file, want) in [(&checkpoint, 4), (&weights, 1)] {
        let mut h = harness_on(ModelSource::File(file.clone()), Training::NAME);
        step_until(&mut h, Duration::from_secs(60), "the model", |s| {
            s.model.is_some()
        });
        let out = dir.path().join(format!("run-{want}"));
        let setup = TrainSetup {
            out: out.clone(),
            ..h.state().panels.training.setup.clone()
        };
        assert_eq!(setup.from, StartFrom::OpenModel);
        let copy = out.join("copy.safetensors");
        h.state().worker.train_in_order([
            TrainCommand::Start(setup),
            TrainCommand::Pause,
            TrainCommand::Step,
            TrainCommand::SaveAs(copy.clone()),
        ]);
        step_until(&mut h, Duration::from_secs(60), "the saved copy", |s| {
            s.training_error.is_none() && copy.exists()
        });
        assert_eq!(adam_steps(&copy), want, "{}", file.display());
    }
}

#[test]
fn the_folder_of_the_run_under_way_resumes_from_its_saved_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut h = harness(Training::NAME);
    step_until(&mut h, Duration::from_secs(60), "the model", |s| {
        s.model.is_some()
    });
    let setup = TrainSetup {
        from: StartFrom::Preset("tiny".into()),
        out: out.clone(),
        epochs: 1000,
        ..h.state().panels.training.setup.clone()
    };
    // The run under way holds the folder's lock: resuming it there saves and ends it
    // first, then goes on from its step.
    h.state().worker.train_in_order([
        TrainCommand::Start(setup),
        TrainCommand::Pause,
        TrainCommand::Step,
        TrainCommand::Resume(out.clone()),
    ]);
    step_until(&mut h, Duration::from_secs(60), "the resumed run", |s| {
        s.training_error.is_some()
            || s.training.as_ref().is_some_and(|v| {
                v.position.step >= 1 && v.train_curve.first().is_none_or(|p| p[0] >= 2.0)
            })
    });
    let status = h.state().worker.status();
    assert_eq!(status.training_error, None);
}
