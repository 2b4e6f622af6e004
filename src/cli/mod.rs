//! The `realnvp` command line.

mod adapters;
mod bench;
mod codec;
mod common;
mod eval;
mod export;
mod ood;
mod out;
mod outputs;
mod sample;
mod score;
mod train;

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
    /// Train a model headless (also `realnvp --train`).
    Train(Box<train::TrainArgs>),
    /// Bits/dim of a checkpoint on a dataset, in evaluation mode.
    Eval(eval::EvalArgs),
    /// A PNG grid of samples.
    Sample(sample::SampleArgs),
    /// A PNG grid of the spherical 2-D latent manifold through four latents.
    Interpolate(sample::InterpolateArgs),
    /// Images to latent vectors (safetensors).
    Encode(codec::EncodeArgs),
    /// Latent vectors to images (PNG grid).
    Decode(codec::DecodeArgs),
    /// Per-image bits/dim, nats and their split over the scales (JSON lines).
    Score(score::ScoreArgs),
    /// How well each out-of-distribution score tells another dataset's test images from
    /// the model's own (AUROC, JSON lines).
    Ood(ood::OodArgs),
    /// A checkpoint's weights alone (no optimizer state), for sharing and `train --init`.
    Export(export::ExportArgs),
    /// Benchmarks as JSON lines: the model (default) or `kernels`.
    Bench(bench::BenchArgs),
}

/// Runs the command line `args` (program name first) and returns its exit status: a
/// closed stdout ends it quietly with success, any other error is reported with status
/// 1. The `realnvp` binary and the desktop app's headless `--train` both end here.
pub fn main(args: Vec<std::ffi::OsString>) -> std::process::ExitCode {
    out::exit(run_from(args))
}

/// Runs the command line given as `args` (program name first).
fn run_from(args: Vec<std::ffi::OsString>) -> anyhow::Result<()> {
    let cli = Cli::parse_from(train_flag_as_command(args));
    let adapter = cli.adapter.as_deref();
    match cli.command {
        Command::Adapters => adapters::run(adapter),
        Command::Train(args) => train::run(*args, adapter),
        Command::Eval(args) => eval::run(args, adapter),
        Command::Sample(args) => sample::sample(args, adapter),
        Command::Interpolate(args) => sample::interpolate(args, adapter),
        Command::Encode(args) => codec::encode(args, adapter),
        Command::Decode(args) => codec::decode(args, adapter),
        Command::Score(args) => score::run(args, adapter),
        Command::Ood(args) => ood::run(args, adapter),
        Command::Export(args) => export::run(args, adapter),
        Command::Bench(args) => bench::run(args, adapter),
    }
}

/// `realnvp [--adapter NAME] --train ...` is the headless mode's other spelling of
/// `realnvp train ...`: the flag counts only where the command name would stand.
fn train_flag_as_command(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    if let Some(i) = train_flag_position(&args) {
        args[i] = "train".into();
    }
    args
}

/// Whether `args` (program name first) ask for headless training with `--train` in the
/// command's position: the desktop app hands such a command line to [`main`].
pub fn wants_training(args: &[std::ffi::OsString]) -> bool {
    train_flag_position(args).is_some()
}

fn train_flag_position(args: &[std::ffi::OsString]) -> Option<usize> {
    let mut i = 1;
    while i < args.len() {
        match args[i].to_str() {
            Some("--adapter") => i += 2,
            Some(a) if a.starts_with("--adapter=") => i += 1,
            _ => break,
        }
    }
    (i < args.len() && args[i] == "--train").then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<std::ffi::OsString> {
        s.split(' ').map(Into::into).collect()
    }

    #[test]
    fn train_flag_means_the_train_command_only_in_command_position() {
        assert_eq!(
            train_flag_as_command(words("realnvp --train --epochs 1")),
            words("realnvp train --epochs 1")
        );
        assert_eq!(
            train_flag_as_command(words("realnvp --adapter gpu --train")),
            words("realnvp --adapter gpu train")
        );
        assert_eq!(
            train_flag_as_command(words("realnvp eval --train")),
            words("realnvp eval --train")
        );
    }
}
