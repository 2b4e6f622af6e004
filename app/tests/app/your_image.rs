//! The Your image panel through egui_kittest: a dropped PNG shows the bits/dim that
//! `realnvp score --images FILE` gives it (the same library calls on the same file), an
//! exact reconstruction, and the test set's histogram fills.

use std::time::Duration;

use super::common::{drop_file, harness, harness_on, step_until, train_tiny};
use egui_kittest::kittest::Queryable;
use realnvp::data::folder;
use realnvp::model::{EvalNoise, Model};
use realnvp_app::ModelSource;
use realnvp_app::panels::samples::Samples;
use realnvp_app::panels::your_image::YourImage;

#[test]
fn a_dropped_image_shows_its_bits_per_dim_as_realnvp_score_does() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let trained = train_tiny(&run, 3);
    assert!(trained.status.success(), "{trained:?}");
    let checkpoint = run.join("checkpoint.safetensors");

    // A colour image of another size: converted to gray and resized as `score` does.
    let png = dir.path().join("gradient.png");
    image::RgbImage::from_fn(21, 13, |x, y| {
        image::Rgb([(x * 12) as u8, (y * 19) as u8, ((x + y) * 7) as u8])
    })
    .save(&png)
    .unwrap();

    let mut h = harness_on(ModelSource::File(checkpoint.clone()), Samples::NAME);
    step_until(&mut h, Duration::from_secs(60), "the model", |s| {
        s.model.is_some()
    });
    drop_file(&mut h, &png);
    assert!(
        h.state().tab == YourImage::NAME,
        "a dropped image opens its panel"
    );
    step_until(&mut h, Duration::from_secs(120), "the report", |s| {
        s.image.is_some()
    });
    let report = match h.state().worker.status().image.clone().unwrap() {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };

    // What `realnvp score --checkpoint C --images FILE` computes.
    let model = Model::open(h.state().gpu.clone(), &checkpoint, None).unwrap();
    let [c, hh, w] = model.config().chw();
    let data = folder::load_files(std::slice::from_ref(&png), c, hh, w).unwrap();
    let want = model.plan.score(&data, &[0], EvalNoise::Seeded).unwrap()[0].clone();
    assert!(
        (report.score.bits_per_dim - want.bits_per_dim).abs() < 1e-9,
        "the panel's {} bits/dim vs score's {}",
        report.score.bits_per_dim,
        want.bits_per_dim
    );
    assert_eq!(report.score.latent.len(), want.latent.len());
    assert!(
        report.max_error < 1e-3,
        "reconstruction error {}",
        report.max_error
    );
    h.run_steps(2);
    h.get_by_label(&format!("{:.4} bits/dim", want.bits_per_dim));

    // The texture shows the resized image: its texels are the file's gray values.
    let texels = h.state().gpu.read_texture(&report.image.texture).unwrap();
    let gray: Vec<u8> = data.image(0).to_vec();
    let worst = texels
        .chunks(4)
        .zip(&gray)
        .map(|(t, &g)| t[0].abs_diff(g))
        .max()
        .unwrap();
    assert!(
        worst <= 1,
        "the shown image differs from the file by {worst}"
    );

    step_until(
        &mut h,
        Duration::from_secs(300),
        "the test set's scores",
        |s| s.test_scores.complete(),
    );
    h.run_steps(2);
    h.get_by_label_contains("test images:");
}

#[test]
fn an_image_too_narrow_to_resize_shows_why_and_the_worker_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(YourImage::NAME);
    step_until(&mut h, Duration::from_secs(60), "the model", |s| {
        s.model.is_some()
    });
    // Once 1.3 GB to resize, and a panic that ended the worker with every panel
    // waiting.
    for (width, height, why) in [
        (1, 1_000_000, "its aspect ratio 1:1000000 is past 1:64"),
        (10_000_000, 1, "its aspect ratio 10000000:1 is past 64:1"),
    ] {
        let png = dir.path().join(format!("{width}x{height}.png"));
        image::GrayImage::new(width, height).save(&png).unwrap();
        drop_file(&mut h, &png);
        step_until(
            &mut h,
            Duration::from_secs(60),
            why,
            |s| matches!(&s.image, Some(Err(e)) if e.contains(why)),
        );
        h.run_steps(2);
        h.get_by_label_contains(why);
    }
    let fine = dir.path().join("fine.png");
    image::GrayImage::from_fn(9, 7, |x, y| image::Luma([(x * 20 + y * 9) as u8]))
        .save(&fine)
        .unwrap();
    drop_file(&mut h, &fine);
    step_until(&mut h, Duration::from_secs(120), "the report", |s| {
        matches!(&s.image, Some(Ok(_)))
    });
}
