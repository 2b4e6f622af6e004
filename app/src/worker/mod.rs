//! The GPU worker: one thread owns the model and does every GPU request, so the UI
//! thread never waits on the GPU. The window posts requests through [`Worker`] and reads
//! the [`Status`]; `schedule.rs` decides what runs next, `jobs.rs` runs it. Results land
//! in textures that egui shows (see `pictures.rs`), and the worker asks for a repaint.
//! Training runs here too, a step per job, when nothing else waits (`training.rs`).

mod cache;
mod grids;
mod jobs;
mod open_model;
mod schedule;
mod training;
mod your_image;

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use realnvp::Gpu;

use crate::pictures::Pictures;
use crate::protocol::{Export, Interpolation, ModelSource, SampleGrid, Status, TrainCommand};
use open_model::OpenModel;
use schedule::{Inbox, Shared};

/// The window's handle on the worker thread.
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
            open: None,
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

/// What the worker thread owns.
struct WorkerState {
    gpu: Arc<Gpu>,
    pictures: Pictures,
    /// The model requests run on, with what is remembered of it.
    open: Option<OpenModel>,
    training: Option<training::TrainingRun>,
    /// The test set's scores are not all in: queue another chunk.
    more_test_scores: bool,
    /// Grids that gave way to other requests part-way.
    unfinished: grids::Unfinished,
}

/// The open model of a job that needs one (the inbox hands out none before a model is
/// open).
fn opened(open: &mut Option<OpenModel>) -> &mut OpenModel {
    open.as_mut().expect("jobs wait for a model")
}
