//! The Samples panel through egui_kittest, headless on the first adapter (lavapipe in CI),
//! with a fresh `tiny` model: the model's quality does not matter here, its pixels do.

use std::time::{Duration, Instant};

use super::common::{harness, texels_when};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use realnvp_app::panels::samples::Samples;
use realnvp_app::{App, ModelSource};

/// The texels of the sample grid the panel asks for, once shown.
fn shown_pixels(h: &mut Harness<'static, App>) -> Vec<u8> {
    texels_when(h, |app, status| {
        let (grid, picture) = status.samples.as_ref()?;
        (*grid == app.panels.samples.grid).then(|| picture.texture.clone())
    })
}

#[test]
fn moving_the_temperature_slider_changes_the_samples() {
    let mut h = harness(Samples::NAME);
    let before = shown_pixels(&mut h);
    assert!(
        before.chunks(4).any(|p| p[0] > 60) && before.chunks(4).any(|p| p[0] < 200),
        "a grid of samples, not a blank texture"
    );
    h.get_by_role_and_label(egui::accesskit::Role::Slider, "temperature")
        .set_value_accesskit(1.3);
    h.run_steps(2);
    assert!(
        (h.state().panels.samples.grid.temperature - 1.3).abs() < 1e-6,
        "the slider moved the temperature"
    );
    let after = shown_pixels(&mut h);
    assert_eq!(before.len(), after.len());
    let changed = before
        .chunks(4)
        .zip(after.chunks(4))
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        changed > before.len() / 4 / 4,
        "{changed} of {} texels changed",
        before.len() / 4
    );
}

#[test]
fn a_corrupt_file_shows_an_error_and_keeps_the_model() {
    let mut h = harness(Samples::NAME);
    shown_pixels(&mut h);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.safetensors");
    std::fs::write(&bad, b"this is not a checkpoint").unwrap();
    h.state().worker.open(ModelSource::File(bad));
    let start = Instant::now();
    loop {
        h.step();
        let status = h.state().worker.status();
        if let Some(e) = &status.open_error {
            assert!(e.contains("broken.safetensors"), "{e}");
            assert!(
                status
                    .model
                    .as_ref()
                    .is_some_and(|m| m.name.contains("new model")),
                "the first model stays open"
            );
            break;
        }
        drop(status);
        assert!(start.elapsed() < Duration::from_secs(60), "no error shown");
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(2);
    h.get_by_label_contains("broken.safetensors");
    // Samples still come from the model that stayed.
    h.state_mut().panels.samples.grid.seed = 5;
    shown_pixels(&mut h);
}
