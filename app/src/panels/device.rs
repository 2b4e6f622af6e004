//! Device: what the app computes and draws on, how much GPU memory its buffers hold, and
//! how long the last GPU request took.

use realnvp::Gpu;

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
                row("kernel family", format!("{:?}", gpu.kernels));
                let pool = gpu.pool_stats();
                row(
                    "GPU memory in buffers",
                    format!(
                        "{:.1} MB in {} buffers",
                        pool.bytes_created as f64 / 1e6,
                        pool.buffers_created
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
    }
}
