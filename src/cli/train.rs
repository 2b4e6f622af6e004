//! `realnvp train` (also `realnvp --train`): headless training with a progress bar.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::common::{at_least_one, learning_rate, load_data, seed, temperature};
use super::out;
use crate::model::ModelConfig;
use crate::model::plan::Memory;
use crate::model::state::ModelState;
use crate::train::{Event, Finish, Position, ResumeChanges, Settings, Trainer, prepare_new_run};

#[derive(Args)]
pub struct TrainArgs {
    /// Model preset: tiny, mnist or cifar10.
    #[arg(long, default_value = "mnist", conflicts_with = "config")]
    preset: String,
    /// A JSON model config instead of a preset (fields: channels, height, width, scales,
    /// features, blocks, batch).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override the s,t networks' feature channels.
    #[arg(long)]
    features: Option<usize>,
    /// Override the s,t networks' residual blocks.
    #[arg(long)]
    blocks: Option<usize>,
    /// Override the batch size.
    #[arg(long, value_parser = at_least_one)]
    batch: Option<usize>,
    /// Dataset: an MNIST IDX directory or file, CIFAR-10 .bin files, or a folder of
    /// images. Default: the bundled MNIST subset.
    #[arg(long)]
    data: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    epochs: u64,
    /// Stop after this many steps in total, even mid-epoch.
    #[arg(long)]
    steps: Option<u64>,
    /// Adam's learning rate, above 0 and at most 1.
    #[arg(long, default_value_t = 1e-3, value_parser = learning_rate, allow_negative_numbers = true)]
    lr: f32,
    #[arg(long, default_value_t = 0, value_parser = seed, allow_negative_numbers = true)]
    seed: u64,
    /// Output directory: checkpoint.safetensors, config.json, metrics.jsonl, sample grids.
    #[arg(long, default_value = "runs/latest")]
    out: PathBuf,
    /// Save a checkpoint every this many steps (0: at epoch ends and at the end only).
    #[arg(long, default_value_t = 100)]
    checkpoint_every: u64,
    /// Samples in each epoch's grid (0: none; at most 4096).
    #[arg(long, default_value_t = 64, value_parser = samples)]
    samples: usize,
    #[arg(long, default_value_t = 0.7, value_parser = temperature, allow_negative_numbers = true)]
    temperature: f32,
    /// Continue the run in --out from its checkpoint (model, optimizer, RNG, position,
    /// settings, dataset); --epochs and --steps may extend it, --data may point to the
    /// same images moved elsewhere.
    #[arg(long, conflicts_with_all = [
        "preset", "config", "features", "blocks", "batch", "lr", "seed",
        "checkpoint_every", "samples", "temperature", "init",
    ])]
    resume: bool,
    /// Start a new run in an --out that holds one, removing that run's checkpoint,
    /// metrics and sample grids first.
    #[arg(long, conflicts_with = "resume")]
    overwrite: bool,
    /// How the backward gets layer inputs: `recompute` (the default: activation memory
    /// independent of depth) or `store` (keeps every activation: each s,t network runs
    /// once per step instead of twice, about a fifth less time per mnist step for ~3x
    /// the buffer memory). With --resume it replaces the run's own choice; the
    /// gradients then differ in their last bits, so the continuation is not bit-exact.
    #[arg(long, value_enum)]
    memory: Option<Memory>,
    /// With --resume: choose the conv kernels again instead of running the ones the
    /// checkpoint names (faster where this build has faster ones; the continuation then
    /// differs from an uninterrupted run by rounding).
    #[arg(long, requires = "resume")]
    retune: bool,
    /// Start a new run from the weights of this file (a weights-only file or a
    /// checkpoint; its model config is used, the optimizer starts afresh).
    #[arg(long, conflicts_with_all = ["preset", "config", "features", "blocks"])]
    init: Option<PathBuf>,
}

/// A `--samples`: from 0 to the library's cap.
fn samples(text: &str) -> Result<usize, String> {
    let n = text
        .parse()
        .map_err(|e| format!("not a whole number: {e}"))?;
    crate::train::check_samples(n)
        .map(|()| n)
        .map_err(|e| e.to_string())
}

/// How often training prints a progress line when stderr is not a terminal.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(10);

