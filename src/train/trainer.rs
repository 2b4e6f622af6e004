//! The training loop: epochs of shuffled batches, one GPU submission per step, a test
//! evaluation, a sample grid and a metrics line per epoch, checkpoints every N steps and
//! at the end, exact resume, and a clean stop on a non-finite loss or on request.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::evaluate::{Evaluation, evaluate};
use super::metrics::MetricsLog;
use super::position::Position;
use super::run_folder::{CHECKPOINT_FILE, check_holds_no_run};
use super::run_lock::RunLock;
use crate::checkpoint::{self, Checkpoint};
use crate::checkpoint::{remove_stale_temp_files, replace_file};
use crate::data::DataSplit;
use crate::error::{Error, Result};
use crate::grid::{grid_columns, save_grid};
use crate::model::EvalNoise;
use crate::model::latent::check_temperature;
use crate::model::plan::{Memory, Plan};
use crate::model::saved::Contents;
use crate::model::state::ModelState;
use crate::ops::adam::{AdamConfig, OptimState, check_learning_rate};

/// What a run is asked to do. Stored in the checkpoint so that `--resume` continues
/// with the same settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Train until this many epochs are complete.
    pub epochs: u64,
    /// Or stop earlier, after this many steps in total.
    pub max_steps: Option<u64>,
    pub lr: f32,
    /// Seeds parameter initialisation, training noise and the data order.
    pub seed: u64,
    /// Checkpoint every this many steps (0: only at epoch ends and at the end).
    pub checkpoint_every: u64,
    /// Samples in the per-epoch grid, and their temperature.
    pub samples: usize,
    pub temperature: f32,
    /// The dataset's path as given (None: the bundled MNIST subset), so that a resumed
    /// run reads the same data; stored exactly, whatever its bytes.
    #[serde(default, with = "super::data_path")]
    pub data: Option<PathBuf>,
    /// The number of training images: resuming with a dataset of another size is an
    /// error (0: unknown, what a checkpoint without this field reads as).
    #[serde(default)]
    pub train_images: usize,
    /// How the backward gets layer inputs (`Recompute`, the default, for a checkpoint
    /// without this field). It changes only the last bits of the gradients.
    #[serde(default)]
    pub memory: Memory,
}

/// What a resumed run does differently from how it ran; the default changes nothing, so
/// the run continues bit for bit.
#[derive(Clone, Copy, Debug, Default)]
pub struct ResumeChanges {
    /// Another memory policy (see [`Settings::memory`]): the gradients differ in their
    /// last bits.
    pub memory: Option<Memory>,
    /// Choose the conv kernels again (tuned for this program and adapter) instead of the
    /// ones the checkpoint names: faster kernels where there are new ones, results that
    /// differ from an uninterrupted run's by rounding.
    pub retune: bool,
}

/// What the loop reports as it goes.
pub enum Event<'a> {
    Start {
        batches_per_epoch: u64,
        position: Position,
    },
    Step {
        position: Position,
        bits_per_dim: f64,
        images_per_second: f64,
    },
    /// `train_bits_per_dim` averages the epoch's steps run in this process (None if none).
    Epoch {
        epoch: u64,
        train_bits_per_dim: Option<f64>,
        test: Option<Evaluation>,
        seconds: f64,
    },
    Checkpoint {
        path: &'a Path,
    },
}

/// Why the loop returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    Completed,
    /// Stopped on request (Ctrl-C) after saving a checkpoint.
    Interrupted,
}

/// The most images in an epoch's sample grid: a 64 x 64 grid, as `realnvp sample`
/// allows (drawing it is minutes of work on a CPU adapter already).
pub const MAX_SAMPLES: usize = 4096;
const META_SETTINGS: &str = "train.settings";
const META_POSITION: &str = "train.position";
/// The kernel choices the run made ([`Tuning::in_use`]), pinned again on resume.
///
/// [`Tuning::in_use`]: crate::runtime::tuning::Tuning::in_use
const META_KERNELS: &str = "train.kernels";

pub struct Trainer {
    pub state: ModelState,
    plan: Plan,
    data: DataSplit,
    pub settings: Settings,
    pub position: Position,
    out: PathBuf,
    metrics: MetricsLog,
    /// Held while the trainer lives: no other run writes into `out` meanwhile.
    _lock: RunLock,
    /// The step the checkpoint in `out` holds, if this run has one.
    saved_step: Option<u64>,
    /// The epoch under way in this process, if a step of it ran.
    epoch: Option<EpochProgress>,
    /// The batch being uploaded (kept to reuse its allocation).
    pixels: Vec<f32>,
}

