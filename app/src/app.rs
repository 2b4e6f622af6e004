//! The window shell: the tab bar over the panels, the open model's header, files
//! dropped or chosen, and the shared device's errors. The panels do the rest.

use std::path::PathBuf;
use std::sync::Arc;

use realnvp::Gpu;
use realnvp::runtime::tuning::Tuning;

use crate::demo::Demo;
use crate::device::{self, DeviceErrors};
use crate::dialog::{Pending, is_image};
use crate::model_bar;
use crate::panels::your_image::YourImage;
use crate::panels::{Panels, Shell};
use crate::protocol::ModelSource;
use crate::worker::Worker;

pub struct App {
    /// The panel shown, by its name ([`crate::panels::Panel::name`]).
    pub tab: &'static str,
    pub panels: Panels,
    pub worker: Worker,
    /// The compute side of the shared device.
    pub gpu: Arc<Gpu>,
    /// Steps the sliders by itself and prints the app's timing (`--demo`).
    pub demo: Option<Demo>,
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
        let mut panels = Panels::default();
        let tab = panels.list()[0].name();
        Ok(App {
            tab,
            panels,
            worker,
            gpu,
            demo: None,
            errors,
            open_dialog: Pending::default(),
        })
    }

    /// Shows `path` (a PNG or JPEG) on the Your image panel.
    pub fn show_image(&mut self, path: PathBuf) {
        self.tab = YourImage::NAME;
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

    fn tab_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.strong("realnvp");
            ui.separator();
            self.panels.tabs(ui, &mut self.tab);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let open = ui
                    .add_enabled(
                        !self.open_dialog.is_open(),
                        egui::Button::new("Open model…"),
                    )
                    .on_hover_text("a checkpoint or weights-only .safetensors file");
                if open.clicked() {
                    self.open_dialog.open(
                        ui.ctx(),
                        rfd::FileDialog::new().add_filter("safetensors", &["safetensors"]),
                        rfd::FileDialog::pick_file,
                    );
                }
            });
        });
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.open_dropped_files(ui.ctx());
        if let Some(demo) = &mut self.demo {
            demo.step(ui.ctx(), self.tab, &mut self.panels, &self.worker);
        }
        if self.worker.status().busy {
            // The spinner redraws continuously while the worker runs: then the interval
            // between frames is the frame time under GPU load.
            let dt = ui.ctx().input(|i| i.unstable_dt);
            self.panels.device.record_frame(dt);
        }
        egui::Panel::top("tabs").show(ui, |ui| self.tab_bar(ui));
        if let Some(path) = self.open_dialog.chosen() {
            self.worker.open(ModelSource::File(path));
        }
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(e) = self.errors.lock().unwrap().last() {
                ui.colored_label(ui.visuals().error_fg_color, format!("GPU error: {e}"));
            }
            let (model, busy) = {
                let status = self.worker.status();
                if let Some(e) = &status.open_error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                (status.model.clone(), status.busy)
            };
            let Some(panel) = self.panels.named(self.tab) else {
                return;
            };
            if !model_bar::ui(ui, model.as_ref(), busy, panel.works_without_model()) {
                return;
            }
            let shell = Shell {
                worker: &self.worker,
                gpu: &self.gpu,
                model: model.as_ref(),
            };
            panel.ui(ui, &shell);
        });
    }
}
