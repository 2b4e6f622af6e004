//! The Interpolation panel through egui_kittest on a fresh `tiny` model: φ = φ' = 0
//! shows corner 1 exactly, and moving φ changes the image; on a fresh `mnist` model, a
//! φ move is answered while the manifold grid is still being drawn.

use std::time::Duration;

use super::common::{harness, harness_on, step_until, texels_when, tiny_model};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use realnvp::model::ModelConfig;
use realnvp::model::latent::at_temperature;
use realnvp::ops::display::Layout;
use realnvp_app::panels::interpolation::Interpolate;
use realnvp_app::{App, ModelSource};

/// The texels of the interpolation point the panel asks for, once shown.
fn point_pixels(h: &mut Harness<'static, App>) -> Vec<u8> {
    texels_when(h, |app, status| {
        let (at, picture) = status.point.as_ref()?;
        (*at == app.panels.interpolation.at).then(|| picture.texture.clone())
    })
}

#[test]
fn phi_zero_shows_corner_one_and_moving_phi_changes_the_image() {
    let mut h = harness(Interpolate::NAME);
    let at_zero = point_pixels(&mut h);

    // Corner 1 is prior draw 0 of seed 0 at T = 0.7, decoded by the same weights.
    let gpu = h.state().gpu.clone();
    let model = tiny_model(gpu);
    let z1 = at_temperature(&model.plan.prior_latents(0, 4)[0], 0.7);
    let image: Vec<f64> = model
        .plan
        .decode_latents(&[z1])
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect();
    let layout = Layout {
        columns: 1,
        tiles: 1,
        tile: [8, 8],
        gap: 0,
    };
    let mut want = vec![0u8; 8 * 8 * 4];
    realnvp::cpu::display::tiles(&mut want, &image, [1, 1, 8, 8], 0, &layout);
    let worst = at_zero
        .iter()
        .zip(&want)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(
        worst <= 1,
        "φ = φ' = 0 is not corner 1: a texel differs by {worst}"
    );

    h.get_by_role_and_label(egui::accesskit::Role::Slider, "φ")
        .set_value_accesskit(1.2);
    h.run_steps(2);
    assert!(
        (h.state().panels.interpolation.at.phi - 1.2).abs() < 1e-9,
        "the slider moved φ"
    );
    let moved = point_pixels(&mut h);
    let changed = moved
        .chunks(4)
        .zip(at_zero.chunks(4))
        .filter(|(a, b)| a != b)
        .count();
    assert!(changed > 8, "only {changed} of 64 texels changed");
}

#[test]
fn moving_phi_does_not_wait_for_the_manifold_being_drawn() {
    // An `mnist` manifold of 12 x 12 takes many times one image's decode on any adapter.
    let mnist = ModelSource::New(ModelConfig::preset("mnist").unwrap(), 0);
    let mut h = harness_on(mnist, Interpolate::NAME);
    h.state_mut().panels.interpolation.at.side = 12;
    let limit = Duration::from_secs(120);
    step_until(
        &mut h,
        limit,
        "the first point, the manifold started",
        |s| s.point.is_some() && s.busy,
    );
    h.state_mut().panels.interpolation.at.phi = 0.9;
    let moved = h.state().panels.interpolation.at.clone();
    step_until(&mut h, limit, "the point at the new φ", |s| {
        s.point.as_ref().is_some_and(|(at, _)| *at == moved)
    });
    assert!(
        h.state().worker.status().manifold.is_none(),
        "the point waited for the whole manifold"
    );
}

#[test]
fn a_corner_that_cannot_be_read_shows_why_and_nothing_waits_for_it() {
    let mut h = harness(Interpolate::NAME);
    let missing = std::path::PathBuf::from("no-such-corner.png");
    h.state_mut().panels.interpolation.at.corners[0] = realnvp_app::protocol::Corner::File(missing);
    step_until(&mut h, Duration::from_secs(60), "the error", |s| {
        s.error
            .as_ref()
            .is_some_and(|e| e.contains("no-such-corner.png"))
            && s.interpolation_failed.is_some()
    });
    h.run_steps(3);
    // The corner's file button and the error that names the file.
    assert_eq!(
        h.query_all_by_label_contains("no-such-corner.png").count(),
        2
    );
    assert!(
        h.query_by_label_contains("decoding the").is_none(),
        "a failed request is not shown as still decoding"
    );
}
