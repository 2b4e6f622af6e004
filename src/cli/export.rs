//! `realnvp export`: a checkpoint's weights alone (parameters and running statistics),
//! in the same names and checksum scheme: what evaluation, sampling, the app and
//! `train --init` need, without the optimizer's state.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use crate::model::state::ModelState;
use crate::{Gpu, checkpoint};

#[derive(Args)]
pub struct ExportArgs {
    /// A training checkpoint (or a weights-only file).
    #[arg(long)]
    checkpoint: PathBuf,
    /// The weights-only .safetensors file to write.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: ExportArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let same = |a: &PathBuf, b: &PathBuf| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    anyhow::ensure!(
        !same(&args.checkpoint, &args.out),
        "--out {} is the checkpoint itself: choose another file",
        args.out.display()
    );
    let source = checkpoint::load(&args.checkpoint)?;
    let state = ModelState::from_checkpoint(Gpu::new(adapter)?, &source).map_err(|e| {
        crate::Error::Checkpoint {
            path: args.checkpoint.clone(),
            detail: e.to_string(),
        }
    })?;
    let mut meta = BTreeMap::from([(
        "exported_from".to_owned(),
        args.checkpoint.display().to_string(),
    )]);
    if let Some(position) = source.meta.get("train.position") {
        meta.insert("trained".to_owned(), position.clone());
    }
    checkpoint::save(&args.out, &state.to_weights(meta)?)?;
    let bytes = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "wrote the weights of {} ({} parameters, {:.1} MB) to {}",
        args.checkpoint.display(),
        state.layout.param_count(),
        bytes as f64 / 1e6,
        args.out.display()
    );
    Ok(())
}
