//! What the window and the GPU worker say to each other: the requests the panels post,
//! the status they read and the reports in it. Both sides import this module; neither
//! imports the other's internals (the worker never sees the window shell or a panel).

mod status;
mod training;
mod your_image;

use std::path::PathBuf;

use realnvp::model::ModelConfig;

pub use status::{ModelInfo, Status};
pub use training::{RunState, StartFrom, TrainCommand, TrainSetup, TrainingView};
pub use your_image::{ImageReport, TestScores};

/// Where a model comes from.
#[derive(Clone, Debug)]
pub enum ModelSource {
    /// A checkpoint or weights-only file.
    File(PathBuf),
    /// A freshly initialised model of a config, from a seed (tests, new runs).
    New(ModelConfig, u64),
}

/// A sample grid: side x side samples of `seed` at `temperature`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleGrid {
    pub seed: u64,
    pub temperature: f32,
    pub side: usize,
}

/// Where an interpolation corner's latent comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Corner {
    /// Prior draw `index` of `seed` at `temperature`.
    Prior {
        seed: u64,
        index: usize,
        temperature: f32,
    },
    /// The encoding of test image `index` of the bundled dataset.
    Dataset { index: usize },
    /// The encoding of a PNG or JPEG file, resized to the model's shape.
    File(PathBuf),
}

/// The spherical interpolation's corners and where on the sphere to look.
#[derive(Clone, Debug, PartialEq)]
pub struct Interpolation {
    pub corners: [Corner; 4],
    /// φ and φ' in radians, 0 to π/2.
    pub phi: f64,
    pub phi2: f64,
    /// Points per side of the manifold grid.
    pub side: usize,
}

/// Pictures that can be saved as a PNG.
#[derive(Clone, Debug, PartialEq)]
pub enum Export {
    Samples(SampleGrid),
    Manifold(Interpolation),
}
