//! Crash-safe file replacement: after a crash the target holds either its old or its
//! new contents, never a mix.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `<path>.tmp-<pid>` in the target's directory, flushes it to disk,
/// renames it over `path` (atomic within one file system, hence the same directory),
/// then flushes the directory so that the rename itself survives a crash.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path)?;
    let written = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(err) = written {
        // Best effort: the write already failed, and a leftover temp file is harmless.
        let _ = fs::remove_file(&tmp);
        return Err(err);
    }
    sync_dir(path)
}

/// `<dir>/<name>.tmp-<pid>`: the pid keeps two processes saving the same checkpoint
/// from writing into one temp file.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let mut tmp_name = OsString::from(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    Ok(path.with_file_name(tmp_name))
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Removes the temporary files (`<name>.tmp-<pid>`) that processes killed mid-write left
/// in `dir`; a file of a process still running is kept. On systems without `/proc` no
/// process can be checked, so nothing is removed. Returns how many were removed.
pub fn remove_stale_temp_files(dir: &Path) -> io::Result<usize> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(0); // no folder yet: nothing left over
    };
    let mut removed = 0;
    for entry in entries {
        let path = entry?.path();
        let pid = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit_once(".tmp-"))
            .and_then(|(_, pid)| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && process_is_gone(pid)
        {
            fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(target_os = "linux")]
fn process_is_gone(pid: u32) -> bool {
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(not(target_os = "linux"))]
fn process_is_gone(_pid: u32) -> bool {
    false
}

/// Persists the directory entry created by the rename (POSIX needs an fsync of the
/// directory for that; other systems have no such call).
#[cfg(unix)]
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_file_sits_beside_the_target() {
        let tmp = temp_path(Path::new("runs/a/model.safetensors")).unwrap();
        let expected = format!("runs/a/model.safetensors.tmp-{}", std::process::id());
        assert_eq!(tmp, PathBuf::from(expected));
    }

    #[test]
    fn a_path_without_file_name_is_refused() {
        assert!(temp_path(Path::new("/")).is_err());
        assert!(temp_path(Path::new("runs/..")).is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn temp_files_of_dead_processes_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // Above Linux's largest pid (2^22): never a running process.
        let dead = dir.path().join("checkpoint.safetensors.tmp-4194305");
        let live = temp_path(&dir.path().join("checkpoint.safetensors")).unwrap();
        let other = dir.path().join("notes.tmp-readme");
        for f in [&dead, &live, &other] {
            fs::write(f, b"x").unwrap();
        }
        assert_eq!(remove_stale_temp_files(dir.path()).unwrap(), 1);
        assert!(!dead.exists() && live.exists() && other.exists());
        assert_eq!(
            remove_stale_temp_files(&dir.path().join("none")).unwrap(),
            0
        );
    }

    #[test]
    fn a_bare_file_name_syncs_the_current_directory() {
        sync_dir(Path::new("model.safetensors")).unwrap();
    }
}
