//! Your image: a PNG or JPEG of any size, resized to the model's shape; the image, its
//! reconstruction f⁻¹(f(x)) with the largest difference, its bits/dim, where that falls
//! among the test set's, and how the bits split over the model's parts.

use egui_plot::{Bar, BarChart, Legend, Plot, VLine};

use super::{Panel, Shell};
use crate::dialog::{IMAGE_EXTENSIONS, Pending};
use crate::files;
use crate::protocol::{ImageReport, TestScores};

#[derive(Default)]
pub struct YourImage {
    dialog: Pending,
}

/// Bars of the test set's histogram.
const BINS: usize = 40;

impl YourImage {
    pub const NAME: &str = "Your image";
}

impl Panel for YourImage {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn ui(&mut self, ui: &mut egui::Ui, shell: &Shell<'_>) {
        let worker = shell.worker;
        ui.horizontal(|ui| {
            if ui.button("Open image…").clicked() {
                let dialog = rfd::FileDialog::new().add_filter("PNG or JPEG", IMAGE_EXTENSIONS);
                self.dialog
                    .open(ui.ctx(), dialog, rfd::FileDialog::pick_file);
            }
            ui.label("or drop a PNG or JPEG on the window: it is resized to the model's shape.");
        });
        if let Some(path) = self.dialog.chosen() {
            worker.request_image(path);
        }
        let status = worker.status();
        if !status.test_scores.finished() {
            worker.request_test_scores();
        }
        match &status.image {
            None => {
                ui.label("No image yet.");
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            Some(Ok(report)) => report_ui(ui, report, &status.test_scores),
        }
    }
}

fn report_ui(ui: &mut egui::Ui, report: &ImageReport, test: &TestScores) {
    let s = &report.score;
    ui.label(egui::RichText::new(files::shown(&report.path)).small());
    ui.horizontal_top(|ui| {
        for (picture, caption) in [
            (&report.image, "x (resized)"),
            (&report.reconstruction, "f^-1(f(x))"),
        ] {
            ui.vertical(|ui| {
                ui.add(egui::Image::new((picture.id, egui::vec2(160.0, 160.0))));
                ui.label(caption);
            });
        }
        ui.vertical(|ui| {
            ui.heading(format!("{:.4} bits/dim", s.bits_per_dim));
            ui.label(format!("{:.1} nats", s.nats));
            ui.label(format!(
                "largest |x - f^-1(f(x))|: {:.2e} (pixels in [0, 1])",
                report.max_error
            ));
            ui.label(verdict(s.bits_per_dim, test));
            ui.add_space(6.0);
            egui::Grid::new("split").striped(true).show(ui, |ui| {
                ui.strong("part");
                ui.strong("bits/dim");
                ui.end_row();
                ui.label("preprocessing (dequantise, logit)");
                ui.label(format!("{:+.4}", s.preprocessing));
                ui.end_row();
                for (k, bits) in s.latent.iter().enumerate() {
                    ui.label(format!("latent z{k}: -log N(z{k})"));
                    ui.label(format!("{bits:+.4}"));
                    ui.end_row();
                }
                for (k, bits) in s.logdet.iter().enumerate() {
                    ui.label(format!("scale {k}: -log|det|"));
                    ui.label(format!("{bits:+.4}"));
                    ui.end_row();
                }
            });
        });
    });
    histogram(ui, s.bits_per_dim, test);
}

/// Where `bpd` falls among the test set's bits/dim.
fn verdict(bpd: f64, test: &TestScores) -> String {
    if let Some(e) = &test.failed {
        return format!("no comparison with the test set: {e}");
    }
    if !test.complete() {
        return format!(
            "scoring the test set for comparison: {} of {}…",
            test.bits_per_dim.len(),
            test.total.max(test.bits_per_dim.len())
        );
    }
    let n = test.bits_per_dim.len();
    let below = test.bits_per_dim.iter().filter(|&&b| b < bpd).count();
    let share = below as f64 / n as f64;
    let kind = if share > 0.99 {
        "out of distribution for this model: less likely than 99% of the test set"
    } else if share < 0.01 {
        "more likely than 99% of the test set (often a plain image)"
    } else {
        "typical"
    };
    format!("above {:.1}% of the {n} test images: {kind}", share * 100.0)
}

fn histogram(ui: &mut egui::Ui, bpd: f64, test: &TestScores) {
    let mut scores = test.bits_per_dim.clone();
    if scores.is_empty() {
        return;
    }
    // The middle 99% of the test set and the image: a few outliers would squeeze
    // everything else into a bin or two. Those beyond go into the edge bins.
    scores.sort_by(f64::total_cmp);
    let at = |q: f64| scores[((scores.len() - 1) as f64 * q).round() as usize];
    let lo = at(0.005).min(bpd);
    let hi = at(0.995).max(bpd);
    let width = ((hi - lo) / BINS as f64).max(1e-6);
    let mut counts = [0usize; BINS];
    for &b in &scores {
        let bin = ((b - lo) / width).floor().clamp(0.0, (BINS - 1) as f64);
        counts[bin as usize] += 1;
    }
    let beyond = scores.iter().filter(|&&b| b < lo || b > hi).count();
    if beyond > 0 {
        ui.label(
            egui::RichText::new(format!(
                "{beyond} test images beyond {lo:.2}..{hi:.2} bits/dim are counted in the edge bars"
            ))
            .small(),
        );
    }
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| Bar::new(lo + (i as f64 + 0.5) * width, c as f64).width(width))
        .collect();
    let marker = ui.visuals().error_fg_color;
    Plot::new("test histogram")
        .legend(Legend::default())
        .height(ui.available_height().clamp(120.0, 260.0))
        .x_axis_label("bits/dim")
        .y_axis_label("test images")
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("test set", bars));
            plot.vline(VLine::new("your image", bpd).color(marker).width(2.0));
        });
}
