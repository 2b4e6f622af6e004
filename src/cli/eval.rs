//! `realnvp eval`: test bits/dim of a checkpoint in evaluation mode.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::common::{at_least_one, load_data, open};
use super::out;
use crate::model::EvalNoise;
use crate::train::evaluate;

#[derive(Args)]
pub struct EvalArgs {
    /// A checkpoint or a weights-only file.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Dataset (default: the bundled MNIST subset); its test split is used when it has
    /// one, else the whole set.
    #[arg(long)]
    data: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "seeded")]
    noise: EvalNoise,
    /// Also evaluate the training split.
    #[arg(long)]
    train: bool,
    #[arg(long, value_parser = at_least_one)]
    batch: Option<usize>,
}

pub fn run(args: EvalArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let model = open(adapter, &args.checkpoint, args.batch)?;
    let split = load_data(model.config(), args.data.as_deref())?;
    let mut sets = match &split.test {
        Some(test) => vec![("test", test)],
        None => vec![("train", &split.train)],
    };
    if args.train && split.test.is_some() {
        sets.push(("train", &split.train));
    }
    for (name, data) in sets {
        let e = evaluate(&model.plan, data, args.noise)?;
        // Finite weights can still overflow (values near 1e30): no null as a result.
        anyhow::ensure!(
            e.bits_per_dim.is_finite(),
            "{}: the model's bits/dim on the {name} split is {} (its values overflow): \
             not a usable model",
            args.checkpoint.display(),
            e.bits_per_dim
        );
        out::result(format_args!(
            "{}",
            json!({
                "split": name, "images": e.images, "bits_per_dim": e.bits_per_dim, "nll_nats": e.nll,
                "noise": args.noise.name(), "checkpoint": args.checkpoint.to_string_lossy(),
                "adapter": model.gpu().adapter_name(),
            })
        ))?;
    }
    Ok(())
}
