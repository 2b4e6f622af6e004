//! Training in the worker: the CLI's own `Trainer`, advanced one unit (a step, or an
//! epoch's end) per job so that picture requests run between steps; its curves, rates
//! and a grid of samples from fixed latents for the Training panel.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use realnvp::Gpu;
use realnvp::checkpoint::{self, replace_file};
use realnvp::data;
use realnvp::model::ModelConfig;
use realnvp::model::latent::at_temperature;
use realnvp::model::plan::Memory;
use realnvp::model::saved::Contents;
use realnvp::model::state::ModelState;
use realnvp::train::CHECKPOINT_FILE;
use realnvp::train::{Event, Position, ResumeChanges, Settings, Trainer, prepare_new_run};

use super::WorkerState;
use super::jobs::unwinding;
use crate::files;
use crate::pictures::Purpose;
use crate::protocol::{
    ModelSource, RunState, StartFrom, Status, TrainCommand, TrainSetup, TrainingView,
};

/// A new run's view, as it stands before its first step.
fn new_view(trainer: &Trainer) -> TrainingView {
    let per_epoch = trainer.batches_per_epoch();
    let s = &trainer.settings;
    TrainingView {
        state: RunState::Running,
        out: trainer.out().to_owned(),
        position: trainer.position,
        batches_per_epoch: per_epoch,
        total_steps: s
            .max_steps
            .unwrap_or(u64::MAX)
            .min(s.epochs.saturating_mul(per_epoch)),
        lr: s.lr,
        train_curve: Vec::new(),
        test_curve: Vec::new(),
        last_nats: None,
        images_per_second: None,
        seconds_per_step: None,
        samples: None,
        message: None,
    }
}

/// The run the worker owns.
pub(super) struct TrainingRun {
    trainer: Trainer,
    running: bool,
    /// Fixed latents of the sample grid.
    latents: Vec<Vec<f32>>,
    /// When the grid was last drawn and how long that took.
    last_grid: Option<(Instant, Duration)>,
    last_step: Option<Instant>,
}

impl TrainingRun {
    /// Another unit of work is due without being asked for.
    pub(super) fn due(&self) -> bool {
        self.running && !self.trainer.done()
    }

    /// Saves the run's checkpoint.
    pub(super) fn save(&mut self) -> realnvp::Result<PathBuf> {
        self.trainer.save()
    }
}

/// Dispatches per submission of a training run's passes on a CPU adapter (see
/// [`realnvp::Gpu::submit_dispatches`]): an `mnist` conv at batch 64 takes 0.1-0.3 s on
/// lavapipe and each slice costs a ~6 ms round trip: with 4 the window redrew every
/// ~0.2 s while training (no gap above 1.5 s), for ~15% of the step's speed.
const DISPATCHES_PER_SUBMISSION_ON_CPU: usize = 4;

/// Samples per side of the training grid, and their temperature.
const GRID_SIDE: usize = 4;
const GRID_TEMPERATURE: f32 = 0.7;

impl WorkerState {
    pub(super) fn train_command(
        &mut self,
        command: TrainCommand,
        status: &Mutex<Status>,
    ) -> anyhow::Result<()> {
        let result = match command {
            TrainCommand::Start(setup) => self.start_run(setup, status),
            TrainCommand::Resume(dir) => self.resume_run(&dir, status),
            TrainCommand::Run | TrainCommand::Pause => {
                let running = matches!(command, TrainCommand::Run);
                if let Some(run) = &mut self.training {
                    run.running = running;
                    run.last_step = None;
                    set_state(status, run_state(run));
                }
                Ok(())
            }
            TrainCommand::Step => self.train_unit(status),
            TrainCommand::Stop => self.stop_run(status),
            TrainCommand::LearningRate(lr) => match &mut self.training {
                Some(run) => {
                    run.trainer.set_learning_rate(lr)?;
                    with_view(status, |v| v.lr = lr);
                    Ok(())
                }
                None => Ok(()),
            },
            TrainCommand::SaveAs(path) => match &mut self.training {
                Some(run) => {
                    let saved = run.trainer.save()?;
                    // Read whole, then written atomically: a copy onto the run's own
                    // file (or a failed write) never leaves it truncated.
                    let bytes = std::fs::read(&saved)?;
                    replace_file(&path, &bytes).map_err(|e| {
                        anyhow::anyhow!(
                            "cannot save the checkpoint as {}: {e}",
                            files::shown(&path)
                        )
                    })?;
                    with_view(status, |v| {
                        v.message = Some(format!("saved a copy as {}", files::shown(&path)))
                    });
                    Ok(())
                }
                None => anyhow::bail!("no run to save"),
            },
        };
        status.lock().unwrap().training_error = result.err().map(|e| format!("{e:#}"));
        Ok(())
    }

