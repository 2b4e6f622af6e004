//! What the UI reads of the worker: one struct the worker fills and the panels read.

use std::path::PathBuf;
use std::time::Duration;

use super::{ImageReport, Interpolation, SampleGrid, TestScores, TrainingView};
use crate::pictures::Picture;

/// What the open model is.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    /// The model as a user knows it: "bundled mnist model", or the file as
    /// [`crate::files::shown`] names it.
    pub name: String,
    /// The file as a command typed in the working directory reaches it (none for a
    /// model that has no file).
    pub file: Option<String>,
    /// "training" (a checkpoint) or "weights" (a weights-only file).
    pub contents: &'static str,
    pub config: realnvp::model::ModelConfig,
    pub parameters: usize,
}

#[derive(Default)]
pub struct Status {
    /// The model requests run on (None until one opens).
    pub model: Option<ModelInfo>,
    /// Why the last model could not be opened (the previous one stays open).
    pub open_error: Option<String>,
    /// The sample grid shown, and its texture.
    pub samples: Option<(SampleGrid, Picture)>,
    /// From the shown grid's request to its texture.
    pub samples_latency: Option<Duration>,
    /// The grid being drawn over the shown one's texture, and its images drawn so far.
    pub samples_drawing: Option<(SampleGrid, usize)>,
    /// The interpolation point shown (one image), and its texture.
    pub point: Option<(Interpolation, Picture)>,
    /// From the shown point's request to its texture: the slider-to-image time.
    pub point_latency: Option<Duration>,
    /// The manifold grid shown, and its texture.
    pub manifold: Option<(Interpolation, Picture)>,
    /// The last sample grid whose drawing failed (its panel stops waiting for it).
    pub samples_failed: Option<SampleGrid>,
    /// The last interpolation whose point or grid failed.
    pub interpolation_failed: Option<Interpolation>,
    /// The Your image panel's image (or why it could not be read).
    pub image: Option<Result<ImageReport, String>>,
    /// The test set's bits/dim, for the Your image panel's histogram.
    pub test_scores: TestScores,
    /// The training run, if one was started (kept after it ends, to show its curves).
    pub training: Option<TrainingView>,
    /// Why the last training command (start, resume, learning rate, save as) failed.
    pub training_error: Option<String>,
    /// What the last PNG export did.
    pub exported: Option<Result<PathBuf, String>>,
    /// From the last answered request's posting to its picture being complete on the GPU.
    pub last_latency: Option<Duration>,
    /// Counts the models opened: a panel whose requests were answered for an older
    /// model asks again.
    pub generation: u64,
    pub busy: bool,
    /// Why the last job failed (the worker goes on with the next).
    pub error: Option<String>,
}