struct EpochProgress {
    epoch: u64,
    /// The epoch's shuffled image order.
    order: Vec<usize>,
    /// Its first step in this process: the epoch's seconds count from here (pauses
    /// between steps in the app included).
    start: Instant,
    bpd_sum: f64,
    bpd_count: u64,
}

impl Trainer {
    /// A new run writing into `out` (created if missing, and refused if it holds a run or
    /// another run writes into it) from `position` (zero for a fresh model).
    pub fn new(
        state: ModelState,
        data: DataSplit,
        settings: Settings,
        position: Position,
        out: &Path,
    ) -> Result<Trainer> {
        check_settings(&settings)?;
        check_adam_steps(&state, position)?;
        let plan = training_plan(&state, &data, &settings)?;
        std::fs::create_dir_all(out).map_err(|e| Error::Write {
            path: out.to_owned(),
            error: e,
        })?;
        let lock = RunLock::acquire(out)?;
        // Again under the lock: a run may have been saved here since the caller looked.
        check_holds_no_run(out)?;
        Trainer::open(state, plan, data, settings, position, out, lock)
    }

    /// The trainer of a checked model, plan and settings, in the folder `lock` holds; the
    /// folder's metrics are cut back to the lines `position` covers.
    fn open(
        state: ModelState,
        plan: Plan,
        data: DataSplit,
        settings: Settings,
        position: Position,
        out: &Path,
        lock: RunLock,
    ) -> Result<Trainer> {
        remove_stale_temp_files(out).map_err(|e| Error::Write {
            path: out.to_owned(),
            error: e,
        })?;
        let metrics = MetricsLog::open(out, position)?;
        Ok(Trainer {
            state,
            plan,
            data,
            settings,
            position,
            saved_step: None,
            out: out.to_owned(),
            metrics,
            _lock: lock,
            epoch: None,
            pixels: Vec::new(),
        })
    }

    /// Resumes from `<out>/checkpoint.safetensors`: model, optimizer, RNG, settings,
    /// position and conv kernels as saved, except what `changes` changes; `data` loads
    /// the dataset for the checkpoint's model. Refused while another run writes into
    /// `out`; the metrics are cut back to the checkpoint's position.
    pub fn resume(
        gpu: Arc<crate::Gpu>,
        out: &Path,
        changes: ResumeChanges,
        data: impl FnOnce(&crate::model::ModelConfig, Option<&Path>) -> Result<DataSplit>,
    ) -> Result<Trainer> {
        if !out.is_dir() {
            return Err(Error::Config(format!(
                "there is no run to resume in {}: it is not a folder",
                out.display()
            )));
        }
        // Before reading: the checkpoint is then the run's last, and stays so.
        let lock = RunLock::acquire(out)?;
        let path = out.join(CHECKPOINT_FILE);
        let ckpt = checkpoint::load(&path)?;
        let in_file = |e: Error| Error::Checkpoint {
            path: path.clone(),
            detail: e.to_string(),
        };
        if Contents::of(&ckpt) == Contents::Weights {
            return Err(in_file(Error::Config(format!(
                "it holds weights only (no optimizer state, RNG or position), so it cannot \
                 resume a run; start a new run from it with `realnvp train --init {}`",
                path.display()
            ))));
        }
        let state = ModelState::from_checkpoint(gpu, &ckpt).map_err(in_file)?;
        let mut settings: Settings = meta_json(&ckpt, META_SETTINGS).map_err(in_file)?;
        let position: Position = meta_json(&ckpt, META_POSITION).map_err(in_file)?;
        let data = data(&state.config, settings.data.as_deref())?;
        let images = data.train.len();
        if settings.train_images != 0 && settings.train_images != images {
            return Err(Error::Config(format!(
                "the run in {} trained on {} images but {} holds {images}: resume with the \
                 same dataset, or start a new run",
                out.display(),
                settings.train_images,
                data.train.source
            )));
        }
        settings.train_images = images;
        settings.memory = changes.memory.unwrap_or(settings.memory);
        // The checksum covers the tensors, not this metadata: check it makes sense.
        check_settings(&settings)
            .map_err(|e| in_file(Error::Config(format!("{META_SETTINGS}: {e}"))))?;
        let per_epoch = (images / state.config.batch) as u64;
        let Position { step, epoch, batch } = position;
        if batch > per_epoch
            || epoch
                .checked_mul(per_epoch)
                .and_then(|s| s.checked_add(batch))
                != Some(step)
        {
            return Err(in_file(Error::Config(format!(
                "{META_POSITION} says step {step}, epoch {epoch}, batch {batch}, which cannot \
                 be with {per_epoch} batches per epoch"
            ))));
        }
        check_adam_steps(&state, position).map_err(in_file)?;
        if let Some(tuning) = state.gpu.tuning()
            && ckpt.meta.contains_key(META_KERNELS)
            && !changes.retune
        {
            tuning.pin(meta_json(&ckpt, META_KERNELS).map_err(in_file)?);
        }
        let plan = training_plan(&state, &data, &settings)?;
        let mut trainer = Trainer::open(state, plan, data, settings, position, out, lock)?;
        // Its checkpoint is the one it was read from.
        trainer.saved_step = Some(position.step);
        Ok(trainer)
    }

