//! A new run's folder: never one that holds another run, unless asked to start over.

use std::path::Path;

use super::trainer::CHECKPOINT_FILE;
use crate::error::{Error, Result};

/// Readies `out` for a new run. A folder holding a run's checkpoint is refused, saying
/// how to continue it or start over; with `overwrite`, that run's checkpoint, metrics
/// and sample grids are removed first (so the new run's files do not mix with them).
pub fn prepare_new_run(out: &Path, overwrite: bool) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(Error::Config(format!(
            "--out {} is a file: a run writes into a folder",
            out.display()
        )));
    }
    let checkpoint = out.join(CHECKPOINT_FILE);
    if !checkpoint.exists() {
        return Ok(());
    }
    if !overwrite {
        return Err(Error::Config(format!(
            "{} already holds a run ({CHECKPOINT_FILE}): continue it with --resume, or \
             start over with --overwrite or another --out",
            out.display()
        )));
    }
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
            || name == "metrics.jsonl"
            || name == "config.json"
            || (name.starts_with("samples_epoch") && name.ends_with(".png"));
        if of_the_run {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

        prepare_new_run(dir.path(), true).unwrap();
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, ["notes.txt"], "only the run's own files go");
    }
}
