//! The GPU worker: one thread owns the model and does every GPU request, so the UI
//! thread never waits on the GPU. Each kind of request has one slot: a newer request
//! replaces an older one not yet started, and a grid being drawn gives way part-way to
//! a request that goes before it (see `grids.rs`). Results land in textures that egui shows
//! (see `pictures.rs`), and the worker asks for a repaint. Training runs here too, a
//! step per job, when nothing else waits (see `training.rs`).

mod grids;
mod training;
mod your_image;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use realnvp::Gpu;
use realnvp::data::{self, Dataset, folder};
use realnvp::grid::{grid_columns, save_grid};
use realnvp::model::latent::{at_temperature, sphere_grid, sphere_point};
use realnvp::model::{Model, Plan};

use crate::app::ModelSource;
use crate::pictures::{Picture, Pictures, Purpose};

pub use training::{RunState, StartFrom, TrainCommand, TrainSetup, TrainingView};
pub use your_image::{ImageReport, TestScores};

/// A sample grid: side x side samples of `seed` at `temperature`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleGrid {
    pub seed: u64,
    pub temperature: f32,
    pub side: usize,
}

/// Where an interpolation corner's latent comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Corner {
    /// Prior draw `index` of `seed` at `temperature`.
    Prior {
        seed: u64,
        index: usize,
        temperature: f32,
    },
    /// The encoding of test image `index` of the bundled dataset.
    Dataset { index: usize },
    /// The encoding of a PNG or JPEG file, resized to the model's shape.
    File(PathBuf),
}

/// An encoded corner, remembered so that moving φ does not encode it again.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Encoded {
    Dataset(usize),
    File(PathBuf),
}

/// The spherical interpolation's corners and where on the sphere to look.
#[derive(Clone, Debug, PartialEq)]
pub struct Interpolation {
    pub corners: [Corner; 4],
    /// φ and φ' in radians, 0 to π/2.
    pub phi: f64,
    pub phi2: f64,
    /// Points per side of the manifold grid.
    pub side: usize,
}

/// What the open model is.
#[derive(Clone, Debug)]
pub struct ModelInfo {
    pub path: String,
    /// "training" (a checkpoint) or "weights" (a weights-only file).
    pub contents: &'static str,
    pub config: realnvp::model::ModelConfig,
    pub parameters: usize,
}

/// Pictures that can be saved as a PNG.
#[derive(Clone, Debug, PartialEq)]
pub enum Export {
    Samples(SampleGrid),
    Manifold(Interpolation),
}

/// What the UI reads of the worker.
#[derive(Default)]
pub struct Status {
    /// The model requests run on (None until one opens).
    pub model: Option<ModelInfo>,
    /// Why the last model could not be opened (the previous one stays open).
    pub open_error: Option<String>,
    /// The sample grid shown, and its texture.
    pub samples: Option<(SampleGrid, Picture)>,
    /// From the shown grid's request to its texture.
    pub samples_latency: Option<Duration>,
    /// The grid being drawn over the shown one's texture, and its images drawn so far.
    pub samples_drawing: Option<(SampleGrid, usize)>,
    /// The interpolation point shown (one image), and its texture.
    pub point: Option<(Interpolation, Picture)>,
    /// From the shown point's request to its texture: the slider-to-image time.
    pub point_latency: Option<Duration>,
    /// The manifold grid shown, and its texture.
    pub manifold: Option<(Interpolation, Picture)>,
    /// The Your image panel's image (or why it could not be read).
    pub image: Option<Result<ImageReport, String>>,
    /// The test set's bits/dim, for the Your image panel's histogram.
    pub test_scores: TestScores,
    /// The training run, if one was started (kept after it ends, to show its curves).
    pub training: Option<TrainingView>,
    /// Why the last training command (start, resume, learning rate, save as) failed.
    pub training_error: Option<String>,
    /// What the last PNG export did.
    pub exported: Option<Result<PathBuf, String>>,
    /// From the last answered request's posting to its picture being complete on the GPU.
    pub last_latency: Option<Duration>,
    /// Counts the models opened: a panel whose requests were answered for an older
    /// model asks again.
    pub generation: u64,
    pub busy: bool,
    pub error: Option<String>,
}

/// One slot per kind of request, each with the time it was posted.
#[derive(Default)]
struct Inbox {
    open: Option<ModelSource>,
    samples: Option<(SampleGrid, Instant)>,
    point: Option<(Interpolation, Instant)>,
    manifold: Option<(Interpolation, Instant)>,
    image: Option<PathBuf>,
    export: Option<(Export, PathBuf)>,
    /// Score the rest of the test set.
    test_scores: bool,
    /// Training commands run in order (none replaces another).
    training: VecDeque<TrainCommand>,
    quit: bool,
}

