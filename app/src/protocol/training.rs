//! Training requests and what the Training panel shows of a run.

use std::path::PathBuf;
use std::time::Duration;

use realnvp::train::Position;

use crate::pictures::Picture;

/// What a new run starts from.
#[derive(Clone, Debug, PartialEq)]
pub enum StartFrom {
    /// The open model: a training checkpoint keeps its optimizer state (a fresh Adam
    /// would jolt trained weights with full-size first steps); a weights-only file
    /// starts a fresh optimizer, as `realnvp train --init`.
    OpenModel,
    /// A freshly initialised model of a preset.
    Preset(String),
}

/// A new run's settings, as the Training panel sets them.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSetup {
    pub from: StartFrom,
    pub epochs: u64,
    pub lr: f32,
    pub seed: u64,
    pub checkpoint_every: u64,
    /// The run's folder: checkpoint, metrics and per-epoch sample grids.
    pub out: PathBuf,
}

pub enum TrainCommand {
    Start(TrainSetup),
    /// Continues the run saved in this folder.
    Resume(PathBuf),
    Run,
    Pause,
    /// One unit of work while paused.
    Step,
    /// Saves, ends the run and opens its checkpoint in the other panels.
    Stop,
    LearningRate(f32),
    /// Saves the run's checkpoint and copies it to this file.
    SaveAs(PathBuf),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Running,
    Paused,
    /// The settings are met; the checkpoint is saved.
    Finished,
    /// Stopped by the user after saving.
    Stopped,
    /// A step failed (a non-finite loss, for one): the run is gone, its last
    /// checkpoint stays.
    Failed,
}

/// What the Training panel shows of a run.
#[derive(Clone)]
pub struct TrainingView {
    pub state: RunState,
    pub out: PathBuf,
    pub position: Position,
    pub batches_per_epoch: u64,
    /// Steps when the settings are met.
    pub total_steps: u64,
    pub lr: f32,
    /// (step, training-mode bits/dim) of every step.
    pub train_curve: Vec<[f64; 2]>,
    /// (step, evaluation-mode test bits/dim) of every epoch's end.
    pub test_curve: Vec<[f64; 2]>,
    /// The last step's loss in nats per image.
    pub last_nats: Option<f64>,
    pub images_per_second: Option<f64>,
    /// Recent seconds per step (a moving average), for the ETA.
    pub seconds_per_step: Option<f64>,
    /// Samples from fixed latents, redrawn as the model learns.
    pub samples: Option<Picture>,
    /// What happened last: a checkpoint saved, an error.
    pub message: Option<String>,
}

impl TrainingView {
    /// Time left at the recent rate (epoch ends not counted).
    pub fn eta(&self) -> Option<Duration> {
        let left = self.total_steps.saturating_sub(self.position.step);
        self.seconds_per_step
            .map(|s| Duration::from_secs_f64(s * left as f64))
    }
}
