//! Running one job: opening a model, the interpolation point, a PNG export, and
//! handing the rest to their files (`grids.rs`, `your_image.rs`, `training.rs`).

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use realnvp::grid::{grid_columns, save_grid};
use realnvp::model::latent::{sphere_grid, sphere_point};

use super::open_model::OpenModel;
use super::schedule::{Job, Shared};
use super::{WorkerState, opened};
use crate::pictures::Purpose;
use crate::protocol::{Export, Interpolation, ModelSource, Status};

impl WorkerState {
    /// Runs one job; for a picture, the time its request was posted. A job that fails,
    /// panics included, puts its error where the panel waiting on it looks, and the
    /// worker goes on with the next.
    pub(super) fn job(&mut self, job: Job, shared: &Shared) -> anyhow::Result<Option<Instant>> {
        let status = &shared.status;
        match job {
            Job::Open(source) => {
                if let Err(e) = unwinding(|| self.open_model(&source, status)) {
                    status.lock().unwrap().open_error = Some(format!("{e:#}"));
                }
                Ok(None)
            }
            Job::Samples(grid, posted) => unwinding(|| self.samples_job(grid, posted, shared))
                .inspect_err(|_| {
                    let mut status = status.lock().unwrap();
                    status.samples_drawing = None;
                    status.samples_failed = Some(grid);
                }),
            Job::Point(at, posted) => {
                let failed = at.clone();
                unwinding(|| self.point_job(at, posted, status))
                    .inspect_err(|_| status.lock().unwrap().interpolation_failed = Some(failed))
            }
            Job::Manifold(at, posted) => {
                let failed = at.clone();
                unwinding(|| self.manifold_job(at, posted, shared))
                    .inspect_err(|_| status.lock().unwrap().interpolation_failed = Some(failed))
            }
            Job::Image(path) => {
                let report = unwinding(|| self.your_image(&path)).map_err(|e| format!("{e:#}"));
                status.lock().unwrap().image = Some(report);
                Ok(None)
            }
            Job::Export(what, path) => {
                let saved = unwinding(|| self.export(&what, &path)).map(|()| path);
                status.lock().unwrap().exported = Some(saved.map_err(|e| format!("{e:#}")));
                Ok(None)
            }
            Job::TestScores => {
                match unwinding(|| self.score_test_chunk(status)) {
                    Ok(complete) => self.more_test_scores = !complete,
                    // Final: the panel stops asking and says why.
                    Err(e) => status.lock().unwrap().test_scores.failed = Some(format!("{e:#}")),
                }
                Ok(None)
            }
            // Shown where the Training panel looks.
            Job::Train(command) => {
                training_error(status, unwinding(|| self.train_command(command, status)))
            }
            Job::TrainUnit => training_error(status, unwinding(|| self.train_unit(status))),
        }
    }

    /// Loads a model (building its plans); the current one stays if this fails. The
    /// status forgets the old pictures before their textures are freed.
    pub(super) fn open_model(
        &mut self,
        source: &ModelSource,
        status: &Mutex<Status>,
    ) -> anyhow::Result<()> {
        let open = OpenModel::new(self.gpu.clone(), source)?;
        {
            let mut status = status.lock().unwrap();
            let generation = status.generation + 1;
            *status = Status {
                model: Some(open.info()),
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
        self.open = Some(open);
        Ok(())
    }

    /// The one image at (φ, φ'): the slider-to-image path.
    fn point_job(
        &mut self,
        at: Interpolation,
        posted: Instant,
        status: &Mutex<Status>,
    ) -> anyhow::Result<Option<Instant>> {
        let open = opened(&mut self.open);
        let corners = open.cache.corners(&open.model.plan, &at.corners)?;
        let z = sphere_point(&corners, at.phi, at.phi2);
        let picture = self
            .pictures
            .draw(&open.point_plan, Purpose::InterpolationPoint, 1, &[z])?;
        let mut status = status.lock().unwrap();
        status.point = Some((at, picture));
        status.point_latency = Some(posted.elapsed());
        Ok(Some(posted))
    }

    /// Decodes the pictures of `what` again and saves them as a PNG grid.
    fn export(&mut self, what: &Export, path: &Path) -> anyhow::Result<()> {
        let open = opened(&mut self.open);
        let plan = &open.model.plan;
        let (z, side) = match what {
            Export::Samples(grid) => (open.cache.sample_latents(plan, *grid), grid.side),
            Export::Manifold(at) => (
                sphere_grid(&open.cache.corners(plan, &at.corners)?, at.side),
                at.side,
            ),
        };
        let images = plan.decode_latents(&z)?;
        save_grid(path, &images, z.len(), plan.chw, grid_columns(side * side))?;
        Ok(())
    }
}

/// Runs `work`, turning a panic inside it into its error: a bug in one job (a decoder's,
/// ours) must not end the worker thread, which would leave every panel waiting.
/// A training job's failure goes to the status' `training_error`, which the Training
/// panel shows; the job itself then counts as done.
fn training_error(
    status: &Mutex<Status>,
    done: anyhow::Result<()>,
) -> anyhow::Result<Option<Instant>> {
    if let Err(e) = done {
        status.lock().unwrap().training_error = Some(format!("{e:#}"));
    }
    Ok(None)
}

pub(super) fn unwinding<T>(work: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        Err(anyhow::anyhow!("internal error (a panic): {message}"))
    })
}
