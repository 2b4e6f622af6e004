//! `realnvp bench ...`: benchmarks printing JSON lines.

use clap::{Args, Subcommand, ValueEnum};

use crate::bench;
use crate::model::ModelConfig;
use crate::model::plan::Memory;
use crate::runtime::Gpu;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: Option<BenchWhat>,
    /// The model bench's preset.
    #[arg(long, default_value = "mnist")]
    preset: String,
    /// Timed training steps and samplings (after a warm-up).
    #[arg(long, default_value_t = 3)]
    steps: usize,
    /// How the backward gets layer inputs.
    #[arg(long, value_enum, default_value = "recompute")]
    memory: MemoryArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum MemoryArg {
    Recompute,
    Store,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// conv2d forward / grad input / grad weight GFLOP/s at the mnist preset's shapes,
    /// and the best WGSL matmul as the ceiling.
    Kernels {
        /// Also time the kernel family not chosen for this adapter.
        #[arg(long)]
        both_families: bool,
        /// Timed repetitions per figure (after one untimed run).
        #[arg(long, default_value_t = 3)]
        reps: u32,
    },
}

pub fn run(args: BenchArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let gpu = Gpu::new(adapter)?;
    match args.what {
        Some(BenchWhat::Kernels {
            both_families,
            reps,
        }) => {
            bench::kernels::run(
                &gpu,
                &bench::kernels::families(&gpu, both_families),
                reps.max(1),
            )?;
        }
        None => {
            let memory = match args.memory {
                MemoryArg::Recompute => Memory::Recompute,
                MemoryArg::Store => Memory::Store,
            };
            bench::model::run(
                gpu,
                ModelConfig::preset(&args.preset)?,
                memory,
                args.steps.max(1),
            )?;
        }
    }
    Ok(())
}