enum Job {
    Open(ModelSource),
    Train(TrainCommand),
    Samples(SampleGrid, Instant),
    Point(Interpolation, Instant),
    Manifold(Interpolation, Instant),
    Image(PathBuf),
    Export(Export, PathBuf),
    TestScores,
    /// The next unit of a running training run.
    TrainUnit,
}

/// The kinds of request, in the order the worker takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Open,
    Train,
    Point,
    Samples,
    Image,
    Export,
    Manifold,
    TestScores,
}

impl Inbox {
    /// The kinds with a request waiting, in the order they are taken: opening a model,
    /// then training commands, then the cheapest pictures, then the slow background
    /// work.
    fn waiting(&self) -> impl Iterator<Item = Kind> {
        [
            (Kind::Open, self.open.is_some()),
            (Kind::Train, !self.training.is_empty()),
            (Kind::Point, self.point.is_some()),
            (Kind::Samples, self.samples.is_some()),
            (Kind::Image, self.image.is_some()),
            (Kind::Export, self.export.is_some()),
            (Kind::Manifold, self.manifold.is_some()),
            (Kind::TestScores, self.test_scores),
        ]
        .into_iter()
        .filter_map(|(kind, waits)| waits.then_some(kind))
    }

    /// Whether a job of `kind` under way should give way: the window is closing, or a
    /// request of that kind (a newer one) or of one taken before it waits.
    fn goes_before(&self, kind: Kind) -> bool {
        self.quit || self.waiting().any(|k| k <= kind)
    }

    /// The next job in [`Inbox::waiting`]'s order (pictures only once a model is open);
    /// a running run's next step when nothing else waits.
    fn next(&mut self, have_model: bool, training_due: bool) -> Option<Job> {
        let kind = self.waiting().find(|&k| have_model || k <= Kind::Train);
        match kind {
            Some(Kind::Open) => self.open.take().map(Job::Open),
            Some(Kind::Train) => self.training.pop_front().map(Job::Train),
            Some(Kind::Point) => self.point.take().map(|(at, t)| Job::Point(at, t)),
            Some(Kind::Samples) => self.samples.take().map(|(g, t)| Job::Samples(g, t)),
            Some(Kind::Image) => self.image.take().map(Job::Image),
            Some(Kind::Export) => self.export.take().map(|(e, p)| Job::Export(e, p)),
            Some(Kind::Manifold) => self.manifold.take().map(|(at, t)| Job::Manifold(at, t)),
            Some(Kind::TestScores) => {
                self.test_scores = false;
                Some(Job::TestScores)
            }
            None => training_due.then_some(Job::TrainUnit),
        }
    }
}

struct Shared {
    inbox: Mutex<Inbox>,
    wake: Condvar,
    status: Mutex<Status>,
}

