//! Training: train the open model (or a new one from a preset) on the same device, in
//! the GPU worker, through the CLI's own `Trainer`: start, pause, single step, stop, the
//! learning rate; bits/dim curves with the loss in nats; images/s, step and ETA; samples
//! from fixed latents redrawn as it learns; save a checkpoint, resume a run.

use std::path::PathBuf;

use egui_plot::{Legend, Line, Plot, Points};

use super::{Panel, Shell};
use crate::dialog::Pending;
use crate::protocol::{RunState, StartFrom, TrainCommand, TrainSetup, TrainingView};
use crate::worker::Worker;

pub struct Training {
    pub setup: TrainSetup,
    /// The learning rate last sent to a run.
    lr_sent: Option<f32>,
    folder: Pending,
    resume: Pending,
    save: Pending,
}

impl Default for Training {
    fn default() -> Self {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Training {
            setup: TrainSetup {
                from: StartFrom::OpenModel,
                epochs: 1,
                lr: 1e-3,
                seed: 0,
                checkpoint_every: 100,
                out: PathBuf::from(format!("runs/app-{stamp}")),
            },
            lr_sent: None,
            folder: Pending::default(),
            resume: Pending::default(),
            save: Pending::default(),
        }
    }
}

impl Training {
    pub const NAME: &str = "Training";
}

impl Panel for Training {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// A new model can be trained with none open.
    fn works_without_model(&self) -> bool {
        true
    }

    fn ui(&mut self, ui: &mut egui::Ui, shell: &Shell<'_>) {
        let worker = shell.worker;
        if let Some(dir) = self.folder.chosen() {
            self.setup.out = dir;
        }
        if let Some(dir) = self.resume.chosen() {
            worker.train(TrainCommand::Resume(dir));
        }
        if let Some(path) = self.save.chosen() {
            worker.train(TrainCommand::SaveAs(path));
        }
        let (view, error) = {
            let status = worker.status();
            (status.training.clone(), status.training_error.clone())
        };
        if let Some(e) = error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let active = view
            .as_ref()
            .is_some_and(|v| matches!(v.state, RunState::Running | RunState::Paused));
        ui.add_enabled_ui(!active, |ui| self.setup_ui(ui, worker));
        ui.separator();
        let Some(view) = view else {
            ui.label("No run yet: start one above, or resume a run's folder.");
            return;
        };
        self.controls_ui(ui, worker, &view, active);
        progress_ui(ui, &view);
        ui.horizontal_top(|ui| {
            if let Some(picture) = &view.samples {
                let [w, h] = picture.size.map(|v| v as f32);
                let scale = (300.0 / w).max(1.0).floor();
                ui.vertical(|ui| {
                    ui.add(egui::Image::new((
                        picture.id,
                        egui::vec2(w * scale, h * scale),
                    )));
                    ui.label(egui::RichText::new("fixed latents, T = 0.7").small());
                });
            }
            curves_ui(ui, &view);
        });
    }
}

