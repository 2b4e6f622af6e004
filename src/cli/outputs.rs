//! Where commands write: only a regular file or a new name (never a device, a FIFO, a
//! folder, or a symbolic link to one, even with `--force`), never over one of their own
//! input files, and never over a file of another kind (a checkpoint where latents go, a
//! README where a PNG goes) unless `--force` says so.

use std::fs;
use std::path::Path;

use crate::checkpoint::{self, Checkpoint};
use crate::input::describe;
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

/// Refuses an `out` that exists as anything but a regular file, directly or through a
/// symbolic link. The write renames a new file over `out`: over /dev/null, a named pipe
/// or a link to one it would replace what other programs use, so `--force` does not
/// allow it either.
fn a_file_or_a_new_name(out: &Path) -> anyhow::Result<()> {
    let Ok(entry) = fs::symlink_metadata(out) else {
        return Ok(()); // a new name (or an unreadable folder, which the write reports)
    };
    let what = if entry.file_type().is_symlink() {
        let target = fs::read_link(out).unwrap_or_default();
        match fs::metadata(out) {
            Ok(m) if m.is_file() => return Ok(()),
            Ok(m) => format!(
                "a symbolic link to {}, {}",
                target.display(),
                describe(m.file_type())
            ),
            Err(_) => format!(
                "a symbolic link to {}, which does not exist",
                target.display()
            ),
        }
    } else if entry.is_file() {
        return Ok(());
    } else {
        describe(entry.file_type()).to_owned()
    };
    anyhow::bail!(
        "--out {} is {what}: refusing to replace it, with or without --force; choose a \
         regular file or a new name",
        out.display()
    )
}

/// Allows writing a `kind` file at `out` when nothing is there, when a file of the
/// same kind is (a rerun), or with `force`; never over anything but a regular file.
pub fn replaceable(out: &Path, want: &str, force: bool) -> anyhow::Result<()> {
    a_file_or_a_new_name(out)?;
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
/// with `force`: any other file (a README, a checkpoint) is left alone, and anything but
/// a regular file is refused.
pub fn replaceable_png(out: &Path, force: bool) -> anyhow::Result<()> {
    a_file_or_a_new_name(out)?;
    if force || !out.exists() {
        return Ok(());
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
