//! Device: what the app computes and draws on, how much GPU memory its buffers hold, and
//! how long the last GPU request took.

use std::collections::VecDeque;
use std::time::Instant;

use realnvp::ops::conv2d::ConvKernels;

use super::{Panel, Shell};

/// How long recent frames took while the worker ran (the figure that tells whether
/// the window keeps up with the GPU work on the shared queue): the frame interval row
/// covers the busy frames of the last few seconds only.
#[derive(Default)]
pub struct Device {
    /// (when, seconds since the previous frame) of the busy frames of the last
    /// [`FRAME_WINDOW`] seconds.
    recent: VecDeque<(Instant, f32)>,
}

/// Seconds of frames the interval figures cover.
pub const FRAME_WINDOW: f32 = 5.0;

impl Device {
    pub const NAME: &str = "Device";

    /// Records a frame drawn while the worker was busy, `dt` after the previous one.
    pub fn record_frame(&mut self, dt: f32) {
        let now = Instant::now();
        self.recent.push_back((now, dt));
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| (now - *t).as_secs_f32() > FRAME_WINDOW)
        {
            self.recent.pop_front();
        }
    }

    /// Mean and longest interval (seconds) of the busy frames of the last
    /// [`FRAME_WINDOW`] seconds, if there were any.
    pub fn frame_intervals(&self) -> Option<(f32, f32)> {
        let recent: Vec<f32> = self
            .recent
            .iter()
            .filter(|(t, _)| t.elapsed().as_secs_f32() <= FRAME_WINDOW)
            .map(|&(_, dt)| dt)
            .collect();
        let longest = recent.iter().copied().reduce(f32::max)?;
        Some((recent.iter().sum::<f32>() / recent.len() as f32, longest))
    }
}

impl Panel for Device {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn ui(&mut self, ui: &mut egui::Ui, shell: &Shell<'_>) {
        let (gpu, status) = (shell.gpu, shell.worker.status());
        // Nothing here animates: without asking for frames the interval would measure
        // how seldom egui repaints, not how fast the window can draw beside the worker.
        if status.busy {
            ui.ctx().request_repaint();
        }
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
                    match self.frame_intervals() {
                        // Short: the widest value sets the grid's width in the snapshot.
                        Some((mean, longest)) => format!(
                            "mean {:.0} ms, longest {:.0} ms (last {FRAME_WINDOW:.0} s)",
                            mean * 1e3,
                            longest * 1e3
                        ),
                        None => format!("worker idle for {FRAME_WINDOW:.0} s"),
                    },
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