pub fn run(args: TrainArgs, adapter: Option<&str>) -> anyhow::Result<()> {
    let gpu = super::common::gpu(adapter)?;
    out::note(format_args!(
        "adapter: {}",
        crate::runtime::adapter::describe(&gpu.info)
    ));
    let mut trainer = if args.resume {
        // The run's own dataset unless --data names another (checked by image count).
        let changes = ResumeChanges {
            memory: args.memory,
            retune: args.retune,
        };
        let mut t = Trainer::resume(gpu, &args.out, changes, |config, saved| {
            load_data(config, args.data.as_deref().or(saved))
        })?;
        t.settings.epochs = t.settings.epochs.max(args.epochs);
        if let Some(steps) = args.steps {
            t.settings.max_steps = Some(steps);
        }
        out::note(format_args!(
            "resuming at step {} (epoch {}, batch {})",
            t.position.step, t.position.epoch, t.position.batch
        ));
        t
    } else {
        prepare_new_run(&args.out, args.overwrite)?;
        let state = match &args.init {
            Some(path) => {
                let mut state = ModelState::for_new_run(gpu, path, args.seed)?;
                state.config.batch = args.batch.unwrap_or(state.config.batch);
                state.config.validate()?;
                out::note(format_args!(
                    "starting from the weights of {}",
                    path.display()
                ));
                state
            }
            None => {
                let mut config = match &args.config {
                    Some(path) => ModelConfig::from_file(path)?,
                    None => ModelConfig::preset(&args.preset)?,
                };
                config.features = args.features.unwrap_or(config.features);
                config.blocks = args.blocks.unwrap_or(config.blocks);
                config.batch = args.batch.unwrap_or(config.batch);
                ModelState::new(gpu, config, args.seed)?
            }
        };
        let data = load_data(&state.config, args.data.as_deref())?;
        out::note(format_args!(
            "data: {} ({} train, {} test images)",
            data.train.source,
            data.train.len(),
            data.test.as_ref().map_or(0, |t| t.len())
        ));
        let settings = Settings {
            epochs: args.epochs,
            max_steps: args.steps,
            lr: args.lr,
            seed: args.seed,
            checkpoint_every: args.checkpoint_every,
            samples: args.samples,
            temperature: args.temperature,
            data: args.data.clone(),
            train_images: data.train.len(),
            memory: args.memory.unwrap_or_default(),
        };
        out::note(format_args!(
            "model: {} parameters",
            state.layout.param_count()
        ));
        Trainer::new(state, data, settings, Position::default(), &args.out)?
    };

    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // Ctrl-C, and SIGTERM / SIGHUP (kill, systemd, container runtimes): save and exit 0.
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))?;

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} epoch {prefix} [{bar:30}] {pos}/{len} steps  {msg}  ETA {eta}",
        )?
        .progress_chars("=> "),
    );
    let (epochs, max_steps) = (trainer.settings.epochs, trainer.settings.max_steps);
    // Without a terminal (CI logs, nohup) the bar is hidden: a plain line now and then.
    let mut last_line: Option<Instant> = None;
    let mut total = 0;
    let finish = trainer.run(&stop, &mut |event| match event {
        Event::Start { batches_per_epoch, position } => {
            let planned = epochs.saturating_mul(batches_per_epoch);
            total = max_steps.unwrap_or(u64::MAX).min(planned);
            if let Some(steps) = max_steps.filter(|&s| s > planned) {
                out::note(format_args!(
                    "note: --steps {steps} is past the end of --epochs {epochs} ({planned} steps of \
                     {batches_per_epoch} per epoch): the run stops at step {planned}; raise \
                     --epochs to go further"
                ));
            }
            bar.set_length(total);
            bar.set_position(position.step);
            bar.reset_eta();
            bar.set_prefix(position.epoch.to_string());
        }
        Event::Step { position, bits_per_dim, images_per_second } => {
            bar.set_position(position.step);
            bar.set_prefix(position.epoch.to_string());
            bar.set_message(format!("{bits_per_dim:.3} bits/dim  {images_per_second:.1} img/s"));
            if bar.is_hidden() && last_line.is_none_or(|t| t.elapsed() >= PLAIN_PROGRESS_EVERY) {
                last_line = Some(Instant::now());
                out::note(format_args!(
                    "step {} of {total} (epoch {}): {bits_per_dim:.3} bits/dim, \
                     {images_per_second:.1} images/s",
                    position.step, position.epoch
                ));
            }
        }
        Event::Epoch { epoch, train_bits_per_dim, test, seconds } => {
            let test = test.map_or("-".to_owned(), |t| format!("{:.4}", t.bits_per_dim));
            let train = train_bits_per_dim.map_or("-".to_owned(), |b| format!("{b:.4}"));
            let line = format!(
                "epoch {epoch}: train {train} bits/dim, test (eval mode) {test} bits/dim, {seconds:.0} s"
            );
            // A hidden bar (output not a terminal) prints nothing; logs still want the line.
            if bar.is_hidden() {
                out::note(&line);
            } else {
                bar.println(line);
            }
        }
        Event::Checkpoint { path } => bar.set_message(format!("saved {}", path.display())),
    });
    bar.finish();
    match finish? {
        Finish::Completed => out::note(format_args!("done: {}", args.out.display())),
        Finish::Interrupted => out::note(format_args!(
            "interrupted: checkpoint saved in {}; continue with --resume",
            args.out.display()
        )),
    }
    Ok(())
}
