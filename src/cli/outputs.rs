//! Where commands write: never over one of their own input files, and never over a
//! file of another kind (a checkpoint where latents go, a README where a PNG goes)
//! unless `--force` says so.

use std::path::Path;

use crate::checkpoint::{self, Checkpoint};
use crate::model::saved::Contents;

/// Refuses an `out` that is one of `inputs` (compared as canonical paths).
pub fn not_an_input(out: &Path, inputs: &[&Path]) -> anyhow::Result<()> {
    let Ok(target) = out.canonicalize() else {
        return Ok(()); // not there yet: it cannot be an input
    };
    for input in inputs {
        anyhow::ensure!(
            input.canonicalize().ok().as_deref() != Some(target.as_path()),
            "--out {} is one of this command's inputs: choose another file",
            out.display()
        );
    }
    Ok(())
}

/// What a realnvp `.safetensors` file holds: "latents", "weights" or "training".
fn kind(file: &Checkpoint) -> &'static str {
    if file.tensors.len() == 1 && file.tensors.contains_key("z") {
        "latents"
    } else {
        Contents::of(file).key()
    }
}

/// Allows writing a `kind` file at `out` when nothing is there, when a file of the
/// same kind is (a rerun), or with `force`.
pub fn replaceable(out: &Path, want: &str, force: bool) -> anyhow::Result<()> {
    if force || !out.exists() {
        return Ok(());
    }
    let holds = match checkpoint::load(out) {
        Ok(file) if kind(&file) == want => return Ok(()),
        Ok(file) => format!("a realnvp {} file", kind(&file)),
        Err(_) => "a file realnvp did not write".to_owned(),
    };
    anyhow::bail!(
        "--out {} holds {holds}: refusing to replace it with {want}; choose another file, \
         or pass --force",
        out.display()
    )
}

/// Allows writing a PNG at `out` when nothing is there, when a PNG is (a rerun), or
/// with `force`: any other file (a README, a checkpoint) is left alone.
pub fn replaceable_png(out: &Path, force: bool) -> anyhow::Result<()> {
    if force || !out.is_file() {
        return Ok(()); // a folder fails later, in the write, with its own message
    }
    let mut head = [0u8; 8];
    let is_png = std::fs::File::open(out)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && head == *b"\x89PNG\r\n\x1a\n";
    anyhow::ensure!(
        is_png,
        "--out {} holds something other than a PNG: refusing to replace it; choose \
         another file, or pass --force",
        out.display()
    );
    Ok(())
}
