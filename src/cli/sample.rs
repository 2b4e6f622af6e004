//! `realnvp sample` and `realnvp interpolate`: PNG grids of decoded latents.

use std::path::PathBuf;

use clap::Args;

use super::common::{Loaded, latents_to_tensors, load_data, open, tensors_to_latents};
use crate::data::folder;
use crate::grid::save_grid;
use crate::train::{EvalNoise, eval_noise};

#[derive(Args)]
pub struct SampleArgs {
    #[arg(long)]
    checkpoint: PathBuf,
    #[arg(long, default_value_t = 64)]
    n: usize,
    /// z ~ N(0, T^2 I).
    #[arg(long, default_value_t = 0.7)]
    temperature: f32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
}

pub fn sample(args: SampleArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(args.n > 0, "--n must be at least 1");
    let loaded = open(adapter, &args.checkpoint, None)?;
    loaded.plan.seed_sampling(args.seed)?;
    let shape = image_shape(&loaded);
    let per: usize = shape.iter().product();
    let mut images = Vec::new();
    while images.len() < args.n * per {
        loaded.plan.sample(args.temperature)?;
        images.extend(loaded.plan.read_images()?);
    }
    images.truncate(args.n * per);
    let columns = (args.n as f64).sqrt().ceil() as usize;
    save_grid(&args.out, &images, args.n, shape, columns)?;
    eprintln!(
        "wrote {} samples at T = {} to {}",
        args.n,
        args.temperature,
        args.out.display()
    );
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
    #[arg(long, default_value_t = 0.7)]
    temperature: f32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
}

/// The spec's 2-D spherical manifold through z1..z4 at angles (phi, phi2).
pub fn sphere_point(z: &[Vec<f32>; 4], phi: f64, phi2: f64) -> Vec<f32> {
    let (c, s, c2, s2) = (phi.cos(), phi.sin(), phi2.cos(), phi2.sin());
    (0..z[0].len())
        .map(|i| {
            let v = c * (c2 * z[0][i] as f64 + s2 * z[1][i] as f64)
                + s * (c2 * z[2][i] as f64 + s2 * z[3][i] as f64);
            v as f32
        })
        .collect()
}

pub fn interpolate(args: InterpolateArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(args.grid >= 2, "--grid must be at least 2");
    let loaded = open(adapter, &args.checkpoint, None)?;
    let config = loaded.state.config.clone();
    let plan = &loaded.plan;
    let shape = image_shape(&loaded);
    let corners: Vec<Vec<f32>> = if !args.images.is_empty() || args.data.is_some() {
        let mut pixels = Vec::new();
        if args.images.is_empty() {
            let split = load_data(&config, args.data.as_deref())?;
            let data = split.test.unwrap_or(split.train);
            anyhow::ensure!(data.len() >= 4, "{} has fewer than 4 images", data.source);
            data.batch(&[0, 1, 2, 3], &mut pixels);
        } else {
            let set =
                folder::load_files(&args.images, config.channels, config.height, config.width)?;
            set.batch(&[0, 1, 2, 3], &mut pixels);
        }
        anyhow::ensure!(
            plan.batch >= 4,
            "the model's batch ({}) must hold the 4 corner images",
            plan.batch
        );
        pixels.resize(plan.batch * shape.iter().product::<usize>(), 0.0);
        plan.evaluate(
            &pixels,
            &eval_noise(EvalNoise::Half, 0, plan.batch, plan.dim),
        )?;
        tensors_to_latents(&config, &plan.read_latents()?, 4)
    } else {
        plan.seed_sampling(args.seed)?;
        plan.sample(args.temperature)?;
        let n = plan.batch;
        let mut z = tensors_to_latents(&config, &plan.read_latents()?, n);
        while z.len() < 4 {
            plan.sample(args.temperature)?;
            z.extend(tensors_to_latents(&config, &plan.read_latents()?, n));
        }
        z.truncate(4);
        z
    };
    let corners: [Vec<f32>; 4] = corners.try_into().expect("four corners");
    let k = args.grid;
    let angle = |i: usize| std::f64::consts::FRAC_PI_2 * i as f64 / (k - 1) as f64;
    let points: Vec<Vec<f32>> = (0..k * k)
        .map(|i| sphere_point(&corners, angle(i / k), angle(i % k)))
        .collect();
    let mut images = Vec::new();
    for chunk in points.chunks(plan.batch) {
        plan.set_latents(&latents_to_tensors(&config, chunk, plan.batch))?;
        plan.decode()?;
        let decoded = plan.read_images()?;
        images.extend_from_slice(&decoded[..chunk.len() * shape.iter().product::<usize>()]);
    }
    save_grid(&args.out, &images, k * k, shape, k)?;
    eprintln!(
        "wrote a {k}x{k} interpolation grid to {}",
        args.out.display()
    );
    Ok(())
}

pub fn image_shape(loaded: &Loaded) -> [usize; 3] {
    let c = &loaded.state.config;
    [c.channels, c.height, c.width]
}
