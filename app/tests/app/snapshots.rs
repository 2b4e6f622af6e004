//! A snapshot of each panel (egui_kittest, headless on lavapipe) on a fresh `tiny`
//! model, compared with the images in `tests/snapshots/`; `UPDATE_SNAPSHOTS=1`
//! rewrites them. What changes from run to run (timings, memory, temporary paths) is
//! masked; everything else, the model's pictures included, must match.

use std::time::Duration;

use super::common::{drop_file, harness, step_until};
use egui_kittest::kittest::Queryable;
use egui_kittest::{Harness, SnapshotOptions};
use realnvp_app::App;
use realnvp_app::panels::device::Device;
use realnvp_app::panels::interpolation::Interpolate;
use realnvp_app::panels::samples::Samples;
use realnvp_app::panels::training::Training;
use realnvp_app::protocol::{RunState, StartFrom, TrainCommand};

/// Lavapipe renders the same bits each run; the slack covers text antialiasing on
/// another CPU's LLVM code generation.
fn options() -> SnapshotOptions {
    SnapshotOptions::new().threshold(1.0).max_failed_pixels(8)
}

/// Steps until the worker is idle with nothing more to ask, then a few more frames.
fn settle(h: &mut Harness<'static, App>) {
    for _ in 0..3 {
        step_until(h, Duration::from_secs(120), "an idle worker", |s| !s.busy);
        std::thread::sleep(Duration::from_millis(100));
    }
    h.run_steps(3);
}

/// Masks every widget whose label contains one of `texts`, from its left edge to the
/// window's right edge (the text's width changes with it).
fn mask(h: &mut Harness<'static, App>, texts: &[&str]) {
    let rects: Vec<egui::Rect> = texts
        .iter()
        .flat_map(|t| {
            h.query_all_by_label_contains(t)
                .map(|n| n.rect())
                .collect::<Vec<_>>()
        })
        .collect();
    for r in rects {
        h.mask(egui::Rect::from_x_y_ranges(r.left()..=WIDTH, r.y_range()));
    }
}

/// The harness window's width (see `common::harness_on`).
const WIDTH: f32 = 1000.0;

#[test]
fn samples_panel() {
    let mut h = harness(Samples::NAME);
    step_until(&mut h, Duration::from_secs(120), "the grid", |s| {
        s.samples.is_some()
    });
    settle(&mut h);
    mask(&mut h, &["last grid in"]);
    h.snapshot_options("samples", &options());
}

#[test]
fn interpolation_panel() {
    let mut h = harness(Interpolate::NAME);
    step_until(&mut h, Duration::from_secs(120), "the pictures", |s| {
        s.point.is_some() && s.manifold.is_some()
    });
    settle(&mut h);
    mask(&mut h, &["point in"]);
    h.snapshot_options("interpolation", &options());
}

#[test]
fn your_image_panel() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("ring.png");
    image::GrayImage::from_fn(28, 28, |x, y| {
        let r = ((x as f32 - 13.5).powi(2) + (y as f32 - 13.5).powi(2)).sqrt();
        image::Luma([if (6.0..10.0).contains(&r) { 255 } else { 0 }])
    })
    .save(&png)
    .unwrap();
    let mut h = harness(Samples::NAME);
    step_until(&mut h, Duration::from_secs(60), "the model", |s| {
        s.model.is_some()
    });
    drop_file(&mut h, &png);
    step_until(&mut h, Duration::from_secs(300), "the report", |s| {
        s.image.is_some() && s.test_scores.complete()
    });
    settle(&mut h);
    mask(&mut h, &["ring.png"]);
    h.snapshot_options("your_image", &options());
}

#[test]
fn training_panel() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Training::NAME);
    step_until(&mut h, Duration::from_secs(60), "the model", |s| {
        s.model.is_some()
    });
    {
        let setup = &mut h.state_mut().panels.training.setup;
        setup.from = StartFrom::Preset("tiny".into());
        setup.out = dir.path().join("run");
    }
    // Queued together, so the run starts paused and takes exactly three steps: the
    // curve and the grid are the same each time.
    let setup = h.state().panels.training.setup.clone();
    h.state().worker.train_in_order([
        TrainCommand::Start(setup),
        TrainCommand::Pause,
        TrainCommand::Step,
        TrainCommand::Step,
        TrainCommand::Step,
    ]);
    step_until(&mut h, Duration::from_secs(120), "three steps", |s| {
        s.training.as_ref().is_some_and(|v| {
            v.state == RunState::Paused && v.position.step == 3 && v.samples.is_some()
        })
    });
    settle(&mut h);
    mask(&mut h, &["images/s", "folder"]);
    h.snapshot_options("training", &options());
}

#[test]
fn device_panel() {
    let mut h = harness(Device::NAME);
    step_until(&mut h, Duration::from_secs(60), "the model", |s| {
        s.model.is_some()
    });
    settle(&mut h);
    mask(&mut h, &["MB in", "ms", "worker idle", "none yet"]);
    h.snapshot_options("device", &options());
}
