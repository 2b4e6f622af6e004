//! A new run's folder: never one that holds another run, unless asked to start over.

use std::path::Path;

use super::run_lock::RunLock;
use crate::error::{Error, Result};

/// The run's checkpoint, its optimizer state included.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
/// A JSON line per step and per epoch's end.
pub const METRICS_FILE: &str = "metrics.jsonl";

/// Readies `out` for a new run. A folder holding a run's checkpoint is refused, saying
/// how to continue it or start over; with `overwrite`, that run's checkpoint, metrics
/// and sample grids are removed first (so the new run's files do not mix with them),
/// unless another run writes into the folder, which refuses it.
pub fn prepare_new_run(out: &Path, overwrite: bool) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(Error::Config(format!(
            "--out {} is a file: a run writes into a folder",
            out.display()
        )));
    }
    if !overwrite || !out.join(CHECKPOINT_FILE).exists() {
        return check_holds_no_run(out);
    }
    // Taken before anything goes: a run under way keeps its files.
    let _lock = RunLock::acquire(out)?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Write {
            path,
            error: source,
        }
    };
    let entries = std::fs::read_dir(out).map_err(io(out))?;
    for entry in entries {
        let path = entry.map_err(io(out))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let of_the_run = name == CHECKPOINT_FILE
            || name == METRICS_FILE
            || name == "config.json"
            || (name.starts_with("samples_epoch") && name.ends_with(".png"));
        if of_the_run {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Refuses a folder that holds a run's checkpoint, saying how to continue that run or
/// start over.
pub(crate) fn check_holds_no_run(out: &Path) -> Result<()> {
    if !out.join(CHECKPOINT_FILE).exists() {
        return Ok(());
    }
    Err(Error::Config(format!(
        "{} already holds a run ({CHECKPOINT_FILE}): continue it with --resume, or \
         start over with --overwrite or another --out",
        out.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::run_lock;

    #[test]
    fn a_folder_with_a_run_is_refused_or_cleared_of_that_run_only() {
        let dir = tempfile::tempdir().unwrap();
        prepare_new_run(dir.path(), false).expect("an empty folder is fine");
        for name in [
            CHECKPOINT_FILE,
            "metrics.jsonl",
            "config.json",
            "samples_epoch3.png",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        let e = prepare_new_run(dir.path(), false).unwrap_err().to_string();
        assert!(e.contains("--resume") && e.contains("--overwrite"), "{e}");
        assert!(
            dir.path().join(CHECKPOINT_FILE).exists(),
            "refusing removes nothing"
        );

        let held = RunLock::acquire(dir.path()).unwrap();
        let e = prepare_new_run(dir.path(), true).unwrap_err().to_string();
        assert!(e.contains("which is writing a run into it"), "{e}");
        assert!(
            dir.path().join(CHECKPOINT_FILE).exists(),
            "a run under way keeps its files"
        );
        drop(held);

        prepare_new_run(dir.path(), true).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["notes.txt", run_lock::LOCK_FILE],
            "only the run's own files go"
        );
    }
}
