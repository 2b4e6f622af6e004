//! `realnvp sample` and `realnvp interpolate`: PNG grids of decoded latents.

use std::path::PathBuf;

use clap::Args;

use super::common::{load_images, open};
use super::common::{seed, temperature};
use super::out;
use super::outputs::{not_an_input, replaceable_png};
use crate::grid::{grid_columns, save_grid};
use crate::model::latent::{at_temperature, sphere_grid};

/// The most images one PNG grid holds (`sample`, `decode`): a 64 x 64 grid, minutes of
/// work on a CPU adapter already (a larger request would run silently for longer).
pub(super) const MAX_IMAGES: usize = 4096;
const MAX_GRID: usize = 64;

#[derive(Args)]
pub struct SampleArgs {
    #[arg(long)]
    checkpoint: PathBuf,
    #[arg(long, default_value_t = 64)]
    n: usize,
    /// z ~ N(0, T^2 I).
    #[arg(long, default_value_t = 0.7, value_parser = temperature, allow_negative_numbers = true)]
    temperature: f32,
    #[arg(long, default_value_t = 0, value_parser = seed, allow_negative_numbers = true)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
    /// Replace --out even if it holds something other than a PNG.
    #[arg(long)]
    force: bool,
}

pub fn sample(args: SampleArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=MAX_IMAGES).contains(&args.n),
        "--n must be from 1 to {MAX_IMAGES} (one PNG grid), not {}",
        args.n
    );
    not_an_input(&args.out, &[&args.checkpoint])?;
    replaceable_png(&args.out, args.force)?;
    let model = open(adapter, &args.checkpoint, None)?;
    let images = model
        .plan
        .sample_images(args.seed, args.temperature, args.n)?;
    save_grid(
        &args.out,
        &images,
        args.n,
        model.config().chw(),
        grid_columns(args.n),
    )?;
    out::note(format_args!(
        "wrote {} samples at T = {} to {}",
        args.n,
        args.temperature,
        args.out.display()
    ));
    Ok(())
}

#[derive(Args)]
pub struct InterpolateArgs {
    #[arg(long)]
    checkpoint: PathBuf,
    /// Four images whose encodings are the corners z(1)..z(4); without them the corners
    /// are prior samples at --temperature.
    #[arg(long, num_args = 4)]
    images: Vec<PathBuf>,
    /// Or the first four test images of a dataset (default: none, prior samples).
    #[arg(long, conflicts_with = "images")]
    data: Option<PathBuf>,
    /// Points per side of the grid.
    #[arg(long, default_value_t = 8)]
    grid: usize,
    #[arg(long, default_value_t = 0.7, value_parser = temperature, allow_negative_numbers = true)]
    temperature: f32,
    #[arg(long, default_value_t = 0, value_parser = seed, allow_negative_numbers = true)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
    /// Replace --out even if it holds something other than a PNG.
    #[arg(long)]
    force: bool,
}

pub fn interpolate(args: InterpolateArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(
        (2..=MAX_GRID).contains(&args.grid),
        "--grid must be from 2 to {MAX_GRID} ({} images in one PNG), not {}",
        MAX_GRID * MAX_GRID,
        args.grid
    );
    let inputs: Vec<&std::path::Path> = std::iter::once(args.checkpoint.as_path())
        .chain(args.images.iter().map(PathBuf::as_path))
        .collect();
    not_an_input(&args.out, &inputs)?;
    replaceable_png(&args.out, args.force)?;
    let model = open(adapter, &args.checkpoint, None)?;
    let plan = &model.plan;
    let corners = if !args.images.is_empty() || args.data.is_some() {
        let images = load_images(model.config(), &args.images, args.data.as_deref(), Some(4))?;
        anyhow::ensure!(
            images.count == 4,
            "{} has fewer than 4 images",
            images.data.source
        );
        plan.encode(&images.data, &images.indices())?
    } else {
        plan.prior_latents(args.seed, 4)
            .iter()
            .map(|z| at_temperature(z, args.temperature))
            .collect()
    };
    let corners: [Vec<f32>; 4] = corners.try_into().expect("four corners");
    let k = args.grid;
    let images = plan.decode_latents(&sphere_grid(&corners, k))?;
    save_grid(&args.out, &images, k * k, model.config().chw(), k)?;
    out::note(format_args!(
        "wrote a {k}x{k} interpolation grid to {}",
        args.out.display()
    ));
    Ok(())
}
