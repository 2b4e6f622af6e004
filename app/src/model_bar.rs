//! The line above every panel: the open model, or why there is none.

use crate::protocol::ModelInfo;

/// Shows the open model, or that it is opening or missing; whether the panel below
/// has something to show (`works_without_model`: it has even with no model).
pub fn ui(
    ui: &mut egui::Ui,
    model: Option<&ModelInfo>,
    opening: bool,
    works_without_model: bool,
) -> bool {
    match model {
        Some(model) => {
            let c = &model.config;
            let line = format!(
                "{} ({})  ·  {}x{}x{}, {} scales, {} parameters",
                model.name,
                model.contents,
                c.channels,
                c.height,
                c.width,
                c.scales,
                model.parameters
            );
            ui.label(egui::RichText::new(line).small());
            true
        }
        None if works_without_model => true,
        None if opening => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("opening the model...");
            });
            false
        }
        None => {
            ui.label(
                "No model is open. Open one (top right), start with --checkpoint FILE, drop \
                 a checkpoint or weights-only .safetensors file on this window, or train one \
                 (Training).",
            );
            false
        }
    }
}
