//! The realnvp desktop app: panels over one GPU worker, on the renderer's own device.

pub mod app;
pub mod device;
pub mod dialog;
pub mod panels;
pub mod pictures;
pub mod worker;

pub use app::{App, ModelSource, bundled_model};
