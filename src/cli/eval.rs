//! `realnvp eval`: test bits/dim of a checkpoint in evaluation mode.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::json;

use super::common::{load_data, open};
use crate::train::EvalNoise;
use crate::train::evaluate;

#[derive(Clone, Copy, ValueEnum)]
enum Noise {
    /// One fixed-seed draw of dequantisation noise (the reported test bits/dim).
    Seeded,
    /// u = 0.5 for every pixel (deterministic; for comparing implementations).
    Half,
}

#[derive(Args)]
pub struct EvalArgs {
    #[arg(long)]
    checkpoint: PathBuf,
    /// Dataset (default: the bundled MNIST subset); its test split is used when it has
    /// one, else the whole set.
    #[arg(long)]
    data: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "seeded")]
    noise: Noise,
    /// Also evaluate the training split.
    #[arg(long)]
    train: bool,
    #[arg(long)]
    batch: Option<usize>,
}

pub fn run(args: EvalArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let loaded = open(adapter, &args.checkpoint, args.batch)?;
    let split = load_data(&loaded.state.config, args.data.as_deref())?;
    let noise = match args.noise {
        Noise::Seeded => EvalNoise::Seeded,
        Noise::Half => EvalNoise::Half,
    };
    let mut sets = match &split.test {
        Some(test) => vec![("test", test)],
        None => vec![("train", &split.train)],
    };
    if args.train && split.test.is_some() {
        sets.push(("train", &split.train));
    }
    for (name, data) in sets {
        let e = evaluate(&loaded.plan, data, noise)?;
        println!(
            "{}",
            json!({
                "split": name, "images": e.images, "bits_per_dim": e.bits_per_dim, "nll_nats": e.nll,
                "noise": match args.noise { Noise::Seeded => "seeded", Noise::Half => "half" },
                "checkpoint": args.checkpoint, "adapter": loaded.gpu.adapter_name(),
            })
        );
    }
    Ok(())
}
