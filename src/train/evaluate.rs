//! Bits/dim of a whole dataset in evaluation mode.

use crate::data::Dataset;
use crate::error::Result;
use crate::model::plan::{EvalNoise, Plan};

/// The dequantisation noise seed of the reported test bits/dim (one fixed draw).
pub const EVAL_SEED: u64 = 20_170_424;

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
    plan.seed_eval_noise(EVAL_SEED)?;
    let (mut bpd, mut nll) = (0.0, 0.0);
    let mut pixels = Vec::new();
    for start in (0..data.len()).step_by(plan.batch) {
        let real = (data.len() - start).min(plan.batch);
        let indices: Vec<usize> = (0..plan.batch)
            .map(|i| start + if i < real { i } else { 0 })
            .collect();
        data.batch(&indices, &mut pixels);
        let stats = plan.evaluate(&pixels, noise)?;
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
