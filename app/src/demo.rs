//! `--demo`: the sliders move by themselves and the app prints its own timing, for
//! demos, for the figures in docs/PERFORMANCE.md and for the window test, which waits
//! for these lines.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::panels::Panels;
use crate::panels::interpolation::Interpolate;
use crate::panels::samples::Samples;
use crate::worker::Worker;

/// Seconds at least between two steps.
const STEP_EVERY: f32 = 1.5;

#[derive(Default)]
pub struct Demo {
    last_step: Option<Instant>,
}

impl Demo {
    /// On the Samples panel: once the grid asked for is shown, and at most every
    /// [`STEP_EVERY`] seconds, raises the temperature by 0.1 (from 0.3 again past 1.5),
    /// so consecutive grids differ. On the Interpolation panel the same with φ, once the
    /// point is shown. Each step prints the app's timing.
    pub fn step(&mut self, ctx: &egui::Context, tab: &str, panels: &mut Panels, worker: &Worker) {
        let due = self
            .last_step
            .is_none_or(|t| t.elapsed().as_secs_f32() >= STEP_EVERY);
        let status = worker.status();
        let model = status
            .model
            .as_ref()
            .map_or("no model", |m| m.name.as_str());
        let frame_ms = panels
            .device
            .frame_intervals()
            .map_or(f32::NAN, |(mean, _)| mean * 1e3);
        let seconds = |t: Option<Duration>| t.map_or(f64::NAN, |t| t.as_secs_f64());
        let stepped = match tab {
            Samples::NAME => {
                let grid = &mut panels.samples.grid;
                let shown = status.samples.as_ref().is_some_and(|(g, _)| g == grid);
                (shown && !status.busy && due).then(|| {
                    // A closed stdout does not stop the demo.
                    let _ = writeln!(
                        std::io::stdout(),
                        "demo: {model}: grid shown at temperature {:.1} (request to texture \
                         {:.2} s, mean frame interval while decoding {frame_ms:.0} ms)",
                        grid.temperature,
                        seconds(status.samples_latency),
                    );
                    let t = &mut grid.temperature;
                    *t = if *t + 0.1 > 1.5 { 0.3 } else { *t + 0.1 };
                })
            }
            Interpolate::NAME => {
                let at = &mut panels.interpolation.at;
                let shown = status.point.as_ref().is_some_and(|(p, _)| p == at);
                (shown && due).then(|| {
                    let _ = writeln!(
                        std::io::stdout(),
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
            self.last_step = Some(Instant::now());
        }
        // Keep frames coming so the next step is checked without other input.
        ctx.request_repaint_after(Duration::from_millis(200));
    }
}