impl Training {
    fn setup_ui(&mut self, ui: &mut egui::Ui, worker: &Worker) {
        let s = &mut self.setup;
        ui.horizontal(|ui| {
            ui.label("train");
            ui.radio_value(&mut s.from, StartFrom::OpenModel, "the open model")
                .on_hover_text(
                    "a checkpoint continues with its optimizer state; a weights-only file \
                     starts a fresh optimizer (as realnvp train --init)",
                );
            let preset = matches!(s.from, StartFrom::Preset(_));
            if ui.radio(preset, "a new model:").clicked() && !preset {
                s.from = StartFrom::Preset("mnist".into());
            }
            if let StartFrom::Preset(name) = &mut s.from {
                egui::ComboBox::from_id_salt("preset")
                    .selected_text(name.as_str())
                    .show_ui(ui, |ui| {
                        // The bundled data is MNIST: the presets it can train.
                        for p in ["tiny", "mnist"] {
                            ui.selectable_value(name, p.to_owned(), p);
                        }
                    });
            }
            ui.label("on the bundled MNIST subset");
        });
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut s.epochs)
                    .range(1..=1000)
                    .prefix("epochs "),
            );
            ui.add(egui::DragValue::new(&mut s.seed).prefix("seed "));
            ui.add(
                egui::DragValue::new(&mut s.checkpoint_every)
                    .range(0..=100_000)
                    .prefix("checkpoint every ")
                    .suffix(" steps"),
            );
        });
        ui.horizontal(|ui| {
            let label = ui.label("folder");
            let mut text = s.out.display().to_string();
            if ui
                .text_edit_singleline(&mut text)
                .labelled_by(label.id)
                .changed()
            {
                s.out = PathBuf::from(text);
            }
            if ui.button("Choose…").clicked() {
                self.folder.open(
                    ui.ctx(),
                    rfd::FileDialog::new(),
                    rfd::FileDialog::pick_folder,
                );
            }
        });
        ui.horizontal(|ui| {
            if ui.button("Start").clicked() {
                worker.train(TrainCommand::Start(self.setup.clone()));
                self.lr_sent = Some(self.setup.lr);
            }
            if ui.button("Resume a run…").clicked() {
                self.resume.open(
                    ui.ctx(),
                    rfd::FileDialog::new()
                        .set_title("A run's folder (it holds checkpoint.safetensors)"),
                    rfd::FileDialog::pick_folder,
                );
            }
        });
    }

    fn controls_ui(
        &mut self,
        ui: &mut egui::Ui,
        worker: &Worker,
        view: &TrainingView,
        active: bool,
    ) {
        ui.horizontal(|ui| {
            ui.strong(match view.state {
                RunState::Running => "running",
                RunState::Paused => "paused",
                RunState::Finished => "finished",
                RunState::Stopped => "stopped",
                RunState::Failed => "failed",
            });
            let buttons = match view.state {
                RunState::Running => vec![("Pause", TrainCommand::Pause)],
                RunState::Paused => vec![("Run", TrainCommand::Run), ("Step", TrainCommand::Step)],
                _ => Vec::new(),
            };
            for (label, command) in buttons {
                if ui.button(label).clicked() {
                    worker.train(command);
                }
            }
            if active
                && ui
                    .button("Stop")
                    .on_hover_text("save, end the run and open its checkpoint")
                    .clicked()
            {
                worker.train(TrainCommand::Stop);
            }
            if matches!(
                view.state,
                RunState::Running | RunState::Paused | RunState::Finished
            ) && ui.button("Save as…").clicked()
            {
                self.save.open(
                    ui.ctx(),
                    rfd::FileDialog::new()
                        .add_filter("safetensors", &["safetensors"])
                        .set_file_name("checkpoint.safetensors"),
                    rfd::FileDialog::save_file,
                );
            }
            let lr = ui.add(
                egui::Slider::new(&mut self.setup.lr, 1e-5..=1e-2)
                    .logarithmic(true)
                    .text("learning rate"),
            );
            if active && lr.changed() && self.lr_sent != Some(self.setup.lr) {
                worker.train(TrainCommand::LearningRate(self.setup.lr));
                self.lr_sent = Some(self.setup.lr);
            }
        });
        if let Some(m) = &view.message {
            let color = if view.state == RunState::Failed {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().weak_text_color()
            };
            ui.colored_label(color, m);
        }
    }
}

fn progress_ui(ui: &mut egui::Ui, view: &TrainingView) {
    let p = view.position;
    let mut line = format!(
        "step {} of {}  ·  epoch {} (batch {} of {})  ·  lr {:.1e}",
        p.step, view.total_steps, p.epoch, p.batch, view.batches_per_epoch, view.lr
    );
    if let Some(&[_, bpd]) = view.train_curve.last() {
        line += &format!("  ·  {bpd:.3} bits/dim");
    }
    if let Some(nats) = view.last_nats {
        line += &format!(" ({nats:.1} nats per image)");
    }
    if let Some(ips) = view.images_per_second {
        line += &format!("  ·  {ips:.1} images/s");
    }
    if view.state == RunState::Running
        && let Some(eta) = view.eta()
    {
        let s = eta.as_secs();
        line += &format!("  ·  ETA {}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    }
    ui.horizontal(|ui| {
        if view.state == RunState::Running {
            ui.spinner();
        }
        ui.label(line);
    });
    let total = view.total_steps.max(1) as f32;
    ui.add(egui::ProgressBar::new(p.step as f32 / total).desired_height(6.0));
}

fn curves_ui(ui: &mut egui::Ui, view: &TrainingView) {
    Plot::new("curves")
        .legend(Legend::default())
        .x_axis_label("step")
        .y_axis_label("bits/dim")
        .height(ui.available_height().clamp(160.0, 360.0))
        .show(ui, |plot| {
            plot.line(Line::new("train (training mode)", view.train_curve.clone()));
            plot.line(Line::new("test (evaluation mode)", view.test_curve.clone()));
            // An epoch's single test point still shows.
            plot.points(Points::new("test (evaluation mode)", view.test_curve.clone()).radius(3.0));
        });
}
