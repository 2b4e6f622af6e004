//! File-system reads whose errors name the path at fault.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::input::{Unreadable, open_regular};
use crate::{Error, Result};

pub fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The regular file at `path`, opened, and its length; a device, pipe or folder is
/// refused before it is opened, the error saying what it is.
pub fn open_file(path: &Path) -> Result<(File, u64)> {
    open_regular(path).map_err(|unreadable| match unreadable {
        Unreadable::Io(source) => io_err(path)(source),
        not_a_file @ Unreadable::NotAFile(_) => Error::Data {
            path: path.to_owned(),
            detail: not_a_file.to_string(),
        },
    })
}

/// The regular files directly inside `dir`, sorted by name so that every listing (and
/// so every dataset built from one) has the same order on every machine.
pub fn sorted_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The last component of `path` as text; empty when it has none or is not UTF-8, which
/// then matches no naming pattern.
pub fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}
