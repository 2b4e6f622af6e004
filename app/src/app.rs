//! The app: the panels, the GPU worker they talk to, and the shared device's errors.

use std::path::PathBuf;
use std::sync::Arc;

use realnvp::Gpu;
use realnvp::model::state::ModelState;
use realnvp::model::{Model, ModelConfig};

use crate::device::{self, DeviceErrors};
use crate::dialog::{Pending, is_image};
use crate::panels::device::Device;
use crate::panels::interpolation::Interpolate;
use crate::panels::samples::Samples;
use crate::panels::training::Training;
use crate::panels::your_image::YourImage;
use crate::worker::Worker;
use realnvp::runtime::tuning::Tuning;

/// The weights-only `mnist` model shipped with the app (README "The bundled model" says
/// how it was trained); the app opens it when given no other.
pub fn bundled_model() -> PathBuf {
    let app_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    app_dir
        .parent()
        .unwrap_or(app_dir)
        .join("assets/models/mnist.safetensors")
}

/// Where a model comes from.
#[derive(Clone, Debug)]
pub enum ModelSource {
    /// A checkpoint or weights-only file.
    File(PathBuf),
    /// A freshly initialised model of a config, from a seed (tests, new runs).
    New(ModelConfig, u64),
}

/// Images per GPU submission of the app's decoding. The renderer's frames queue behind
/// each submission on the shared device, so on a CPU adapter a small batch keeps the
/// window drawing: for an 8 x 8 `mnist` grid on lavapipe (2026-12-01), batches of 8
/// left ~2.3 s between frames (grid in ~15 s), batches of 2 ~0.65 s (grid in ~17 s). A
/// real GPU decodes a batch of 16 within a frame.
pub fn app_batch(gpu: &Gpu) -> usize {
    if gpu.info.device_type == wgpu::DeviceType::Cpu {
        2
    } else {
        16
    }
}

