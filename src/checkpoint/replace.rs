//! Crash-safe file replacement: after a crash the target holds either its old or its
//! new contents, never a mix.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to a temporary file in the target's directory, flushes it to disk,
/// renames it over `path` (atomic within one file system, hence the same directory),
/// then flushes the directory so that the rename itself survives a crash. A failed write
/// removes its temporary file; one that a killed process left in that directory is
/// removed first (see [`temp_path`]).
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path)?;
    // Best effort: a leftover that cannot be removed now is tried again at the next write.
    let _ = remove_stale_temp_files(&folder_of(path));
    let written = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(err) = written {
        // Best effort: the write already failed, and that is the error to report.
        let _ = fs::remove_file(&tmp);
        return Err(err);
    }
    sync_dir(path)
}

/// The prefix and suffix of every temporary file's name: `.realnvp-<pid>-<n>.tmp`.
const TEMP_PREFIX: &str = ".realnvp-";
const TEMP_SUFFIX: &str = ".tmp";

/// `<dir>/.realnvp-<pid>-<n>.tmp`: a short name, so that a target whose name is near the
/// file system's limit (255 bytes) still has one; the pid keeps two processes that save
/// the same file from writing into one temporary file, the count two writes of one
/// process. The name does not say the target, so a process killed mid-write leaves a
/// file that only its pid ties to it: the next write into the same folder removes it
/// once that process is gone ([`remove_stale_temp_files`]).
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    if path.file_name().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not name a file",
        ));
    }
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    Ok(path.with_file_name(format!(
        "{TEMP_PREFIX}{}-{n}{TEMP_SUFFIX}",
        std::process::id()
    )))
}

/// The folder that holds `path` (`.` for a bare file name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The pid in a temporary file's name, if `name` is one.
fn temp_file_pid(name: &str) -> Option<u32> {
    let middle = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)?;
    let (pid, n) = middle.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Removes the temporary files (`.realnvp-<pid>-<n>.tmp`) that processes killed
/// mid-write left in `dir`; a file of a process still running is kept. On systems
/// without `/proc` no process can be checked, so nothing is removed. Returns how many
/// were removed.
pub fn remove_stale_temp_files(dir: &Path) -> io::Result<usize> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(0); // no folder yet: nothing left over
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let pid = entry.file_name().to_str().and_then(temp_file_pid);
        if let Some(pid) = pid
            && process_is_gone(pid)
        {
            fs::remove_file(entry.path())?;
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
    File::open(folder_of(path))?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn temp_file_sits_beside_the_target_under_a_short_name() {
        let tmp = temp_path(Path::new("runs/a/model.safetensors")).unwrap();
        assert_eq!(tmp.parent(), Some(Path::new("runs/a")));
        let name = tmp.file_name().unwrap().to_str().unwrap();
        assert_eq!(temp_file_pid(name), Some(std::process::id()), "{name}");
        let next = temp_path(Path::new("runs/a/model.safetensors")).unwrap();
        assert_ne!(tmp, next, "two writes of one process use two files");
    }

    #[test]
    fn a_target_name_near_the_limit_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join(format!("{}.png", "n".repeat(251)));
        replace_file(&target, b"png").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"png");
        assert_eq!(names(dir.path()).len(), 1, "no temporary file is left");
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A rename cannot replace a folder that holds something.
        let target = dir.path().join("out.png");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("kept"), b"x").unwrap();
        assert!(replace_file(&target, b"png").is_err());
        assert_eq!(names(dir.path()), ["out.png"]);
    }

    #[test]
    fn a_path_without_file_name_is_refused() {
        assert!(temp_path(Path::new("/")).is_err());
        assert!(temp_path(Path::new("runs/..")).is_err());
    }

    #[test]
    fn only_temporary_file_names_are_recognised() {
        assert_eq!(temp_file_pid(".realnvp-42-7.tmp"), Some(42));
        for other in [
            ".realnvp-42.tmp",
            ".realnvp-x-7.tmp",
            ".realnvp-42-7.png",
            "realnvp-42-7.tmp",
            "model.safetensors.tmp-42",
        ] {
            assert_eq!(temp_file_pid(other), None, "{other}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn temp_files_of_dead_processes_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // Above Linux's largest pid (2^22): never a running process.
        let dead = dir.path().join(".realnvp-4194305-0.tmp");
        let live = temp_path(&dir.path().join("checkpoint.safetensors")).unwrap();
        let other = dir.path().join("notes.tmp");
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

    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_removes_what_a_killed_write_left_in_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let torn = dir.path().join(".realnvp-4194305-3.tmp");
        fs::write(&torn, b"half a checkpoint").unwrap();
        replace_file(&dir.path().join("weights.safetensors"), b"w").unwrap();
        assert_eq!(names(dir.path()), ["weights.safetensors"]);
    }

    #[test]
    fn a_bare_file_name_syncs_the_current_directory() {
        sync_dir(Path::new("model.safetensors")).unwrap();
    }
}
