//! Samples: an N x N grid from fixed prior draws, a temperature that rescales the same
//! draws (so images change continuously), reseeding, and the command that reproduces it.

use super::{Panel, Shell, exported_ui};
use crate::dialog::Pending;
use crate::protocol::{Export, SampleGrid};

pub struct Samples {
    pub grid: SampleGrid,
    /// The grid last sent to the worker, and for which model (its generation).
    requested: Option<(SampleGrid, u64)>,
    export: Pending,
}

impl Default for Samples {
    fn default() -> Self {
        Samples {
            grid: SampleGrid {
                seed: 0,
                temperature: 0.7,
                side: 8,
            },
            requested: None,
            export: Pending::default(),
        }
    }
}

impl Samples {
    pub const NAME: &str = "Samples";
}

impl Panel for Samples {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn ui(&mut self, ui: &mut egui::Ui, shell: &Shell<'_>) {
        let worker = shell.worker;
        ui.horizontal(|ui| {
            ui.add(
                egui::Slider::new(&mut self.grid.temperature, 0.0..=1.5)
                    .text("temperature")
                    .fixed_decimals(2),
            );
            ui.add(egui::Slider::new(&mut self.grid.side, 4..=16).text("grid"));
            if ui.button("Reseed").clicked() {
                self.grid.seed = self.grid.seed.wrapping_add(1);
            }
            ui.label(format!("seed {}", self.grid.seed));
            if ui.button("Export PNG…").clicked() {
                self.export.save_png(ui.ctx(), "samples.png");
            }
        });
        if let Some(path) = self.export.chosen() {
            worker.request_export(Export::Samples(self.grid), path);
        }
        let generation = worker.status().generation;
        if self.requested != Some((self.grid, generation)) {
            worker.request_samples(self.grid);
            self.requested = Some((self.grid, generation));
        }
        let status = worker.status();
        // Pending means this panel's grid is not shown yet (the worker may be busy with
        // another panel's request or a training step) and has not failed (the error
        // shows instead).
        let pending = status
            .samples
            .as_ref()
            .is_none_or(|(shown, _)| *shown != self.grid)
            && status.samples_failed != Some(self.grid);
        ui.horizontal(|ui| {
            if pending {
                ui.spinner();
                match status.samples_drawing {
                    Some((drawing, drawn)) if drawing == self.grid => ui.label(format!(
                        "decoding… {drawn} of {} drawn over the last grid",
                        self.grid.side * self.grid.side
                    )),
                    _ => ui.label("decoding…"),
                };
            } else if let Some(t) = status.samples_latency {
                ui.label(format!("last grid in {:.2} s", t.as_secs_f64()));
            }
            if let Some(e) = &status.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            exported_ui(ui, &status.exported);
        });
        if let Some((shown, picture)) = &status.samples {
            let [w, h] = picture.size.map(|v| v as f32);
            let room = ui.available_size() - egui::vec2(0.0, 24.0);
            let scale = (room.x / w).min(room.y / h).max(1.0).floor();
            ui.add(egui::Image::new((
                picture.id,
                egui::vec2(w * scale, h * scale),
            )));
            // The command reproduces the shown grid; while another is drawn over it, the
            // picture is part one, part the other.
            if !pending && let Some(file) = shell.model.and_then(|m| m.file.as_deref()) {
                ui.label(
                    egui::RichText::new(format!(
                        "realnvp sample --checkpoint '{file}' --n {} --temperature {} --seed {}",
                        shown.side * shown.side,
                        shown.temperature,
                        shown.seed
                    ))
                    .monospace()
                    .small(),
                );
            }
        }
    }
}
