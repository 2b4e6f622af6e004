//! `realnvp export`: a checkpoint's weights alone (parameters and running statistics),
//! in the same names and checksum scheme: what evaluation, sampling, the app and
//! `train --init` need, without the optimizer's state.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use clap::Args;

use super::out;
use super::outputs::{not_an_input, replaceable};
use crate::model::saved::Contents;
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
    /// Replace --out even if it holds something other than weights.
    #[arg(long)]
    force: bool,
}

pub fn run(args: ExportArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    not_an_input(&args.out, &[&args.checkpoint])?;
    replaceable(&args.out, Contents::Weights.key(), args.force)?;
    let source = checkpoint::load(&args.checkpoint)?;
    let state = ModelState::from_checkpoint(Gpu::new(adapter)?, &source).map_err(|e| {
        crate::Error::Checkpoint {
            path: args.checkpoint.clone(),
            detail: e.to_string(),
        }
    })?;
    let mut meta = BTreeMap::from([("exported_from".to_owned(), run_and_file(&args.checkpoint))]);
    if let Some(position) = source.meta.get("train.position") {
        meta.insert("trained".to_owned(), position.clone());
    }
    checkpoint::save(&args.out, &state.to_weights(meta)?)?;
    let bytes = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    out::note(format_args!(
        "wrote the weights of {} ({} parameters, {:.1} MB) to {}",
        args.checkpoint.display(),
        state.layout.param_count(),
        bytes as f64 / 1e6,
        args.out.display()
    ));
    Ok(())
}

/// "RUN/checkpoint.safetensors": the source's folder and file name, which say where the
/// weights came from without carrying the exporting machine's directory layout into a
/// file meant to be shared.
fn run_and_file(checkpoint: &Path) -> String {
    let mut last_two: Vec<_> = checkpoint
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .rev()
        .take(2)
        .collect();
    last_two.reverse();
    last_two
        .iter()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_named_by_its_folder_and_file_only() {
        let named = |p: &str| run_and_file(Path::new(p));
        assert_eq!(
            named("/home/me/runs/a/checkpoint.safetensors"),
            "a/checkpoint.safetensors"
        );
        assert_eq!(
            named("./a/checkpoint.safetensors"),
            "a/checkpoint.safetensors"
        );
        assert_eq!(named("checkpoint.safetensors"), "checkpoint.safetensors");
    }
}
