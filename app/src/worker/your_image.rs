//! A user's image through the model: resized to the model's shape as the data module
//! resizes, its bits/dim split over the scales, its reconstruction f⁻¹(f(x)) and the
//! largest difference; and the test set's bits/dim, a chunk per job, for the histogram.

use std::path::Path;
use std::sync::Mutex;

use realnvp::data::folder;
use realnvp::model::EvalNoise;

use super::{WorkerState, opened};
use crate::pictures::Purpose;
use crate::protocol::{ImageReport, Status};

/// Test images scored per job: a few seconds of `mnist` on lavapipe, so that other
/// requests wait little.
const TEST_CHUNK: usize = 32;

impl WorkerState {
    pub(super) fn your_image(&mut self, path: &Path) -> anyhow::Result<ImageReport> {
        let plan = &opened(&mut self.open).point_plan;
        let [c, h, w] = plan.chw;
        let data = folder::load_files(&[path.to_owned()], c, h, w)?;
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
        let open = opened(&mut self.open);
        let plan = &open.model.plan;
        let test = open.cache.test_set(plan)?;
        let end = (done + TEST_CHUNK).min(test.len());
        let indices: Vec<usize> = (done..end).collect();
        let scores = plan.score(test, &indices, EvalNoise::Seeded)?;
        let mut status = status.lock().unwrap();
        let t = &mut status.test_scores;
        t.total = test.len();
        t.bits_per_dim.extend(scores.iter().map(|s| s.bits_per_dim));
        Ok(t.complete())
    }
}