pub struct Worker {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker on `gpu`, opening `source` first.
    pub fn start(
        gpu: Arc<Gpu>,
        source: ModelSource,
        renderer: Arc<egui::mutex::RwLock<egui_wgpu::Renderer>>,
        ctx: egui::Context,
    ) -> Worker {
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox {
                open: Some(source),
                ..Inbox::default()
            }),
            wake: Condvar::new(),
            status: Mutex::default(),
        });
        let mut state = WorkerState {
            pictures: Pictures::new(gpu.clone(), renderer),
            gpu,
            model: None,
            source: None,
            point_plan: None,
            prior: HashMap::new(),
            encoded: HashMap::new(),
            test_set: None,
            training: None,
            more_test_scores: false,
            unfinished: grids::Unfinished::default(),
        };
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("realnvp-gpu".into())
            .spawn(move || state.run(&s, &ctx))
            .expect("the worker thread starts");
        Worker {
            shared,
            thread: Some(thread),
        }
    }

    fn post(&self, put: impl FnOnce(&mut Inbox)) {
        put(&mut self.shared.inbox.lock().unwrap());
        self.shared.wake.notify_one();
    }

    /// Opens another model; on failure the current one stays (and the error shows).
    pub fn open(&self, source: ModelSource) {
        self.post(|i| i.open = Some(source));
    }

    pub fn request_samples(&self, grid: SampleGrid) {
        self.post(|i| i.samples = Some((grid, Instant::now())));
    }

    pub fn request_point(&self, at: Interpolation) {
        self.post(|i| i.point = Some((at, Instant::now())));
    }

    pub fn request_manifold(&self, at: Interpolation) {
        self.post(|i| i.manifold = Some((at, Instant::now())));
    }

    /// Reports on a PNG or JPEG file (Your image panel).
    pub fn request_image(&self, path: PathBuf) {
        self.post(|i| i.image = Some(path));
    }

    /// Saves a picture's images as a PNG grid (decoded again, read back to the CPU).
    pub fn request_export(&self, what: Export, path: PathBuf) {
        self.post(|i| i.export = Some((what, path)));
    }

    /// Scores the test set (once per model), a chunk per job, for the histogram.
    pub fn request_test_scores(&self) {
        self.post(|i| i.test_scores = true);
    }

    pub fn train(&self, command: TrainCommand) {
        self.train_in_order([command]);
    }

    /// Queues `commands` together: no training step runs between them (a run started
    /// and paused at once takes no step).
    pub fn train_in_order(&self, commands: impl IntoIterator<Item = TrainCommand>) {
        self.post(|i| i.training.extend(commands));
    }

    pub fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.shared.status.lock().unwrap()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.post(|i| i.quit = true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct WorkerState {
    gpu: Arc<Gpu>,
    model: Option<Model>,
    /// Where the open model came from (a new run can start from its weights).
    source: Option<ModelSource>,
    /// A one-image plan on the same model, for the interpolation point: the
    /// slider-to-image path decodes exactly one image.
    point_plan: Option<Plan>,
    pictures: Pictures,
    /// Prior draws at unit temperature by (seed, count), rescaled per temperature.
    prior: HashMap<(u64, usize), Vec<Vec<f32>>>,
    /// Encoded dataset and file corners of the open model.
    encoded: HashMap<Encoded, Vec<f32>>,
    /// The bundled test images shaped for the model, loaded on first use.
    test_set: Option<Dataset>,
    training: Option<training::TrainingRun>,
    /// The test set's scores are not all in: queue another chunk.
    more_test_scores: bool,
    /// Grids that gave way to other requests part-way.
    unfinished: grids::Unfinished,
}

impl WorkerState {
    fn run(&mut self, shared: &Shared, ctx: &egui::Context) {
        loop {
            let job = {
                let mut inbox = shared.inbox.lock().unwrap();
                loop {
                    if inbox.quit {
                        // Closing the window keeps a run's progress, as Ctrl-C does.
                        if let Some(run) = &mut self.training {
                            let _ = run.save();
                        }
                        return;
                    }
                    let training_due = self.training.as_ref().is_some_and(|r| r.due());
                    if let Some(job) = inbox.next(self.model.is_some(), training_due) {
                        break job;
                    }
                    inbox = shared.wake.wait(inbox).unwrap();
                }
            };
            shared.status.lock().unwrap().busy = true;
            ctx.request_repaint();
            let result = self.job(job, shared);
            if std::mem::take(&mut self.more_test_scores) {
                shared.inbox.lock().unwrap().test_scores = true;
            }
            let mut status = shared.status.lock().unwrap();
            status.busy = false;
            match result {
                Ok(Some(posted)) => {
                    status.last_latency = Some(posted.elapsed());
                    status.error = None;
                }
                Ok(None) => {}
                Err(e) => status.error = Some(format!("{e:#}")),
            }
            drop(status);
            ctx.request_repaint();
        }
    }

    /// Runs one job; for a picture, the time its request was posted.
    fn job(&mut self, job: Job, shared: &Shared) -> anyhow::Result<Option<Instant>> {
        let status = &shared.status;
        match job {
            Job::Open(source) => {
                if let Err(e) = self.open(&source, status) {
                    status.lock().unwrap().open_error = Some(format!("{e:#}"));
                }
                Ok(None)
            }
            Job::Samples(grid, posted) => self.samples_job(grid, posted, shared),
            Job::Point(at, posted) => {
                let corners = self.corners(&at.corners)?;
                let z = sphere_point(&corners, at.phi, at.phi2);
                let plan = self.point_plan.as_ref().expect("made with the model");
                let picture = self
                    .pictures
                    .draw(plan, Purpose::InterpolationPoint, 1, &[z])?;
                let mut status = status.lock().unwrap();
                status.point = Some((at, picture));
                status.point_latency = Some(posted.elapsed());
                Ok(Some(posted))
            }
            Job::Manifold(at, posted) => self.manifold_job(at, posted, shared),
            Job::Image(path) => {
                let report = self.your_image(&path).map_err(|e| format!("{e:#}"));
                status.lock().unwrap().image = Some(report);
                Ok(None)
            }
            Job::Export(what, path) => {
                let saved = self.export(&what, &path).map(|()| path);
                status.lock().unwrap().exported = Some(saved.map_err(|e| format!("{e:#}")));
                Ok(None)
            }
            Job::TestScores => {
                match self.score_test_chunk(status) {
                    Ok(complete) => self.more_test_scores = !complete,
                    // Final: the panel stops asking and says why.
                    Err(e) => status.lock().unwrap().test_scores.failed = Some(format!("{e:#}")),
                }
                Ok(None)
            }
            Job::Train(command) => self.train_command(command, status).map(|()| None),
            Job::TrainUnit => self.train_unit(status).map(|()| None),
        }
    }

    /// Decodes the pictures of `what` again and saves them as a PNG grid.
    fn export(&mut self, what: &Export, path: &Path) -> anyhow::Result<()> {
        let (z, side) = match what {
            Export::Samples(grid) => (self.sample_latents(*grid), grid.side),
            Export::Manifold(at) => (sphere_grid(&self.corners(&at.corners)?, at.side), at.side),
        };
        let plan = &self.model.as_ref().expect("jobs wait for a model").plan;
        let images = plan.decode_latents(&z)?;
        save_grid(path, &images, z.len(), plan.chw, grid_columns(side * side))?;
        Ok(())
    }

    /// Loads a model (building its plans); the current one stays if this fails. The
    /// status forgets the old pictures before their textures are freed.
    fn open(&mut self, source: &ModelSource, status: &Mutex<Status>) -> anyhow::Result<()> {
        let model = source.open(self.gpu.clone())?;
        let point_plan = Plan::inference(&model.state, 1)?;
        let info = ModelInfo {
            path: model.path.display().to_string(),
            contents: model.contents.key(),
            config: model.config().clone(),
            parameters: model.state.layout.param_count(),
        };
        {
            let mut status = status.lock().unwrap();
            let generation = status.generation + 1;
            *status = Status {
                model: Some(info),
                generation,
                busy: true,
                training: status.training.take(),
                training_error: status.training_error.take(),
                ..Status::default()
            };
        }
        // The training grid belongs to the run, not to the open model.
        self.pictures.clear_except(Purpose::Training);
        self.unfinished.forget();
        self.prior.clear();
        self.encoded.clear();
        self.test_set = None;
        self.source = Some(source.clone());
        self.point_plan = Some(point_plan);
        self.model = Some(model);
        Ok(())
    }

    /// The first `count` prior draws of `seed` at unit temperature.
    fn prior(&mut self, seed: u64, count: usize) -> &[Vec<f32>] {
        let key = (seed, count);
        if !self.prior.contains_key(&key) {
            if self.prior.len() >= 16 {
                self.prior.clear();
            }
            let plan = &self.model.as_ref().expect("jobs wait for a model").plan;
            self.prior.insert(key, plan.prior_latents(seed, count));
        }
        &self.prior[&key]
    }

    fn sample_latents(&mut self, grid: SampleGrid) -> Vec<Vec<f32>> {
        self.prior(grid.seed, grid.side * grid.side)
            .iter()
            .map(|v| at_temperature(v, grid.temperature))
            .collect()
    }

    /// The four corners' latent vectors.
    fn corners(&mut self, corners: &[Corner; 4]) -> anyhow::Result<[Vec<f32>; 4]> {
        let mut out = Vec::with_capacity(4);
        for corner in corners {
            out.push(match corner {
                Corner::Prior {
                    seed,
                    index,
                    temperature,
                } => {
                    // The four corners' draws of one seed come from one request.
                    let draws = self.prior(*seed, 4);
                    anyhow::ensure!(*index < 4, "a prior corner is draw 0 to 3");
                    at_temperature(&draws[*index], *temperature)
                }
                Corner::Dataset { index } => self.encoded(Encoded::Dataset(*index))?,
                Corner::File(path) => self.encoded(Encoded::File(path.clone()))?,
            });
        }
        Ok(out.try_into().expect("four corners"))
    }

    /// The latent vector of a test image or a file, encoded once per model.
    fn encoded(&mut self, what: Encoded) -> anyhow::Result<Vec<f32>> {
        if let Some(z) = self.encoded.get(&what) {
            return Ok(z.clone());
        }
        let model = self.model.as_ref().expect("jobs wait for a model");
        let [c, h, w] = model.config().chw();
        let (data, index) = match &what {
            Encoded::Dataset(index) => {
                let test = self.test_set()?;
                anyhow::ensure!(
                    *index < test.len(),
                    "the test set has {} images; {index} is past its end",
                    test.len()
                );
                (test.clone(), *index)
            }
            Encoded::File(path) => (folder::load_files(std::slice::from_ref(path), c, h, w)?, 0),
        };
        let plan = &self.model.as_ref().expect("jobs wait for a model").plan;
        let z = plan.encode(&data, &[index])?.remove(0);
        self.encoded.insert(what, z.clone());
        Ok(z)
    }

    fn test_set(&mut self) -> anyhow::Result<&Dataset> {
        if self.test_set.is_none() {
            let chw = self
                .model
                .as_ref()
                .expect("jobs wait for a model")
                .config()
                .chw();
            let (split, _) = data::load_for_model(None, chw)?;
            self.test_set = Some(split.test.unwrap_or(split.train));
        }
        Ok(self.test_set.as_ref().expect("just loaded"))
    }
}
