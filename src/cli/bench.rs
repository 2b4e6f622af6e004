//! `realnvp bench ...`: benchmarks printing JSON lines.

use clap::{Args, Subcommand};

use super::common::at_least_one;
use super::out;
use crate::bench;
use crate::model::ModelConfig;
use crate::model::plan::Memory;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: Option<BenchWhat>,
    /// The model bench's preset.
    #[arg(long, default_value = "mnist")]
    preset: String,
    /// Timed training steps and samplings (after a warm-up), at least 1.
    #[arg(long, default_value_t = 3, value_parser = at_least_one)]
    steps: usize,
    /// Also time every dispatch of one training step and one sampling pass, alone, and
    /// print the GPU time per op kind and entry point (JSON lines on stdout, a table on
    /// stderr).
    #[arg(long)]
    profile: bool,
    /// How the backward gets layer inputs.
    #[arg(long, value_enum, default_value = "recompute")]
    memory: Memory,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// The fma roof, then matmul and every conv2d variant's forward / grad input / grad
    /// weight GFLOP/s at the mnist preset's shapes, each as a fraction of the roof.
    Kernels {
        /// Timed repetitions per figure (after one untimed run), at least 1.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
        reps: u32,
    },
}

pub fn run(args: BenchArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let gpu = super::common::gpu(adapter)?;
    match args.what {
        Some(BenchWhat::Kernels { reps }) => {
            bench::kernels::run(&gpu, reps, &mut |line| out::result(line))?;
        }
        None => {
            let memory = args.memory;
            let config = ModelConfig::preset(&args.preset)?;
            // The profile goes second so that the plain run's memory figure counts
            // every buffer it creates (the pool would lend it the profile's).
            for line in bench::model::run(gpu.clone(), config.clone(), memory, args.steps)? {
                out::result(line)?;
            }
            if args.profile {
                for line in bench::model::profile(gpu, config, memory)? {
                    out::result(line)?;
                }
            }
        }
    }
    Ok(())
}
