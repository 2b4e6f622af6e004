//! Bits/dim of a whole dataset in evaluation mode, and the dequantisation noise that
//! evaluation uses.

use crate::data::Dataset;
use crate::error::Result;
use crate::model::plan::Plan;

/// The key of the reported test bits/dim's one fixed noise draw.
pub const EVAL_SEED: u64 = 20_170_424;

/// How evaluation dequantises: u = 0.5 for every pixel, or one fixed draw per image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalNoise {
    Half,
    Seeded,
}

/// The noise u of `count` images starting at image `first` of a dataset, `dim` values
/// each. Seeded: image k's pixel j is uniform word j % 4 of Philox4x32-10 at counter
/// (j / 4, 0, k, 0) under key EVAL_SEED, as (word >> 8) * 2^-24: independent of the
/// batch size, so every evaluation of an image sees the same noise.
pub fn eval_noise(noise: EvalNoise, first: usize, count: usize, dim: usize) -> Vec<f32> {
    match noise {
        EvalNoise::Half => vec![0.5; count * dim],
        EvalNoise::Seeded => (first..first + count)
            .flat_map(|k| crate::cpu::rng::uniform(EVAL_SEED, k as u64, 0, dim))
            .map(|u| u as f32)
            .collect(),
    }
}

/// Mean bits/dim (and mean NLL in nats per image) over every image of `data`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub bits_per_dim: f64,
    pub nll: f64,
    pub images: usize,
}

/// Runs the plan over `data` in batches; the last batch is padded with repeats of its
/// first image and only real images count (evaluation-mode samples are independent).
pub fn evaluate(plan: &Plan, data: &Dataset, noise: EvalNoise) -> Result<Evaluation> {
    let (mut bpd, mut nll) = (0.0, 0.0);
    let mut pixels = Vec::new();
    for start in (0..data.len()).step_by(plan.batch) {
        let real = (data.len() - start).min(plan.batch);
        let indices: Vec<usize> = (0..plan.batch)
            .map(|i| start + if i < real { i } else { 0 })
            .collect();
        data.batch(&indices, &mut pixels);
        let mut u = eval_noise(noise, start, real, plan.dim);
        u.resize(plan.batch * plan.dim, 0.5);
        let stats = plan.evaluate(&pixels, &u)?;
        for i in 0..real {
            bpd += stats.bits_per_dim(i, plan.dim);
            nll += stats.nll(i, plan.dim);
        }
    }
    let images = data.len();
    Ok(Evaluation {
        bits_per_dim: bpd / images as f64,
        nll: nll / images as f64,
        images,
    })
}
