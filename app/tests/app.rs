//! The app's tests in one binary (each test binary links egui, wgpu and the model: one
//! link instead of eight): the panels through egui_kittest headless, their snapshots,
//! the binary headless (`--train`, no adapter) and in a real X window under Xvfb.

mod app {
    mod common;
    mod headless;
    mod interpolation;
    mod pictures;
    mod samples;
    mod snapshots;
    mod training;
    mod window;
    mod your_image;
}
