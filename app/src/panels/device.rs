//! Device: what the app computes and draws on, how much GPU memory its buffers hold, and
//! how long the last GPU request took.

use realnvp::Gpu;
use realnvp::ops::conv2d::ConvKernels;

use crate::worker::Status;

/// Frame timing while the worker runs, averaged over recent frames.
#[derive(Default)]
pub struct Device {
    /// Seconds between frames while the GPU worker is busy (a moving average).
    pub frame_interval: f32,
}

impl Device {
    /// Folds this frame's interval into the average.
    pub fn record_frame(&mut self, dt: f32) {
        self.frame_interval = if self.frame_interval == 0.0 {
            dt
        } else {
            0.9 * self.frame_interval + 0.1 * dt
        };
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, gpu: &Gpu, status: &Status) {
        let info = &gpu.info;
        egui::Grid::new("device")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                let mut row = |name: &str, value: String| {
                    ui.label(name);
                    ui.label(value);
                    ui.end_row();
                };
                row("adapter", info.name.clone());
                row("backend", format!("{:?}", info.backend));
                row("type", format!("{:?}", info.device_type));
                row("driver", format!("{} {}", info.driver, info.driver_info));
                row(
                    "conv kernels",
                    match gpu.tuning() {
                        None => format!("{:?} family, not tuned", gpu.kernels),
                        Some(t) => format!(
                            "tuned per shape ({} shapes in the cache), else the {:?} family",
                            t.choices().len(),
                            gpu.kernels
                        ),
                    },
                );
                let pool = gpu.pool_stats();
                row(
                    "GPU memory in buffers",
                    format!(
                        "{:.1} MB in {} buffers",
                        pool.bytes_held as f64 / 1e6,
                        pool.buffers_held
                    ),
                );
                row(
                    "frame interval",
                    format!(
                        "{:.0} ms (while the GPU worker runs)",
                        self.frame_interval * 1e3
                    ),
                );
                row(
                    "last GPU request",
                    status.last_latency.map_or("none yet".to_owned(), |t| {
                        format!("{:.0} ms", t.as_secs_f64() * 1e3)
                    }),
                );
            });
        if let Some(tuning) = gpu.tuning() {
            egui::CollapsingHeader::new("tuned conv kernels").show(ui, |ui| {
                // The cache holds every shape tuned on this machine: it can outgrow the window.
                egui::ScrollArea::vertical().show(ui, |ui| {
                    egui::Grid::new("tuned kernels")
                        .num_columns(2)
                        .striped(true)
                        .show(ui, |ui| {
                            for (shape, choice) in tuning.choices() {
                                ui.label(shape);
                                ui.label(describe_choice(choice));
                                ui.end_row();
                            }
                        });
                });
            });
        }
    }
}

/// "forward Direct16, grad input Direct8, grad weight Direct16", or the raw value of a
/// choice this version does not know.
fn describe_choice(choice: serde_json::Value) -> String {
    match serde_json::from_value::<ConvKernels>(choice.clone()) {
        Ok(k) => format!(
            "forward {:?}, grad input {:?}, grad weight {:?}",
            k.forward, k.grad_input, k.grad_weight
        ),
        Err(_) => choice.to_string(),
    }
}