    pub fn batches_per_epoch(&self) -> u64 {
        // The last incomplete batch of an epoch is dropped.
        (self.data.train.len() / self.state.config.batch) as u64
    }

    /// All the epochs' steps are done but the epoch's end (checkpoint, test evaluation,
    /// sample grid) is not.
    fn epoch_end_due(&self) -> bool {
        self.position.batch >= self.batches_per_epoch()
    }

    /// The settings are met: nothing is left to [`Trainer::advance`].
    pub fn done(&self) -> bool {
        !self.epoch_end_due()
            && (self.position.epoch >= self.settings.epochs
                || self
                    .settings
                    .max_steps
                    .is_some_and(|m| self.position.step >= m))
    }

    /// Trains until the settings are met or `stop` is raised.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Finish> {
        on_event(Event::Start {
            batches_per_epoch: self.batches_per_epoch(),
            position: self.position,
        });
        while !self.done() {
            // An epoch whose steps are done is closed before stopping.
            if stop.load(Ordering::Relaxed) && !self.epoch_end_due() {
                let path = self.save()?;
                on_event(Event::Checkpoint { path: &path });
                return Ok(Finish::Interrupted);
            }
            self.advance(on_event)?;
        }
        let path = self.save()?;
        on_event(Event::Checkpoint { path: &path });
        Ok(Finish::Completed)
    }

    /// One unit of work, so that a caller (the desktop app) can interleave other GPU
    /// work and pause between them: a training step, or, once an epoch's steps are all
    /// done, the epoch's end. Does nothing when [`Trainer::done`].
    pub fn advance(&mut self, on_event: &mut dyn FnMut(Event<'_>)) -> Result<()> {
        if self.epoch_end_due() {
            self.end_epoch(on_event)
        } else if self.done() {
            Ok(())
        } else {
            self.step(on_event)
        }
    }

    fn step(&mut self, on_event: &mut dyn FnMut(Event<'_>)) -> Result<()> {
        let batch = self.state.config.batch;
        let epoch = self.position.epoch;
        if self.epoch.as_ref().is_none_or(|e| e.epoch != epoch) {
            self.epoch = Some(EpochProgress {
                epoch,
                order: self.data.train.epoch_order(self.settings.seed, epoch),
                start: Instant::now(),
                bpd_sum: 0.0,
                bpd_count: 0,
            });
        }
        let progress = self.epoch.as_mut().expect("just set");
        let start = Instant::now();
        let first = self.position.batch as usize * batch;
        self.data
            .train
            .batch(&progress.order[first..first + batch], &mut self.pixels);
        let (stats, optimizer) = self.plan.train_step(&self.pixels)?;
        let bpd = stats.mean_bits_per_dim(batch, self.plan.dim);
        // A finite loss with a non-finite gradient still poisons the update.
        if !bpd.is_finite() || !optimizer.grad_norm.is_finite() {
            return Err(Error::Training(format!(
                "the loss became {bpd} (gradient norm {}) at step {} (epoch {}, batch {}); \
                 stopped without saving: {}",
                optimizer.grad_norm,
                self.position.step + 1,
                self.position.epoch,
                self.position.batch,
                self.last_good()
            )));
        }
        self.position.step += 1;
        self.position.batch += 1;
        progress.bpd_sum += bpd;
        progress.bpd_count += 1;
        let images_per_second = batch as f64 / start.elapsed().as_secs_f64();
        self.log(json!({
            "step": self.position.step, "epoch": self.position.epoch,
            "train_bpd": bpd, "images_per_second": images_per_second,
        }))?;
        on_event(Event::Step {
            position: self.position,
            bits_per_dim: bpd,
            images_per_second,
        });
        let every = self.settings.checkpoint_every;
        if every > 0 && self.position.step.is_multiple_of(every) {
            let path = self.save()?;
            on_event(Event::Checkpoint { path: &path });
        }
        Ok(())
    }

    /// Closes the epoch whose steps are done: checkpoint, test evaluation, sample grid,
    /// metrics line.
    fn end_epoch(&mut self, on_event: &mut dyn FnMut(Event<'_>)) -> Result<()> {
        let epoch = self.position.epoch;
        // Null after a resume that began at this epoch's end: no step ran in it.
        let progress = self.epoch.take().filter(|e| e.epoch == epoch);
        let train_bpd = progress
            .as_ref()
            .filter(|e| e.bpd_count > 0)
            .map(|e| e.bpd_sum / e.bpd_count as f64);
        let epoch_start = progress.map_or_else(Instant::now, |e| e.start);
        // Saved before the evaluation and the samples with the epoch's end still due, so
        // that a failure or a kill there loses no steps and a resume closes the epoch.
        let path = self.save()?;
        on_event(Event::Checkpoint { path: &path });
        let test = match &self.data.test {
            Some(test) => Some(evaluate(&self.plan, test, EvalNoise::Seeded)?),
            None => None,
        };
        self.write_samples(epoch)?;
        self.log(json!({
            "epoch_done": epoch, "step": self.position.step, "train_bpd": train_bpd,
            "test_bpd": test.map(|t| t.bits_per_dim), "seconds": epoch_start.elapsed().as_secs_f64(),
        }))?;
        self.position.epoch += 1;
        self.position.batch = 0;
        self.save()?;
        on_event(Event::Epoch {
            epoch,
            train_bits_per_dim: train_bpd,
            test,
            seconds: epoch_start.elapsed().as_secs_f64(),
        });
        Ok(())
    }

    /// Changes the learning rate from the next step on (kept in the settings, so a
    /// resumed run continues with it).
    pub fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        self.plan.set_learning_rate(&self.state, lr)?;
        self.settings.lr = lr;
        Ok(())
    }

    /// Submits the plan's passes in slices of at most `n` dispatches (see
    /// [`Plan::set_dispatches_per_submission`]).
    pub fn set_dispatches_per_submission(&mut self, n: Option<usize>) {
        self.plan.set_dispatches_per_submission(n);
    }

    /// The training plan: its inference passes decode with the weights as they are now.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The folder the run writes into.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Bits per dimension to nats per image, for this model.
    pub fn nats_per_image(&self, bits_per_dim: f64) -> f64 {
        bits_per_dim * self.plan.dim as f64 * std::f64::consts::LN_2
    }

    /// Finite weights can still be useless (a huge learning rate leaves values near
    /// 1e30): a model is saved only if it gives a finite loss on the last batch, in
    /// evaluation mode with u = 0.5 (no state changes, so resuming stays exact).
    fn check_loss_is_finite(&self) -> Result<()> {
        let batch = self.state.config.batch;
        if self.pixels.len() != batch * self.plan.dim {
            return Ok(()); // no step ran in this process: the model is as it was loaded
        }
        let densities = self
            .plan
            .evaluate(&self.pixels, &vec![0.5; self.pixels.len()])?;
        let bpd = densities.mean_bits_per_dim(batch, self.plan.dim);
        if bpd.is_finite() {
            return Ok(());
        }
        Err(Error::Training(format!(
            "after step {} the model gives a loss of {bpd} on its last batch, so it is not \
             saved; {}",
            self.position.step,
            self.last_good()
        )))
    }

    /// Where the last checkpoint of this run is, and the step it holds.
    fn last_good(&self) -> String {
        match self.saved_step {
            Some(step) => format!(
                "the last good checkpoint is {} (step {step})",
                self.out.join(CHECKPOINT_FILE).display()
            ),
            None => "no checkpoint of this run was saved".into(),
        }
    }

    /// Writes `<out>/checkpoint.safetensors` (atomically) and `<out>/config.json`. A
    /// model with non-finite values is refused, and the last good checkpoint stays.
    pub fn save(&mut self) -> Result<PathBuf> {
        let mut meta = BTreeMap::new();
        meta.insert(META_SETTINGS.into(), settings_json(&self.settings)?);
        meta.insert(
            META_POSITION.into(),
            serde_json::to_string(&self.position).expect("position serializes"),
        );
        meta.insert("adapter".into(), self.state.gpu.adapter_name().to_owned());
        if let Some(tuning) = self.state.gpu.tuning() {
            meta.insert(
                META_KERNELS.into(),
                serde_json::to_string(&tuning.in_use()).expect("kernel choices serialize"),
            );
        }
        let ckpt = self.state.to_checkpoint(meta).map_err(|e| match e {
            Error::Training(what) => Error::Training(format!(
                "after step {}: {what}; {}",
                self.position.step,
                self.last_good()
            )),
            e => e,
        })?;
        self.check_loss_is_finite()?;
        let path = self.out.join(CHECKPOINT_FILE);
        checkpoint::save(&path, &ckpt)?;
        self.saved_step = Some(self.position.step);
        let config_path = self.out.join("config.json");
        replace_file(&config_path, self.state.config.to_json().as_bytes()).map_err(|e| {
            Error::Write {
                path: config_path,
                error: e,
            }
        })?;
        Ok(path)
    }

    /// A grid of samples at the settings' temperature, `samples_epoch<k>.png`.
    fn write_samples(&self, epoch: u64) -> Result<()> {
        let n = self.settings.samples;
        if n == 0 {
            return Ok(());
        }
        let images = self
            .plan
            .sample_images(self.settings.seed, self.settings.temperature, n)?;
        save_grid(
            &self.out.join(format!("samples_epoch{epoch}.png")),
            &images,
            n,
            self.state.config.chw(),
            grid_columns(n),
        )
    }

    fn log(&mut self, line: serde_json::Value) -> Result<()> {
        self.metrics.append(&line)
    }
}

/// Refuses a sample grid larger than [`MAX_SAMPLES`].
pub fn check_samples(n: usize) -> Result<()> {
    if n <= MAX_SAMPLES {
        return Ok(());
    }
    Err(Error::Config(format!(
        "the samples per epoch's grid must be from 0 (none) to {MAX_SAMPLES}, not {n}"
    )))
}

/// Settings a run can go with: a learning rate, temperature and sample count in range,
/// and a dataset path its checkpoint can store.
fn check_settings(settings: &Settings) -> Result<()> {
    check_learning_rate(settings.lr)?;
    check_temperature(settings.temperature)?;
    check_samples(settings.samples)?;
    settings_json(settings).map(drop)
}

fn settings_json(settings: &Settings) -> Result<String> {
    serde_json::to_string(settings).map_err(|e| Error::Config(e.to_string()))
}

/// Adam's step count counts every step of the run (and, for a run that started from a
/// checkpoint's optimizer state, that run's steps before), and the next step adds one
/// to it: any other count is damage, which would end in a division by zero in the bias
/// correction (at the count's wrap to 0) or a wrong one.
fn check_adam_steps(state: &ModelState, position: Position) -> Result<()> {
    let steps = OptimState::from_words(&state.gpu.read(&state.adam_state)?)?.step;
    if u64::from(steps) >= position.step && steps < u32::MAX {
        return Ok(());
    }
    Err(Error::Config(format!(
        "optimizer.state holds Adam's step count {steps}, which a run at step {} cannot \
         have (it is from {} to {}): the optimizer state is damaged",
        position.step,
        position.step,
        u32::MAX - 1
    )))
}

/// The training plan for `state` once `data` fits it, or an error naming the setting.
fn training_plan(state: &ModelState, data: &DataSplit, settings: &Settings) -> Result<Plan> {
    let config = &state.config;
    let shape = config.chw();
    if data.train.shape() != shape {
        return Err(Error::Config(format!(
            "the training images are {:?} (CxHxW) but the model expects {shape:?}",
            data.train.shape()
        )));
    }
    if data.train.len() < config.batch {
        return Err(Error::Config(format!(
            "{} training images are fewer than one batch of {}",
            data.train.len(),
            config.batch
        )));
    }
    let adam = AdamConfig {
        lr: settings.lr,
        ..AdamConfig::default()
    };
    Plan::new(state, config.batch, settings.memory, &adam).map_err(|e| match e {
        // A buffer over the adapter's limit: say which setting makes it so.
        Error::Shape {
            op: "tensor",
            detail,
        } => Error::Config(format!(
            "{detail}: the activations of a batch do not fit the adapter; make the batch \
             (now {}) or features (now {}) smaller",
            config.batch, config.features
        )),
        e => e,
    })
}

fn meta_json<T: for<'de> Deserialize<'de>>(ckpt: &Checkpoint, key: &str) -> Result<T> {
    let text = ckpt.meta.get(key).ok_or_else(|| {
        Error::CheckpointMismatch(format!("no '{key}' metadata: not a training checkpoint"))
    })?;
    serde_json::from_str(text)
        .map_err(|e| Error::CheckpointMismatch(format!("'{key}' metadata: {e}")))
}
