//! The window's panels, one file each, behind one [`Panel`] trait (as egui's demo app
//! does with its `Demo`/`View` traits): [`Panels::list`] is the one list that both the
//! tab bar and the dispatch loop over, so adding a panel means adding it there.

pub mod device;
pub mod interpolation;
pub mod samples;
pub mod training;
pub mod your_image;

use realnvp::Gpu;

use crate::files;
use crate::protocol::ModelInfo;
use crate::worker::Worker;

/// What every panel may use: the worker to ask, the device, and the open model.
pub struct Shell<'a> {
    pub worker: &'a Worker,
    pub gpu: &'a Gpu,
    pub model: Option<&'a ModelInfo>,
}

pub trait Panel {
    /// The tab's title, which also identifies the panel.
    fn name(&self) -> &'static str;

    /// Whether the panel has anything to show with no model open.
    fn works_without_model(&self) -> bool {
        false
    }

    fn ui(&mut self, ui: &mut egui::Ui, shell: &Shell<'_>);
}

#[derive(Default)]
pub struct Panels {
    pub samples: samples::Samples,
    pub interpolation: interpolation::Interpolate,
    pub your_image: your_image::YourImage,
    pub training: training::Training,
    pub device: device::Device,
}

impl Panels {
    /// Every panel, in tab order.
    pub fn list(&mut self) -> [&mut dyn Panel; 5] {
        [
            &mut self.samples,
            &mut self.interpolation,
            &mut self.your_image,
            &mut self.training,
            &mut self.device,
        ]
    }

    /// A tab per panel; `shown` is the name of the one shown.
    pub fn tabs(&mut self, ui: &mut egui::Ui, shown: &mut &'static str) {
        for panel in self.list() {
            ui.selectable_value(shown, panel.name(), panel.name());
        }
    }

    /// The panel named `name`.
    pub fn named(&mut self, name: &str) -> Option<&mut dyn Panel> {
        self.list().into_iter().find(|p| p.name() == name)
    }
}

/// The last PNG export's outcome (Samples and Interpolation both export).
fn exported_ui(ui: &mut egui::Ui, exported: &Option<Result<std::path::PathBuf, String>>) {
    match exported {
        Some(Ok(path)) => {
            ui.label(format!("saved {}", files::shown(path)));
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("export failed: {e}"));
        }
        None => {}
    }
}
