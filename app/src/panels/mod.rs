//! One file per panel, each a struct with a `ui` method (as in egui's demo app).

pub mod device;
pub mod interpolation;
pub mod samples;
pub mod training;
pub mod your_image;
