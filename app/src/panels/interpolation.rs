//! Interpolation: four corner latents (prior samples, test images or image files), the
//! spec's spherical manifold z = cos φ (cos φ' z1 + sin φ' z2) + sin φ (cos φ' z3 +
//! sin φ' z4), φ and φ' as sliders and as a pad to drag, the image at (φ, φ') and the
//! K x K grid, which can be saved as a PNG.

use std::f64::consts::FRAC_PI_2;

use super::{Panel, Shell, exported_ui};
use crate::dialog::{IMAGE_EXTENSIONS, Pending};
use crate::protocol::{Corner, Export, Interpolation};

pub struct Interpolate {
    pub at: Interpolation,
    /// What was last sent to the worker, and for which model (its generation).
    sent_point: Option<(Interpolation, u64)>,
    sent_manifold: Option<(Interpolation, u64)>,
    /// A file dialog for corner k, or the PNG export's.
    corner_file: [Pending; 4],
    export: Pending,
}

impl Default for Interpolate {
    fn default() -> Self {
        let prior = |index| Corner::Prior {
            seed: 0,
            index,
            temperature: 0.7,
        };
        Interpolate {
            at: Interpolation {
                corners: [prior(0), prior(1), prior(2), prior(3)],
                phi: 0.0,
                phi2: 0.0,
                side: 8,
            },
            sent_point: None,
            sent_manifold: None,
            corner_file: Default::default(),
            export: Pending::default(),
        }
    }
}

impl Interpolate {
    pub const NAME: &str = "Interpolation";
}

impl Panel for Interpolate {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn ui(&mut self, ui: &mut egui::Ui, shell: &Shell<'_>) {
        let worker = shell.worker;
        for (corner, dialog) in self.at.corners.iter_mut().zip(&mut self.corner_file) {
            if let Some(path) = dialog.chosen() {
                *corner = Corner::File(path);
            }
        }
        if let Some(path) = self.export.chosen() {
            worker.request_export(Export::Manifold(self.at.clone()), path);
        }
        ui.horizontal(|ui| {
            for (k, (corner, dialog)) in self
                .at
                .corners
                .iter_mut()
                .zip(&mut self.corner_file)
                .enumerate()
            {
                ui.group(|ui| corner_ui(ui, k, corner, dialog));
            }
        });
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.add(egui::Slider::new(&mut self.at.phi, 0.0..=FRAC_PI_2).text("φ"));
                ui.add(egui::Slider::new(&mut self.at.phi2, 0.0..=FRAC_PI_2).text("φ'"));
                ui.add(egui::Slider::new(&mut self.at.side, 3..=12).text("grid"));
                if ui.button("Export PNG…").clicked() {
                    self.export.save_png(ui.ctx(), "interpolation.png");
                }
            });
            pad(ui, &mut self.at.phi, &mut self.at.phi2);
        });
        let generation = worker.status().generation;
        let sent = (self.at.clone(), generation);
        if self.sent_point.as_ref() != Some(&sent) {
            worker.request_point(self.at.clone());
            self.sent_point = Some(sent);
        }
        let manifold_changed = self.sent_manifold.as_ref().is_none_or(|(m, g)| {
            m.corners != self.at.corners || m.side != self.at.side || *g != generation
        });
        if manifold_changed {
            worker.request_manifold(self.at.clone());
            self.sent_manifold = Some((self.at.clone(), generation));
        }
        let status = worker.status();
        if let Some(e) = &status.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        exported_ui(ui, &status.exported);
        // A failed request is not waited for: its error shows instead.
        let failed = status.interpolation_failed.as_ref() == Some(&self.at);
        let point_pending = !failed && status.point.as_ref().is_none_or(|(at, _)| *at != self.at);
        let grid_pending = !failed
            && status
                .manifold
                .as_ref()
                .is_none_or(|(m, _)| m.corners != self.at.corners || m.side != self.at.side);
        ui.horizontal(|ui| {
            if point_pending || grid_pending {
                ui.spinner();
                ui.label(if point_pending {
                    "decoding the point…"
                } else {
                    "decoding the grid…"
                });
            }
            if let (false, Some(t)) = (point_pending, status.point_latency) {
                ui.label(format!("point in {:.0} ms", t.as_secs_f64() * 1e3));
            }
        });
        ui.horizontal_top(|ui| {
            if let Some((_, point)) = &status.point {
                let side = ui.available_height().clamp(64.0, 320.0);
                ui.add(egui::Image::new((point.id, egui::vec2(side, side))));
            }
            if let Some((_, grid)) = &status.manifold {
                let [w, h] = grid.size.map(|v| v as f32);
                let room = ui.available_size();
                let scale = (room.x / w).min(room.y / h).max(1.0).floor();
                ui.add(egui::Image::new((
                    grid.id,
                    egui::vec2(w * scale, h * scale),
                )));
            }
        });
    }
}

