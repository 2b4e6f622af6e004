//! `realnvp bench ...`: benchmarks printing JSON lines.

use clap::{Args, Subcommand};

use crate::bench;
use crate::runtime::Gpu;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchWhat,
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
        BenchWhat::Kernels {
            both_families,
            reps,
        } => {
            bench::kernels::run(
                &gpu,
                &bench::kernels::families(&gpu, both_families),
                reps.max(1),
            )?;
        }
    }
    Ok(())
}
