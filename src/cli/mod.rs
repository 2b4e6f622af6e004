//! The `realnvp` command line.

mod adapters;
mod bench;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "realnvp",
    version,
    about = "Real NVP normalizing flows on any GPU (wgpu + WGSL)"
)]
struct Cli {
    /// Use the first adapter whose name contains this (also $REALNVP_ADAPTER).
    #[arg(long, global = true)]
    adapter: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the GPU adapters wgpu finds, best first.
    Adapters,
    /// Benchmarks, printed as JSON lines naming the adapter.
    Bench(bench::BenchArgs),
}

pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Adapters => adapters::run(cli.adapter.as_deref()),
        Command::Bench(args) => bench::run(args, cli.adapter.as_deref()),
    }
}
