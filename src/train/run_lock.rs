//! One writer per run folder: an advisory lock on `<run>/run.lock`, held by whatever
//! writes the run (a [`super::Trainer`], or clearing a run with `--overwrite`).
//!
//! The operating system releases the lock when its holder closes the file or dies, so a
//! lock file left behind by a killed process blocks nobody. The holder writes its
//! process id into the file, so that a refused writer can say who holds it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

pub const LOCK_FILE: &str = "run.lock";

/// Held while alive; dropping it releases the folder.
pub struct RunLock {
    file: File,
}

impl RunLock {
    /// Locks the existing folder `run`, or refuses naming the process that holds it.
    pub fn acquire(run: &Path) -> Result<RunLock> {
        let path = run.join(LOCK_FILE);
        let write_err = |error| Error::Write {
            path: path.clone(),
            error,
        };
        // Not truncated on opening: the file may hold the current holder's id.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(write_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(held_by_another(run, &path)),
            Err(std::fs::TryLockError::Error(error)) => return Err(write_err(error)),
        }
        file.set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .map_err(write_err)?;
        Ok(RunLock { file })
    }
}

impl Drop for RunLock {
    /// Clears the id before the lock goes with the file, so that a lock file left behind
    /// names no process. (A killed holder leaves its id: the next holder replaces it.)
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

/// The refusal of a second writer, naming the holder's process when it can be read.
fn held_by_another(run: &Path, path: &Path) -> Error {
    let holder = match holder_id(path) {
        Some(pid) if pid == std::process::id() => format!("another run in this process ({pid})"),
        Some(pid) => format!("process {pid}"),
        None => "another process".to_owned(),
    };
    Error::Config(format!(
        "{} is in use by {holder}, which is writing a run into it and holds {}: wait for \
         it to end or stop it, or train into another folder",
        run.display(),
        path.display()
    ))
}

/// The id the holder wrote. It writes it just after locking, so an empty file is read
/// again a few times before giving up.
fn holder_id(path: &Path) -> Option<u32> {
    for _ in 0..5 {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            return Some(pid);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path()).unwrap();
        let pid = std::process::id().to_string();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap(),
            format!("{pid}\n")
        );
        let e = RunLock::acquire(dir.path()).err().expect("refused");
        let e = e.to_string();
        assert!(
            e.contains(&format!("in use by another run in this process ({pid})"))
                && e.contains(LOCK_FILE),
            "{e}"
        );
        drop(first);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap(),
            "",
            "a released lock names nobody"
        );
        RunLock::acquire(dir.path()).expect("free again");
    }
}
