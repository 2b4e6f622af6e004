//! The realnvp desktop app: panels over one GPU worker, on the renderer's own device.
//! `protocol` is what the window and the worker share; `worker/` never imports the
//! window shell (`app.rs`) or a panel.

pub mod app;
pub mod demo;
pub mod device;
pub mod dialog;
pub mod files;
pub mod model_bar;
pub mod panels;
pub mod pictures;
pub mod protocol;
pub mod worker;

pub use app::App;
pub use protocol::ModelSource;
