//! `realnvp ood`: how well each out-of-distribution score tells images from another
//! dataset from the model's own test images (AUROC, one JSON line per score).

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::common::{at_least_one, load_images, open};
use super::out;
use crate::model::EvalNoise;
use crate::ood;

#[derive(Args)]
pub struct OodArgs {
    /// A checkpoint or a weights-only file.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The dataset the model was trained on: its test split is the inliers.
    #[arg(long = "in")]
    inliers: PathBuf,
    /// Another dataset: its test split is the outliers.
    #[arg(long = "out")]
    outliers: PathBuf,
    /// Only the first this many images of each.
    #[arg(long)]
    count: Option<usize>,
    #[arg(long, value_enum, default_value = "seeded")]
    noise: EvalNoise,
    #[arg(long, value_parser = at_least_one)]
    batch: Option<usize>,
}

pub fn run(args: OodArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let model = open(adapter, &args.checkpoint, args.batch)?;
    let measure = |path: &PathBuf| -> anyhow::Result<Vec<ood::Measured>> {
        let images = load_images(model.config(), &[], Some(path), args.count)?;
        out::note(format_args!(
            "{}: {} images",
            images.data.source, images.count
        ));
        Ok(ood::measure(
            &model.plan,
            &images.data,
            &images.indices(),
            args.noise,
        )?)
    };
    let (inliers, outliers) = (measure(&args.inliers)?, measure(&args.outliers)?);
    for s in ood::separate(&inliers, &outliers) {
        out::result(json!({
            "score": s.score.name(), "auroc": s.auroc,
            "in_mean": s.inlier_mean, "out_mean": s.outlier_mean,
            "in_images": inliers.len(), "out_images": outliers.len(),
            "noise": args.noise.name(),
        }))?;
    }
    Ok(())
}
