//! The long picture jobs, the sample grid and the interpolation manifold, give way: on a
//! CPU adapter a grid takes seconds, and a slider move should not wait behind it. After
//! each plan batch the job checks the inbox; when a request waits that goes first (the
//! interpolation point, a newer grid of the same kind, a model to open, a training
//! command), the job puts its request back and remembers how far it got, so that
//! taking it up again draws only the remaining tiles.

use std::time::Instant;

use realnvp::model::latent::sphere_grid;

use super::schedule::{Kind, Shared};
use super::{WorkerState, opened};
use crate::pictures::{Drawn, Purpose};
use crate::protocol::{Interpolation, SampleGrid};

/// Grids stopped part-way: what they were drawing and the first image not yet drawn.
#[derive(Default)]
pub(super) struct Unfinished {
    samples: Option<(SampleGrid, usize)>,
    manifold: Option<(Interpolation, usize)>,
}

impl Unfinished {
    /// A model is opening: the tiles drawn so far are of the old one.
    pub(super) fn forget(&mut self) {
        *self = Unfinished::default();
    }
}

/// Where to start drawing `what`: past the tiles a stopped job drew for the same request.
fn resume_from<T: PartialEq>(unfinished: &mut Option<(T, usize)>, what: &T) -> usize {
    match unfinished.take() {
        Some((was, next)) if was == *what => next,
        _ => 0,
    }
}

impl WorkerState {
    /// Draws `grid`, or part of it; for a complete picture, the time it was asked for.
    pub(super) fn samples_job(
        &mut self,
        grid: SampleGrid,
        posted: Instant,
        shared: &Shared,
    ) -> anyhow::Result<Option<Instant>> {
        let first = resume_from(&mut self.unfinished.samples, &grid);
        let open = opened(&mut self.open);
        let plan = &open.model.plan;
        let z = open.cache.sample_latents(plan, grid);
        let stop = |drawn| {
            shared.status.lock().unwrap().samples_drawing = Some((grid, drawn));
            shared.inbox.lock().unwrap().goes_before(Kind::Samples)
        };
        match self
            .pictures
            .draw_until(plan, Purpose::Samples, grid.side, &z, first, stop)?
        {
            Drawn::Complete(picture) => {
                let mut status = shared.status.lock().unwrap();
                status.samples_drawing = None;
                status.samples = Some((grid, picture));
                status.samples_latency = Some(posted.elapsed());
                Ok(Some(posted))
            }
            Drawn::Stopped { next } => {
                let mut inbox = shared.inbox.lock().unwrap();
                // A newer grid in the slot replaces this one.
                if inbox.samples.is_none() {
                    inbox.samples = Some((grid, posted));
                    self.unfinished.samples = Some((grid, next));
                }
                Ok(None)
            }
        }
    }

    /// The same for the interpolation manifold of `at`.
    pub(super) fn manifold_job(
        &mut self,
        at: Interpolation,
        posted: Instant,
        shared: &Shared,
    ) -> anyhow::Result<Option<Instant>> {
        let first = resume_from(&mut self.unfinished.manifold, &at);
        let open = opened(&mut self.open);
        let plan = &open.model.plan;
        let z = sphere_grid(&open.cache.corners(plan, &at.corners)?, at.side);
        let stop = |_| shared.inbox.lock().unwrap().goes_before(Kind::Manifold);
        match self.pictures.draw_until(
            plan,
            Purpose::InterpolationGrid,
            at.side,
            &z,
            first,
            stop,
        )? {
            Drawn::Complete(picture) => {
                shared.status.lock().unwrap().manifold = Some((at, picture));
                Ok(Some(posted))
            }
            Drawn::Stopped { next } => {
                let mut inbox = shared.inbox.lock().unwrap();
                if inbox.manifold.is_none() {
                    inbox.manifold = Some((at.clone(), posted));
                    self.unfinished.manifold = Some((at, next));
                }
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Corner;
    use crate::worker::schedule::Inbox;

    fn grid(temperature: f32) -> SampleGrid {
        SampleGrid {
            seed: 0,
            temperature,
            side: 8,
        }
    }

    fn at(phi: f64) -> Interpolation {
        let corner = Corner::Dataset { index: 0 };
        Interpolation {
            corners: [corner.clone(), corner.clone(), corner.clone(), corner],
            phi,
            phi2: 0.0,
            side: 8,
        }
    }

    #[test]
    fn grids_give_way_to_what_comes_before_them() {
        let now = Instant::now();
        let waiting = |put: &dyn Fn(&mut Inbox)| {
            let mut inbox = Inbox::default();
            put(&mut inbox);
            (
                inbox.goes_before(Kind::Samples),
                inbox.goes_before(Kind::Manifold),
            )
        };
        assert_eq!(waiting(&|_| {}), (false, false));
        assert_eq!(waiting(&|i| i.point = Some((at(0.5), now))), (true, true));
        assert_eq!(
            waiting(&|i| i.samples = Some((grid(0.5), now))),
            (true, true)
        );
        assert_eq!(waiting(&|i| i.quit = true), (true, true));
        assert_eq!(
            waiting(&|i| i.manifold = Some((at(0.0), now))),
            (false, true)
        );
        assert_eq!(waiting(&|i| i.image = Some("x.png".into())), (false, true));
        // Slow background work never interrupts a picture.
        assert_eq!(waiting(&|i| i.test_scores = true), (false, false));
    }

    #[test]
    fn a_grid_resumes_only_for_the_same_request() {
        let mut unfinished = Some((grid(0.7), 6));
        assert_eq!(resume_from(&mut unfinished, &grid(0.8)), 0);
        assert_eq!(unfinished, None, "another grid forgets the old one");
        let mut unfinished = Some((grid(0.7), 6));
        assert_eq!(resume_from(&mut unfinished, &grid(0.7)), 6);
        assert_eq!(unfinished, None, "taken up once");
    }
}