impl ModelSource {
    /// The model on `gpu` with an inference plan of [`app_batch`] images.
    pub fn open(&self, gpu: Arc<Gpu>) -> realnvp::Result<Model> {
        let batch = app_batch(&gpu);
        match self {
            ModelSource::File(path) => Model::open(gpu, path, Some(batch)),
            ModelSource::New(config, seed) => Model::from_state(
                ModelState::new(gpu, config.clone(), *seed)?,
                batch,
                PathBuf::from(format!("new model (seed {seed})")),
            ),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Samples,
    Interpolation,
    YourImage,
    Training,
    Device,
}

pub struct App {
    pub tab: Tab,
    pub samples: Samples,
    pub interpolation: Interpolate,
    pub your_image: YourImage,
    pub training: Training,
    pub device: Device,
    pub worker: Worker,
    /// The compute side of the shared device.
    pub gpu: Arc<Gpu>,
    /// Moves the temperature (Samples) or φ (Interpolation) by itself once each picture
    /// is shown, printing the app's timing (`--demo`).
    pub demo: bool,
    last_demo_step: Option<std::time::Instant>,
    errors: DeviceErrors,
    open_dialog: Pending,
}

impl App {
    /// The app on eframe's device, opening `source` in the background. With
    /// `tune_kernels`, kernel variants are chosen per shape by measurement and cached on
    /// disk, as the CLI does ([`Gpu::tune_kernels`]); tests leave it off so that every
    /// run uses the same kernels.
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        source: ModelSource,
        tune_kernels: bool,
    ) -> anyhow::Result<App> {
        let render = cc
            .wgpu_render_state
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the app needs eframe's wgpu renderer"))?;
        let (gpu, errors) = device::compute(render);
        if tune_kernels {
            gpu.tune_kernels(Tuning::default_path(&gpu.info));
        }
        let worker = Worker::start(
            gpu.clone(),
            source,
            render.renderer.clone(),
            cc.egui_ctx.clone(),
        );
        Ok(App {
            tab: Tab::Samples,
            samples: Samples::default(),
            interpolation: Interpolate::default(),
            your_image: YourImage::default(),
            training: Training::default(),
            device: Device::default(),
            worker,
            gpu,
            demo: false,
            last_demo_step: None,
            errors,
            open_dialog: Pending::default(),
        })
    }

    /// On the Samples panel: once the grid asked for is shown, and at most every 1.5 s,
    /// raises the temperature by 0.1 (from 0.3 again past 1.5), so consecutive grids
    /// differ. On the Interpolation panel the same with φ, once the point is shown.
    /// Each step prints the app's own timing (the window test waits for these lines).
    fn demo_step(&mut self, ctx: &egui::Context) {
        let due = self
            .last_demo_step
            .is_none_or(|t| t.elapsed().as_secs_f32() >= 1.5);
        let status = self.worker.status();
        let model = status
            .model
            .as_ref()
            .map_or("no model", |m| m.path.as_str());
        let frame_ms = self
            .device
            .frame_intervals()
            .map_or(f32::NAN, |(mean, _)| mean * 1e3);
        let seconds = |t: Option<std::time::Duration>| t.map_or(f64::NAN, |t| t.as_secs_f64());
        let stepped = match self.tab {
            Tab::Samples => {
                let shown = status
                    .samples
                    .as_ref()
                    .is_some_and(|(grid, _)| *grid == self.samples.grid);
                (shown && !status.busy && due).then(|| {
                    println!(
                        "demo: {model}: grid shown at temperature {:.1} (request to texture \
                         {:.2} s, mean frame interval while decoding {frame_ms:.0} ms)",
                        self.samples.grid.temperature,
                        seconds(status.samples_latency),
                    );
                    let t = &mut self.samples.grid.temperature;
                    *t = if *t + 0.1 > 1.5 { 0.3 } else { *t + 0.1 };
                })
            }
            Tab::Interpolation => {
                let at = &mut self.interpolation.at;
                let shown = status.point.as_ref().is_some_and(|(p, _)| p == at);
                (shown && due).then(|| {
                    println!(
                        "demo: {model}: point shown at φ {:.1} (request to texture {:.3} s, \
                         mean frame interval while decoding {frame_ms:.0} ms)",
                        at.phi,
                        seconds(status.point_latency),
                    );
                    at.phi = if at.phi + 0.1 > std::f64::consts::FRAC_PI_2 {
                        0.0
                    } else {
                        at.phi + 0.1
                    };
                })
            }
            _ => None,
        };
        if stepped.is_some() {
            self.last_demo_step = Some(std::time::Instant::now());
        }
        // Keep frames coming so the next step is checked without other input.
        ctx.request_repaint_after(std::time::Duration::from_millis(200));
    }

    /// Shows `path` (a PNG or JPEG) on the Your image panel.
    pub fn show_image(&mut self, path: PathBuf) {
        self.tab = Tab::YourImage;
        self.worker.request_image(path);
    }

    /// A dropped PNG or JPEG goes to the Your image panel; any other file is opened as
    /// a model (a checkpoint or weights-only file).
    fn open_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        let Some(path) = dropped.first().map(|f| f.path().to_owned()) else {
            return;
        };
        if is_image(&path) {
            self.show_image(path);
        } else {
            self.worker.open(ModelSource::File(path));
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.open_dropped_files(ui.ctx());
        if self.demo {
            self.demo_step(ui.ctx());
        }
        if self.worker.status().busy {
            // The spinner redraws continuously while the worker runs: then the interval
            // between frames is the frame time under GPU load.
            self.device.record_frame(ui.ctx().input(|i| i.unstable_dt));
        }
        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong("realnvp");
                ui.separator();
                ui.selectable_value(&mut self.tab, Tab::Samples, "Samples");
                ui.selectable_value(&mut self.tab, Tab::Interpolation, "Interpolation");
                ui.selectable_value(&mut self.tab, Tab::YourImage, "Your image");
                ui.selectable_value(&mut self.tab, Tab::Training, "Training");
                ui.selectable_value(&mut self.tab, Tab::Device, "Device");
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui
                        .add_enabled(
                            !self.open_dialog.is_open(),
                            egui::Button::new("Open model…"),
                        )
                        .on_hover_text("a checkpoint or weights-only .safetensors file")
                        .clicked()
                    {
                        self.open_dialog.open(
                            ui.ctx(),
                            rfd::FileDialog::new().add_filter("safetensors", &["safetensors"]),
                            rfd::FileDialog::pick_file,
                        );
                    }
                });
            });
        });
        if let Some(path) = self.open_dialog.chosen() {
            self.worker.open(ModelSource::File(path));
        }
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(e) = self.errors.lock().unwrap().last() {
                ui.colored_label(ui.visuals().error_fg_color, format!("GPU error: {e}"));
            }
            let status = self.worker.status();
            if let Some(e) = &status.open_error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            let Some(model) = status.model.clone() else {
                if self.tab == Tab::Training {
                    // A new model can be trained with none open.
                    drop(status);
                    self.training.ui(ui, &self.worker);
                    return;
                }
                if status.busy {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("opening the model...");
                    });
                } else {
                    ui.label(
                        "No model is open. Open one (top right), start with --checkpoint \
                         FILE, drop a checkpoint or weights-only .safetensors file on this \
                         window, or train one (Training).",
                    );
                }
                return;
            };
            ui.label(
                egui::RichText::new(format!(
                    "{} ({})  ·  {}x{}x{}, {} scales, {} parameters",
                    model.path,
                    model.contents,
                    model.config.channels,
                    model.config.height,
                    model.config.width,
                    model.config.scales,
                    model.parameters
                ))
                .small(),
            );
            match self.tab {
                Tab::Samples => {
                    drop(status);
                    self.samples.ui(ui, &self.worker, &model.path);
                }
                Tab::Interpolation => {
                    drop(status);
                    self.interpolation.ui(ui, &self.worker);
                }
                Tab::YourImage => {
                    drop(status);
                    self.your_image.ui(ui, &self.worker);
                }
                Tab::Training => {
                    drop(status);
                    self.training.ui(ui, &self.worker);
                }
                Tab::Device => self.device.ui(ui, &self.gpu, &status),
            }
        });
    }
}