/// The corner's source: a prior draw, a test image or an image file.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    Prior,
    Test,
    File,
}

fn corner_ui(ui: &mut egui::Ui, k: usize, corner: &mut Corner, dialog: &mut Pending) {
    ui.vertical(|ui| {
        ui.label(format!("z{}", k + 1));
        let was = match corner {
            Corner::Prior { .. } => Source::Prior,
            Corner::Dataset { .. } => Source::Test,
            Corner::File(_) => Source::File,
        };
        let mut source = was;
        ui.horizontal(|ui| {
            ui.radio_value(&mut source, Source::Prior, "prior");
            ui.radio_value(&mut source, Source::Test, "test image");
            ui.radio_value(&mut source, Source::File, "file");
        });
        if source != was {
            match source {
                Source::Prior => {
                    *corner = Corner::Prior {
                        seed: 0,
                        index: k,
                        temperature: 0.7,
                    }
                }
                Source::Test => *corner = Corner::Dataset { index: k },
                // The corner changes once a file is chosen.
                Source::File => open_image(ui, dialog),
            }
        }
        match corner {
            Corner::Prior {
                seed, temperature, ..
            } => {
                ui.add(egui::DragValue::new(seed).prefix("seed "));
                ui.add(
                    egui::DragValue::new(temperature)
                        .range(0.0..=1.5)
                        .speed(0.01)
                        .prefix("T "),
                );
            }
            Corner::Dataset { index } => {
                ui.add(egui::DragValue::new(index).range(0..=9999).prefix("#"));
            }
            Corner::File(path) => {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                if ui
                    .button(name)
                    .on_hover_text("choose another file")
                    .clicked()
                {
                    open_image(ui, dialog);
                }
            }
        }
    });
}

fn open_image(ui: &egui::Ui, dialog: &mut Pending) {
    dialog.open(
        ui.ctx(),
        rfd::FileDialog::new().add_filter("PNG or JPEG", IMAGE_EXTENSIONS),
        rfd::FileDialog::pick_file,
    );
}

/// A square to drag: x is φ', y is φ, both 0 to π/2.
fn pad(ui: &mut egui::Ui, phi: &mut f64, phi2: &mut f64) {
    let size = egui::vec2(96.0, 96.0);
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click_and_drag());
    if let Some(pos) = response.interact_pointer_pos() {
        let t = (pos - rect.min) / size;
        *phi2 = (t.x.clamp(0.0, 1.0) as f64) * FRAC_PI_2;
        *phi = (t.y.clamp(0.0, 1.0) as f64) * FRAC_PI_2;
    }
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 4.0, visuals.extreme_bg_color);
    let dot = rect.min
        + egui::vec2(
            (*phi2 / FRAC_PI_2) as f32 * size.x,
            (*phi / FRAC_PI_2) as f32 * size.y,
        );
    painter.circle_filled(dot, 5.0, visuals.selection.bg_fill);
    for (at, name) in [
        (rect.left_top(), "z1"),
        (rect.right_top(), "z2"),
        (rect.left_bottom(), "z3"),
        (rect.right_bottom(), "z4"),
    ] {
        painter.text(
            at,
            egui::Align2::CENTER_CENTER,
            name,
            egui::FontId::proportional(10.0),
            visuals.weak_text_color(),
        );
    }
}
