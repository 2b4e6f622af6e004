//! The Your image panel's reports: one image through the model, and the test set's
//! bits/dim it is compared with.

use std::path::PathBuf;

use realnvp::model::densities::ImageScore;

use crate::pictures::Picture;

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
