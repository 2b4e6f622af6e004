//! realnvp: Real NVP normalizing flows computed by WGSL compute shaders on wgpu.
//!
//! - [`runtime`]: adapter, device, tensors, buffer pool, kernel dispatch.
//! - [`ops`]: one GPU op per file (shader in `shaders/`), forward and backward.
//! - [`cpu`]: the plain-Rust f64 twin of every op, the reference the tests trust.
//! - [`philox`]: the Philox4x32-10 generator on the CPU (initialisation, evaluation
//!   noise; also the twin of the GPU generator).
//! - [`error`]: the library's error type; every failure names the thing at fault.
//! - [`check`]: comparison and finite-difference helpers for tests and benchmarks.
//! - [`checkpoint`]: named f32 tensors and metadata saved to and loaded from safetensors files.
//! - [`data`]: MNIST, CIFAR-10 and image-folder datasets, batches, epoch order.
//! - [`input`]: opening the files a user names: regular files only.
//! - [`model`]: the Real NVP flow on the GPU: config, parameters, plans, and the
//!   interactive API ([`model::Model`], `Plan::sample_images`, `encode`, `score`, ...).
//! - [`train`]: the training loop and dataset evaluation.
//! - [`grid`]: PNG grids of images.
//! - [`bench`]: benchmarks printing JSON lines.
//! - [`cli`]: the `realnvp` command line, a thin layer over the above.

pub mod bench;
pub mod check;
pub mod checkpoint;
pub mod cli;
pub mod cpu;
pub mod data;
pub mod error;
pub mod fuzz;
pub mod grid;
pub mod input;
pub mod model;
pub mod ood;
pub mod ops;
pub mod philox;
pub mod runtime;
pub mod train;

pub use error::{Error, Result};
pub use runtime::{Gpu, Shape, Tensor};
