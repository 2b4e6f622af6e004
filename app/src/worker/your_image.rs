//! A user's image through the model: resized to the model's shape as the data module
//! resizes, its bits/dim split over the scales, its reconstruction f⁻¹(f(x)) and the
//! largest difference; and the test set's bits/dim, a chunk per job, for the histogram.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use realnvp::data::folder;
use realnvp::model::EvalNoise;
use realnvp::model::densities::ImageScore;

use super::{Status, WorkerState};
use crate::pictures::{Picture, Purpose};

/// What the Your image panel shows of one image.
#[derive(Clone)]
pub struct ImageReport {
    pub path: PathBuf,
    /// The image as the model sees it (resized, dequantised with u = 0.5).
    pub image: Picture,
    pub reconstruction: Picture,
    /// max |x - f⁻¹(f(x))| over the pixels, on the [0, 1] scale.
    pub max_error: f32,
    /// With the seeded noise of image 0, as `realnvp score --images FILE` scores it.
    pub score: ImageScore,
}

/// The test images' bits/dim, filled a chunk at a time.
#[derive(Clone, Default)]
pub struct TestScores {
    pub bits_per_dim: Vec<f64>,
    pub total: usize,
    /// Why the test set cannot be scored (the bundled MNIST for a 3-channel model).
    pub failed: Option<String>,
}

impl TestScores {
    pub fn complete(&self) -> bool {
        self.total > 0 && self.bits_per_dim.len() == self.total
    }

    /// Nothing more will come: complete, or failed.
    pub fn finished(&self) -> bool {
        self.complete() || self.failed.is_some()
    }
}

/// Test images scored per job: a few seconds of `mnist` on lavapipe, so that other
/// requests wait little.
const TEST_CHUNK: usize = 32;

impl WorkerState {
    pub(super) fn your_image(&mut self, path: &Path) -> anyhow::Result<ImageReport> {
        let model = self.model.as_ref().expect("jobs wait for a model");
        let [c, h, w] = model.config().chw();
        let data = folder::load_files(&[path.to_owned()], c, h, w)?;
        let plan = self.point_plan.as_ref().expect("made with the model");
        let score = plan.score(&data, &[0], EvalNoise::Seeded)?.remove(0);
        let z = plan.encode(&data, &[0])?;
        let decoded = plan.decode_latents(&z)?;
        let x: Vec<f32> = data
            .image(0)
            .iter()
            .map(|&p| (p as f32 + 0.5) / 256.0)
            .collect();
        let max_error = x
            .iter()
            .zip(&decoded)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        let image = self.pictures.show(plan, Purpose::YourImage, &x)?;
        let reconstruction = self.pictures.draw(plan, Purpose::Reconstruction, 1, &z)?;
        Ok(ImageReport {
            path: path.to_owned(),
            image,
            reconstruction,
            max_error,
            score,
        })
    }

    /// Scores the next chunk of the test set; true once all are scored.
    pub(super) fn score_test_chunk(&mut self, status: &Mutex<Status>) -> anyhow::Result<bool> {
        let done = status.lock().unwrap().test_scores.bits_per_dim.len();
        let test = self.test_set()?.clone();
        let end = (done + TEST_CHUNK).min(test.len());
        let indices: Vec<usize> = (done..end).collect();
        let plan = &self.model.as_ref().expect("jobs wait for a model").plan;
        let scores = plan.score(&test, &indices, EvalNoise::Seeded)?;
        let mut status = status.lock().unwrap();
        let t = &mut status.test_scores;
        t.total = test.len();
        t.bits_per_dim.extend(scores.iter().map(|s| s.bits_per_dim));
        Ok(t.complete())
    }
}