    fn start_run(&mut self, setup: TrainSetup, status: &Mutex<Status>) -> anyhow::Result<()> {
        // The library's rule; a run already there is said in the panel's words.
        if let Err(e) = prepare_new_run(&setup.out, false) {
            if setup.out.join(CHECKPOINT_FILE).exists() {
                anyhow::bail!(
                    "{} already holds a run: continue it with Resume a run…, or choose \
                     another folder",
                    files::shown(&setup.out)
                );
            }
            return Err(e.into());
        }
        let state = match &setup.from {
            StartFrom::Preset(name) => {
                ModelState::new(self.gpu.clone(), ModelConfig::preset(name)?, setup.seed)?
            }
            StartFrom::OpenModel => match self.open.as_ref().map(|open| &open.source) {
                Some(ModelSource::File(path)) => open_for_training(&self.gpu, path, setup.seed)?,
                Some(ModelSource::New(config, seed)) => {
                    ModelState::new(self.gpu.clone(), config.clone(), *seed)?
                }
                None => anyhow::bail!("no model is open: choose a preset"),
            },
        };
        let (data, _) = data::load_for_model(None, state.config.chw())?;
        let settings = Settings {
            epochs: setup.epochs,
            max_steps: None,
            lr: setup.lr,
            seed: setup.seed,
            checkpoint_every: setup.checkpoint_every,
            samples: GRID_SIDE * GRID_SIDE,
            temperature: GRID_TEMPERATURE,
            data: None,
            train_images: data.train.len(),
            // Memory independent of depth: the device also draws the window.
            memory: Memory::Recompute,
        };
        self.end_run_in(&setup.out);
        let trainer = Trainer::new(state, data, settings, Position::default(), &setup.out)?;
        self.begin(trainer, status);
        Ok(())
    }

    fn resume_run(&mut self, dir: &Path, status: &Mutex<Status>) -> anyhow::Result<()> {
        self.end_run_in(dir);
        // Memory independent of depth here too, whatever the run used before.
        let trainer = Trainer::resume(
            self.gpu.clone(),
            dir,
            ResumeChanges {
                memory: Some(Memory::Recompute),
                ..Default::default()
            },
            |config, saved| Ok(data::load_for_model(saved, config.chw())?.0),
        )?;
        self.begin(trainer, status);
        Ok(())
    }

    /// Saves and ends the run under way if it writes into `dir`: it holds that folder's
    /// lock, and a run started or resumed there takes it over.
    fn end_run_in(&mut self, dir: &Path) {
        if let Some(mut run) = self
            .training
            .take_if(|run| files::same_file(run.trainer.out(), dir))
        {
            let _ = run.save();
        }
    }

    /// Makes `trainer` the run (replacing one under way, which is saved first). The
    /// status forgets the old run's grid before its texture is freed.
    fn begin(&mut self, mut trainer: Trainer, status: &Mutex<Status>) {
        if let Some(mut old) = self.training.take() {
            let _ = old.save();
        }
        // The window's frames share the queue: on a CPU adapter a training step or an
        // evaluation pass would otherwise be one submission of many seconds for them to
        // wait behind.
        if self.gpu.info.device_type == wgpu::DeviceType::Cpu {
            trainer.set_dispatches_per_submission(Some(DISPATCHES_PER_SUBMISSION_ON_CPU));
        }
        let latents = trainer
            .plan()
            .prior_latents(trainer.settings.seed, GRID_SIDE * GRID_SIDE)
            .iter()
            .map(|z| at_temperature(z, GRID_TEMPERATURE))
            .collect();
        let run = TrainingRun {
            running: !trainer.done(),
            trainer,
            latents,
            last_grid: None,
            last_step: None,
        };
        let mut view = new_view(&run.trainer);
        view.state = run_state(&run);
        status.lock().unwrap().training = Some(view);
        self.pictures.forget(Purpose::Training);
        self.training = Some(run);
    }

    /// One step (or an epoch's end) of the run, then the sample grid if it is due; the
    /// state shown follows the run whatever happened.
    pub(super) fn train_unit(&mut self, status: &Mutex<Status>) -> anyhow::Result<()> {
        let result = self.advance_run(status);
        if let Some(run) = &self.training {
            set_state(status, run_state(run));
        }
        result
    }

