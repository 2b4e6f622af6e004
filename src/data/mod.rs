//! Datasets: MNIST IDX files, CIFAR-10 binary batches and folders of PNG/JPEG images,
//! all loaded into one in-memory [`Dataset`] of uint8 NCHW pixels.
//!
//! Every loader picks the format from the path (see [`Format::find`]).
//! [`load_for_model`], what the commands and the trainer use, shapes a dataset for a
//! model: folders are scaled as they load, and a fixed-size format (IDX, CIFAR) of the
//! model's channel count but another size is resized. [`load`] and [`load_split`] are
//! strict: images of another shape are an error naming both shapes.

pub mod cifar;
mod dataset;
pub mod folder;
mod format;
mod fs;
pub mod idx;
mod resize;

use std::path::{Path, PathBuf};

pub use dataset::Dataset;
pub use format::Format;

use crate::Result;
use crate::error::data_err;

/// A training set and, where the source has one, its test set.
#[derive(Clone, Debug)]
pub struct DataSplit {
    pub train: Dataset,
    pub test: Option<Dataset>,
}

/// The MNIST subset committed with the crate (3500 training and 500 test images with
/// labels), so that training and tests work without a download.
pub fn bundled_mnist_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist"))
}

/// The training images at `path` as `channels x height x width`.
pub fn load(path: &Path, channels: usize, height: usize, width: usize) -> Result<Dataset> {
    let train = Format::find(path)?.load_train(channels, height, width)?;
    check_shape(path, train, [channels, height, width])
}

/// The training and (where present) test images at `path` as
/// `channels x height x width`.
pub fn load_split(path: &Path, channels: usize, height: usize, width: usize) -> Result<DataSplit> {
    let format = Format::find(path)?;
    let wanted = [channels, height, width];
    let train = check_shape(path, format.load_train(channels, height, width)?, wanted)?;
    let test = match format.load_test()? {
        Some(test) => Some(check_shape(path, test, wanted)?),
        None => None,
    };
    Ok(DataSplit { train, test })
}

/// The dataset at `path` (the bundled MNIST subset when None) shaped for a model taking
/// `[channels, height, width]` images, and the size it was resized from, if it was.
/// Folders are scaled as they load; a fixed-size format (IDX, CIFAR) with the model's
/// channel count but another size is resized (cover and center-crop); another channel
/// count is an error.
pub fn load_for_model(
    path: Option<&Path>,
    [c, h, w]: [usize; 3],
) -> Result<(DataSplit, Option<[usize; 2]>)> {
    let path: PathBuf = path.map(Path::to_owned).unwrap_or_else(bundled_mnist_dir);
    let format = Format::find(&path)?;
    let train = format.load_train(c, h, w)?;
    if train.channels != c {
        return data_err(
            &path,
            format!(
                "{} holds {}-channel images but the model takes {c} channels",
                train.source, train.channels
            ),
        );
    }
    let native = [train.height, train.width];
    let test = format.load_test()?;
    if let Some(t) = &test
        && t.shape() != train.shape()
    {
        return data_err(
            &path,
            format!(
                "its test images are {:?} (CxHxW) but its training images {:?}",
                t.shape(),
                train.shape()
            ),
        );
    }
    let split = DataSplit {
        train: train.resized(h, w),
        test: test.map(|t| t.resized(h, w)),
    };
    Ok((split, (native != [h, w]).then_some(native)))
}

fn check_shape(path: &Path, dataset: Dataset, wanted: [usize; 3]) -> Result<Dataset> {
    if dataset.shape() == wanted {
        return Ok(dataset);
    }
    let text = |[c, h, w]: [usize; 3]| format!("{c}x{h}x{w}");
    data_err(
        path,
        format!(
            "{} holds {} images (channels x height x width) but {} was requested",
            dataset.source,
            text(dataset.shape()),
            text(wanted)
        ),
    )
}
