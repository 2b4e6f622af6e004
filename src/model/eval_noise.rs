//! The dequantisation noise of evaluation (docs/MODEL.md, "Evaluation noise").

use crate::philox;

/// The key of the reported test bits/dim's one fixed noise draw.
pub const EVAL_SEED: u64 = 20_170_424;

/// How evaluation dequantises (also the commands' `--noise` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalNoise {
    /// u = 0.5 for every pixel (deterministic; for comparing implementations).
    Half,
    /// One fixed-seed draw per image (the reported test bits/dim).
    Seeded,
}

impl EvalNoise {
    pub fn name(self) -> &'static str {
        match self {
            EvalNoise::Half => "half",
            EvalNoise::Seeded => "seeded",
        }
    }
}

/// The noise u of the images numbered `images` (their indices in the dataset), `dim`
/// values each. Seeded: image k's pixel j is uniform word j % 4 of Philox4x32-10 at
/// counter (j / 4, 0, k, 0) under key EVAL_SEED, as (word >> 8) * 2^-24: independent
/// of the batch, so every evaluation of an image sees the same noise.
pub fn eval_noise(noise: EvalNoise, images: &[usize], dim: usize) -> Vec<f32> {
    match noise {
        EvalNoise::Half => vec![0.5; images.len() * dim],
        EvalNoise::Seeded => images
            .iter()
            .flat_map(|&k| philox::uniform(EVAL_SEED, k as u64, 0, dim))
            .map(|u| u as f32)
            .collect(),
    }
}
