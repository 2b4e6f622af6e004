//! `realnvp encode` / `realnvp decode`: images to latent vectors (a safetensors file with
//! tensor `z` [N, D]: per image z_0 .. z_{L-1} flattened CHW and concatenated) and back.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use super::common::{latents_to_tensors, load_data, open, tensors_to_latents};
use super::sample::image_shape;
use crate::checkpoint::{self, Checkpoint, TensorData};
use crate::data::folder;
use crate::grid::save_grid;
use crate::train::{EvalNoise, eval_noise};

#[derive(Args)]
pub struct EncodeArgs {
    #[arg(long)]
    checkpoint: PathBuf,
    /// PNG/JPEG files to encode.
    #[arg(long, num_args = 1.., conflicts_with = "data")]
    images: Vec<PathBuf>,
    /// Or the first --count test images of a dataset (default: the bundled MNIST).
    #[arg(long)]
    data: Option<PathBuf>,
    #[arg(long, default_value_t = 16)]
    count: usize,
    /// Output .safetensors file.
    #[arg(long)]
    out: PathBuf,
}

pub fn encode(args: EncodeArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let loaded = open(adapter, &args.checkpoint, None)?;
    let config = loaded.state.config.clone();
    let data = if args.images.is_empty() {
        let split = load_data(&config, args.data.as_deref())?;
        split.test.unwrap_or(split.train)
    } else {
        folder::load_files(&args.images, config.channels, config.height, config.width)?
    };
    let count = if args.images.is_empty() {
        args.count.min(data.len())
    } else {
        data.len()
    };
    anyhow::ensure!(count > 0, "nothing to encode");
    let plan = &loaded.plan;
    let mut z = Vec::new();
    let mut pixels = Vec::new();
    for start in (0..count).step_by(plan.batch) {
        let real = (count - start).min(plan.batch);
        let indices: Vec<usize> = (0..plan.batch).map(|i| start + i.min(real - 1)).collect();
        data.batch(&indices, &mut pixels);
        plan.evaluate(
            &pixels,
            &eval_noise(EvalNoise::Half, 0, plan.batch, plan.dim),
        )?;
        z.extend(tensors_to_latents(&config, &plan.read_latents()?, real));
    }
    let d = config.dim();
    let mut tensors = BTreeMap::new();
    tensors.insert(
        "z".to_owned(),
        TensorData {
            shape: vec![count, d],
            data: z.concat(),
        },
    );
    let meta = BTreeMap::from([("source".to_owned(), data.source.clone())]);
    checkpoint::save(
        &args.out,
        &Checkpoint {
            config_json: config.to_json(),
            meta,
            tensors,
        },
    )?;
    eprintln!(
        "encoded {count} images (u = 0.5 dequantisation) into {}",
        args.out.display()
    );
    Ok(())
}

#[derive(Args)]
pub struct DecodeArgs {
    #[arg(long)]
    checkpoint: PathBuf,
    /// A file written by `realnvp encode` (tensor `z` [N, D]).
    #[arg(long)]
    latents: PathBuf,
    /// Output PNG grid.
    #[arg(long)]
    out: PathBuf,
}

pub fn decode(args: DecodeArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let loaded = open(adapter, &args.checkpoint, None)?;
    let config = loaded.state.config.clone();
    let file = checkpoint::load(&args.latents)?;
    anyhow::ensure!(
        serde_json::from_str::<crate::model::ModelConfig>(&file.config_json)
            .ok()
            .as_ref()
            == Some(&config),
        "{} was encoded by a model with another config ({}); decode it with that model",
        args.latents.display(),
        file.config_json.replace('\n', " ")
    );
    let z = file
        .tensors
        .get("z")
        .ok_or_else(|| anyhow::anyhow!("{}: no tensor 'z'", args.latents.display()))?;
    let d = config.dim();
    anyhow::ensure!(
        z.shape.len() == 2 && z.shape[1] == d && z.shape[0] > 0,
        "{}: z has shape {:?}, the model needs [N, {d}]",
        args.latents.display(),
        z.shape
    );
    let vectors: Vec<Vec<f32>> = z.data.chunks(d).map(<[f32]>::to_vec).collect();
    let plan = &loaded.plan;
    let shape = image_shape(&loaded);
    let per: usize = shape.iter().product();
    let mut images = Vec::new();
    for chunk in vectors.chunks(plan.batch) {
        plan.set_latents(&latents_to_tensors(&config, chunk, plan.batch))?;
        plan.decode()?;
        images.extend_from_slice(&plan.read_images()?[..chunk.len() * per]);
    }
    let n = vectors.len();
    save_grid(
        &args.out,
        &images,
        n,
        shape,
        (n as f64).sqrt().ceil() as usize,
    )?;
    eprintln!("decoded {n} latents into {}", args.out.display());
    Ok(())
}
