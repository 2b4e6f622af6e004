//! `realnvp encode` / `realnvp decode`: images to latent vectors (a safetensors file with
//! tensor `z` [N, D]: per image z_0 .. z_{L-1} flattened CHW and concatenated) and back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;

use super::common::{load_images, open};
use super::out;
use super::outputs::{not_an_input, replaceable, replaceable_png};
use super::sample::MAX_IMAGES;
use crate::checkpoint::{self, Checkpoint, TensorData};
use crate::grid::{grid_columns, save_grid};

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
    /// Replace --out even if it holds something other than latents.
    #[arg(long)]
    force: bool,
}

pub fn encode(args: EncodeArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let inputs: Vec<&Path> = std::iter::once(args.checkpoint.as_path())
        .chain(args.images.iter().map(PathBuf::as_path))
        .collect();
    not_an_input(&args.out, &inputs)?;
    replaceable(&args.out, "latents", args.force)?;
    let model = open(adapter, &args.checkpoint, None)?;
    let config = model.config();
    let images = load_images(config, &args.images, args.data.as_deref(), Some(args.count))?;
    let z = model.plan.encode(&images.data, &images.indices())?;
    let mut tensors = BTreeMap::new();
    tensors.insert(
        "z".to_owned(),
        TensorData {
            shape: vec![z.len(), config.dim()],
            data: z.concat(),
        },
    );
    let meta = BTreeMap::from([("source".to_owned(), images.data.source.clone())]);
    checkpoint::save(
        &args.out,
        &Checkpoint {
            config_json: config.to_json(),
            meta,
            tensors,
        },
    )?;
    out::note(format_args!(
        "encoded {} images (u = 0.5 dequantisation) into {}",
        z.len(),
        args.out.display()
    ));
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
    /// Replace --out even if it holds something other than a PNG.
    #[arg(long)]
    force: bool,
}

pub fn decode(args: DecodeArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    not_an_input(&args.out, &[&args.checkpoint, &args.latents])?;
    replaceable_png(&args.out, args.force)?;
    let model = open(adapter, &args.checkpoint, None)?;
    let config = model.config();
    // A latents file is stored as a checkpoint is; the error should say which it is.
    let file = checkpoint::load(&args.latents).map_err(|e| match e {
        crate::Error::Checkpoint { path, detail } => {
            anyhow::anyhow!("latents file '{}': {detail}", path.display())
        }
        e => e.into(),
    })?;
    anyhow::ensure!(
        serde_json::from_str::<crate::model::ModelConfig>(&file.config_json)
            .ok()
            .as_ref()
            == Some(config),
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
    anyhow::ensure!(
        z.shape[0] <= MAX_IMAGES,
        "{} holds {} latent vectors, more than one PNG grid holds ({MAX_IMAGES}): decode \
         at most {MAX_IMAGES} at a time (encode fewer images per file)",
        args.latents.display(),
        z.shape[0]
    );
    if let Some(i) = z.data.iter().position(|v| !v.is_finite()) {
        anyhow::bail!(
            "{}: latent {} holds {} at element {}: every value must be finite",
            args.latents.display(),
            i / d,
            z.data[i],
            i % d
        );
    }
    let vectors: Vec<Vec<f32>> = z.data.chunks(d).map(<[f32]>::to_vec).collect();
    let images = model.plan.decode_latents(&vectors)?;
    let n = vectors.len();
    save_grid(&args.out, &images, n, config.chw(), grid_columns(n))?;
    out::note(format_args!(
        "decoded {n} latents into {}",
        args.out.display()
    ));
    Ok(())
}
