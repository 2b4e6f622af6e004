//! `realnvp score`: one JSON line per image with its bits/dim, nats and how the bits
//! split over the model's parts: per-image likelihoods, for anomaly and
//! out-of-distribution checks.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::common::{at_least_one, load_images, open};
use super::out;
use crate::model::EvalNoise;

#[derive(Args)]
pub struct ScoreArgs {
    /// A checkpoint or a weights-only file.
    #[arg(long)]
    checkpoint: PathBuf,
    /// PNG/JPEG files to score (scaled to the model's size).
    #[arg(long, num_args = 1.., conflicts_with = "data")]
    images: Vec<PathBuf>,
    /// Or a dataset's test split (its training set if it has none; default: the bundled
    /// MNIST subset).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Only the first this many images of the dataset.
    #[arg(long, conflicts_with = "images")]
    count: Option<usize>,
    #[arg(long, value_enum, default_value = "seeded")]
    noise: EvalNoise,
    #[arg(long, value_parser = at_least_one)]
    batch: Option<usize>,
}

pub fn run(args: ScoreArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let model = open(adapter, &args.checkpoint, args.batch)?;
    let images = load_images(
        model.config(),
        &args.images,
        args.data.as_deref(),
        args.count,
    )?;
    let scores = model
        .plan
        .score(&images.data, &images.indices(), args.noise)?;
    for (i, s) in scores.iter().enumerate() {
        let per_scale: Vec<_> = s
            .latent
            .iter()
            .zip(&s.logdet)
            .enumerate()
            .map(|(k, (latent, logdet))| json!({ "scale": k, "latent": latent, "logdet": logdet }))
            .collect();
        let mut line = images.label(i);
        let fields = json!({
            "bits_per_dim": s.bits_per_dim, "nats": s.nats,
            "preprocessing_bits_per_dim": s.preprocessing,
            "per_scale_bits_per_dim": per_scale, "noise": args.noise.name(),
        });
        line.as_object_mut()
            .expect("a label is an object")
            .extend(fields.as_object().expect("an object").clone());
        out::result(&line)?;
    }
    Ok(())
}