    fn advance_run(&mut self, status: &Mutex<Status>) -> anyhow::Result<()> {
        let Some(run) = &mut self.training else {
            return Ok(());
        };
        let mut epoch_ended = false;
        let mut on_event = |event: Event<'_>| match event {
            Event::Step {
                position,
                bits_per_dim,
                images_per_second,
            } => with_view(status, |v| {
                v.position = position;
                v.train_curve.push([position.step as f64, bits_per_dim]);
                v.images_per_second = Some(images_per_second);
            }),
            Event::Epoch { test, .. } => {
                epoch_ended = true;
                if let Some(test) = test {
                    with_view(status, |v| {
                        v.test_curve
                            .push([v.position.step as f64, test.bits_per_dim])
                    });
                }
            }
            Event::Checkpoint { path } => with_view(status, |v| {
                v.message = Some(format!("checkpoint saved: {}", files::shown(path)))
            }),
            Event::Start { .. } => {}
        };
        // A panic in a step stops the run as an error does: taken again, it would recur.
        let result = unwinding(|| Ok(run.trainer.advance(&mut on_event)?));
        if let Err(e) = result {
            // The trainer's message names the last good checkpoint.
            self.training = None;
            with_view(status, |v| {
                v.state = RunState::Failed;
                v.samples = None;
                v.message = Some(format!("training stopped: {e}"));
            });
            self.pictures.forget(Purpose::Training);
            return Ok(());
        }
        // The rate counts steps taken back to back only (not single steps, not the
        // time an epoch's end takes).
        let now = Instant::now();
        let last = if run.running {
            run.last_step.replace(now)
        } else {
            run.last_step.take()
        };
        if let Some(last) = last
            && !epoch_ended
        {
            let dt = (now - last).as_secs_f64();
            with_view(status, |v| {
                v.seconds_per_step = Some(v.seconds_per_step.map_or(dt, |s| 0.8 * s + 0.2 * dt));
            });
        }
        let nats = status.lock().unwrap().training.as_ref().and_then(|v| {
            v.train_curve
                .last()
                .map(|&[_, bpd]| run.trainer.nats_per_image(bpd))
        });
        with_view(status, |v| {
            v.last_nats = nats;
            v.position = run.trainer.position;
        });
        if run.trainer.done() {
            let saved = run.trainer.save()?;
            run.running = false;
            with_view(status, |v| {
                v.message = Some(format!("finished: {}", files::shown(&saved)))
            });
        }
        // Drawing costs at most a fifth of the time, except at an epoch's end, the
        // run's end and after a single step.
        let due = epoch_ended
            || !run.running
            || run
                .last_grid
                .is_none_or(|(at, cost)| at.elapsed() >= cost * 4);
        if due {
            let start = Instant::now();
            let picture = self.pictures.draw(
                run.trainer.plan(),
                Purpose::Training,
                GRID_SIDE,
                &run.latents,
            )?;
            run.last_grid = Some((Instant::now(), start.elapsed()));
            with_view(status, |v| v.samples = Some(picture));
        }
        set_state(status, run_state(run));
        Ok(())
    }

    /// Saves the run, ends it and opens its checkpoint as the model of the other panels.
    fn stop_run(&mut self, status: &Mutex<Status>) -> anyhow::Result<()> {
        let Some(mut run) = self.training.take() else {
            return Ok(());
        };
        let saved = run.trainer.save()?;
        drop(run);
        with_view(status, |v| {
            v.state = RunState::Stopped;
            v.samples = None;
            v.message = Some(format!(
                "stopped: saved {} and opened it in the other panels",
                files::shown(&saved)
            ));
        });
        self.pictures.forget(Purpose::Training);
        self.open_model(&ModelSource::File(saved), status)
    }
}

/// The model in `path` for a new run: its optimizer state kept if the file has one.
fn open_for_training(gpu: &Arc<Gpu>, path: &Path, seed: u64) -> anyhow::Result<ModelState> {
    let file = checkpoint::load(path)?;
    if Contents::of(&file) == Contents::Training {
        ModelState::from_checkpoint(gpu.clone(), &file)
            .with_context(|| format!("reading {}", path.display()))
    } else {
        Ok(ModelState::for_new_run(gpu.clone(), path, seed)?)
    }
}

fn run_state(run: &TrainingRun) -> RunState {
    if run.trainer.done() {
        RunState::Finished
    } else if run.running {
        RunState::Running
    } else {
        RunState::Paused
    }
}

fn with_view(status: &Mutex<Status>, change: impl FnOnce(&mut TrainingView)) {
    if let Some(view) = &mut status.lock().unwrap().training {
        change(view);
    }
}

fn set_state(status: &Mutex<Status>, state: RunState) {
    with_view(status, |v| v.state = state);
}
