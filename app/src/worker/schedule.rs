//! Which request the worker takes next. Each kind of request has one slot: a newer
//! request replaces an older one not yet started. One priority order decides both what
//! runs next and when a grid under way gives way (see `grids.rs`).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use crate::protocol::{Export, Interpolation, ModelSource, SampleGrid, Status, TrainCommand};

/// One slot per kind of request, each with the time it was posted.
#[derive(Default)]
pub(super) struct Inbox {
    pub open: Option<ModelSource>,
    pub samples: Option<(SampleGrid, Instant)>,
    pub point: Option<(Interpolation, Instant)>,
    pub manifold: Option<(Interpolation, Instant)>,
    pub image: Option<PathBuf>,
    pub export: Option<(Export, PathBuf)>,
    /// Score the rest of the test set.
    pub test_scores: bool,
    /// Training commands run in order (none replaces another).
    pub training: VecDeque<TrainCommand>,
    pub quit: bool,
}

/// What the window and the worker share.
pub(super) struct Shared {
    pub inbox: Mutex<Inbox>,
    pub wake: Condvar,
    pub status: Mutex<Status>,
}

pub(super) enum Job {
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
pub(super) enum Kind {
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
    pub fn goes_before(&self, kind: Kind) -> bool {
        self.quit || self.waiting().any(|k| k <= kind)
    }

    /// The next job in [`Inbox::waiting`]'s order (pictures only once a model is open);
    /// a running run's next step when nothing else waits.
    pub fn next(&mut self, have_model: bool, training_due: bool) -> Option<Job> {
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

impl super::WorkerState {
    /// The worker thread: takes the next job, runs it, says how it went, until the
    /// window closes.
    pub(super) fn run(&mut self, shared: &Shared, ctx: &egui::Context) {
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
                    if let Some(job) = inbox.next(self.open.is_some(), training_due) {
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
}
