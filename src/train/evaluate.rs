//! Bits/dim of a whole dataset in evaluation mode: the mean of its images' scores.

use crate::data::Dataset;
use crate::error::Result;
use crate::model::{EvalNoise, Plan};

/// Mean bits/dim (and mean NLL in nats per image) over every image of `data`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub bits_per_dim: f64,
    pub nll: f64,
    pub images: usize,
}

/// The mean of [`Plan::score`] over every image of `data`.
pub fn evaluate(plan: &Plan, data: &Dataset, noise: EvalNoise) -> Result<Evaluation> {
    let all: Vec<usize> = (0..data.len()).collect();
    let scores = plan.score(data, &all, noise)?;
    let images = scores.len();
    let mean =
        |f: fn(&crate::model::ImageScore) -> f64| scores.iter().map(f).sum::<f64>() / images as f64;
    Ok(Evaluation {
        bits_per_dim: mean(|s| s.bits_per_dim),
        nll: mean(|s| s.nats),
        images,
    })
}
