//! Files a user names (checkpoints, latents, configs, datasets, images): opened only
//! when they are regular files, so that a device, a pipe or a folder is refused with a
//! message saying what it is; each reader then reads no further than what its format
//! says the file can legitimately hold.

use std::fmt;
use std::fs::{File, FileType};
use std::io;
use std::path::Path;

/// Why a path could not be opened as a regular file.
#[derive(Debug)]
pub enum Unreadable {
    /// The file system refused (missing, no permission, ...).
    Io(io::Error),
    /// Something other than a regular file: what it is ([`describe`]).
    NotAFile(&'static str),
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::Io(err) => write!(f, "cannot read: {err}"),
            Unreadable::NotAFile(kind) => write!(f, "is {kind}, not a regular file"),
        }
    }
}

/// What a path of type `file_type` is, for messages: "a folder", "a pipe or FIFO", ...
pub fn describe(file_type: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a pipe or FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// The regular file at `path`, opened, and its length. Anything else is refused before
/// it is opened: opening a FIFO waits for a writer, and a device never ends.
pub fn open_regular(path: &Path) -> Result<(File, u64), Unreadable> {
    let file_type = std::fs::metadata(path).map_err(Unreadable::Io)?.file_type();
    if !file_type.is_file() {
        return Err(Unreadable::NotAFile(describe(file_type)));
    }
    let file = File::open(path).map_err(Unreadable::Io)?;
    let len = file.metadata().map_err(Unreadable::Io)?.len();
    Ok((file, len))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn devices_and_folders_are_named_and_files_open() {
        let refused = |path: &str| open_regular(Path::new(path)).unwrap_err().to_string();
        assert_eq!(
            refused("/dev/null"),
            "is a character device, not a regular file"
        );
        assert_eq!(refused("/"), "is a folder, not a regular file");
        assert!(refused("/no/such/file").starts_with("cannot read: "));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"four").unwrap();
        assert_eq!(open_regular(&file).unwrap().1, 4);
    }
}
