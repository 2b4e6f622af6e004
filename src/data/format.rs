//! Which dataset format a path holds, found from file names before anything is read.

use std::path::{Path, PathBuf};

use super::fs::{file_name, io_err, sorted_files};
use super::{Dataset, cifar, folder, idx};
use crate::Result;
use crate::error::data_err;
use crate::input::describe;

const MNIST_TRAIN: [&str; 2] = ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"];
const MNIST_TEST: [&str; 4] = [
    "t10k-images-idx3-ubyte",
    "t10k-images-idx3-ubyte.gz",
    "test-images-idx3-ubyte",
    "test-images-idx3-ubyte.gz",
];
const CIFAR_TEST: &str = "test_batch.bin";

pub enum Format {
    /// MNIST idx3 image files; labels are picked up from beside each when present.
    Idx {
        train: PathBuf,
        test: Option<PathBuf>,
    },
    /// CIFAR-10 binary batches.
    Cifar {
        train: Vec<PathBuf>,
        test: Option<PathBuf>,
    },
    /// A folder of PNG/JPEG images, resized to the requested shape; no test set.
    Folder(PathBuf),
}

impl Format {
    /// A file is one IDX image file, or a CIFAR batch if it ends in `.bin`. A directory is
    /// MNIST if it holds `*train-images-idx3-ubyte[.gz]` (with `*t10k-…` or `*test-…` as
    /// the test set), else CIFAR-10 if it holds `data_batch_*.bin` (with `test_batch.bin`),
    /// else a folder of images. Anything else (a pipe, a device) is refused, saying what
    /// it is.
    pub fn find(path: &Path) -> Result<Self> {
        let metadata = std::fs::metadata(path).map_err(io_err(path))?;
        if !metadata.is_file() && !metadata.is_dir() {
            return data_err(
                path,
                format!(
                    "is {}: a dataset is an MNIST IDX file, a CIFAR-10 batch (.bin), or a \
                     folder of those or of PNG/JPEG images",
                    describe(metadata.file_type())
                ),
            );
        }
        if metadata.is_file() {
            let file = path.to_path_buf();
            return Ok(if path.extension().is_some_and(|e| e == "bin") {
                Format::Cifar {
                    train: vec![file],
                    test: None,
                }
            } else {
                Format::Idx {
                    train: file,
                    test: None,
                }
            });
        }
        let files = sorted_files(path)?;
        if let Some(train) = only_match(path, &files, "MNIST training image", &MNIST_TRAIN)? {
            let test = only_match(path, &files, "MNIST test image", &MNIST_TEST)?;
            return Ok(Format::Idx { train, test });
        }
        let cifar_train: Vec<PathBuf> = files
            .iter()
            .filter(|f| {
                let name = file_name(f);
                name.starts_with("data_batch_") && name.ends_with(".bin")
            })
            .cloned()
            .collect();
        if !cifar_train.is_empty() {
            let test = files.iter().find(|f| file_name(f) == CIFAR_TEST).cloned();
            return Ok(Format::Cifar {
                train: cifar_train,
                test,
            });
        }
        Ok(Format::Folder(path.to_path_buf()))
    }

    pub fn load_train(&self, channels: usize, height: usize, width: usize) -> Result<Dataset> {
        match self {
            Format::Idx { train, .. } => load_idx(train),
            Format::Cifar { train, .. } => cifar::load(train),
            Format::Folder(dir) => folder::load(dir, channels, height, width),
        }
    }

    pub fn load_test(&self) -> Result<Option<Dataset>> {
        match self {
            Format::Idx { test, .. } => test.as_deref().map(load_idx).transpose(),
            Format::Cifar { test, .. } => test.as_ref().map(|t| cifar::load(&[t])).transpose(),
            Format::Folder(_) => Ok(None),
        }
    }
}

fn load_idx(images: &Path) -> Result<Dataset> {
    idx::load(images, idx::labels_beside(images).as_deref())
}

/// The one file whose name ends with one of `suffixes`; several are an error rather
/// than a silent pick (a folder holding both `x` and `x.gz` is ambiguous).
fn only_match(
    dir: &Path,
    files: &[PathBuf],
    what: &str,
    suffixes: &[&str],
) -> Result<Option<PathBuf>> {
    let matches: Vec<&PathBuf> = files
        .iter()
        .filter(|f| suffixes.iter().any(|s| file_name(f).ends_with(s)))
        .collect();
    match matches[..] {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        _ => {
            let names: Vec<&str> = matches.iter().map(|f| file_name(f)).collect();
            data_err(
                dir,
                format!("several {what} files ({}): keep one", names.join(", ")),
            )
        }
    }
}
