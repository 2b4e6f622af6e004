//! The library's error type: every failure names the thing at fault.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// No adapter matched; `hint` says what to install or set.
    #[error("no GPU adapter found: {hint}")]
    NoAdapter { hint: String },

    #[error("could not create a device on adapter '{adapter}': {source}")]
    Device {
        adapter: String,
        #[source]
        source: wgpu::RequestDeviceError,
    },

    /// An op was given tensors whose shapes do not fit together.
    #[error("{op}: {detail}")]
    Shape { op: &'static str, detail: String },

    /// A setting that cannot work (a model config, a learning rate, an output folder):
    /// the message names the setting.
    #[error("{0}")]
    Config(String),

    /// Training cannot go on (a non-finite loss, ...).
    #[error("training stopped: {0}")]
    Training(String),

    /// The GPU reported an error (validation, out of memory) while running our work.
    #[error("GPU error: {0}")]
    Gpu(String),

    /// A checkpoint file could not be written or read (missing, corrupt, foreign format).
    #[error("checkpoint '{}': {detail}", path.display())]
    Checkpoint { path: PathBuf, detail: String },

    /// A checkpoint was read fine but its tensors do not fit what the model expects.
    #[error("checkpoint does not fit the model: {0}")]
    CheckpointMismatch(String),

    /// A dataset file or folder could not be read from disk.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A run's folder or one of its files could not be written (or its old files
    /// removed).
    /// (Not a `source`: the message holds the cause, and error reports that print the
    /// chain would say it twice.)
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },

    /// A command's results could not be written to stdout (a closed pipe, a full disk).
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),

    /// A dataset file or folder was read but its contents are wrong; `detail` says how.
    #[error("{}: {detail}", path.display())]
    Data { path: PathBuf, detail: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for a shape error in op `op`.
pub fn shape_err<T>(op: &'static str, detail: impl Into<String>) -> Result<T> {
    Err(Error::Shape {
        op,
        detail: detail.into(),
    })
}

/// Shorthand for a data error about `path`.
pub fn data_err<T>(path: impl Into<PathBuf>, detail: impl Into<String>) -> Result<T> {
    Err(Error::Data {
        path: path.into(),
        detail: detail.into(),
    })
}
