//! A plan: every buffer and op a model needs at one batch size, built once
//! (`build.rs`). Running a training step, an evaluation or decoding records the
//! prebuilt ops into one compute pass and one submission: no buffer is created and no
//! pipeline compiled. `Plan` methods that take any number of images or latents are in
//! `model/batched.rs`.

mod build;
mod stat_rows;

use std::sync::Arc;

use self::stat_rows::StatRows;
use super::architecture::Chw;
use super::densities::Densities;
use super::latent::LatentLayout;
pub use super::layer::Memory;
use super::state::ModelState;
use crate::error::{Error, Result};
use crate::ops::Op;
use crate::ops::adam::{self, AdamConfig, OptimState};
use crate::runtime::profile::{self, DispatchTime};
use crate::runtime::timer::Clock;
use crate::runtime::{Gpu, Tensor};

pub struct Plan {
    gpu: Arc<Gpu>,
    pub batch: usize,
    pub dim: usize,
    /// [channels, height, width] of one image.
    pub chw: Chw,
    pub latent_layout: LatentLayout,
    /// Input pixels (0..255 as f32), written by the caller.
    pixels: Tensor,
    noise: Tensor,
    pub latents: Vec<Tensor>,
    /// Per-sample sums, one row per term, laid out by [`StatRows`].
    stats: Tensor,
    rows: StatRows,
    /// Samples in [0, 1] written by the inverse pass.
    pub images: Tensor,
    zero_stats: Vec<Op>,
    preprocess: Vec<Op>,
    weights: Vec<Op>,
    forward_eval: Vec<Op>,
    prior: Vec<Op>,
    inverse_eval: Vec<Op>,
    /// Present in a plan built for training.
    training: Option<TrainingOps>,
    /// See [`Plan::set_dispatches_per_submission`].
    dispatches_per_submission: Option<usize>,
}

/// The ops of a training step beyond those of evaluation (built by `build.rs`).
struct TrainingOps {
    zero_grads: Vec<Op>,
    noise: Vec<Op>,
    forward: Vec<Op>,
    backward: Vec<Op>,
    optimizer: Vec<Op>,
    adam_config: AdamConfig,
    /// Adam's state, read back with every step's statistics.
    optimizer_state: Tensor,
}

impl Plan {
    pub fn gpu(&self) -> &Arc<Gpu> {
        &self.gpu
    }

    /// The latents z_0 .. z_{L-1} of the last forward, per tensor NCHW.
    pub fn read_latents(&self) -> Result<Vec<Vec<f32>>> {
        self.latents.iter().map(|z| self.gpu.read(z)).collect()
    }

    /// Writes latents z_0 .. z_{L-1} (per tensor NCHW) for [`Plan::decode`].
    pub fn set_latents(&self, latents: &[Vec<f32>]) -> Result<()> {
        for (t, z) in self.latents.iter().zip(latents) {
            self.gpu.write(t, z)?;
        }
        Ok(())
    }

    /// The images of the last [`Plan::decode`], values in [0, 1].
    pub fn read_images(&self) -> Result<Vec<f32>> {
        self.gpu.read(&self.images)
    }

    /// One submission (or slices of one, see [`Plan::set_dispatches_per_submission`]):
    /// `uploads`, then the op groups in order, then `downloads` read back.
    fn record(
        &self,
        uploads: &[(&Tensor, &[f32])],
        groups: &[&[Op]],
        downloads: &[&Tensor],
    ) -> Result<Vec<Vec<f32>>> {
        let dispatches: Vec<_> = groups
            .iter()
            .flat_map(|g| g.iter())
            .flat_map(|op| op.dispatches())
            .collect();
        self.gpu.submit_dispatches(
            uploads,
            &dispatches,
            downloads,
            self.dispatches_per_submission,
        )
    }

    /// Submits each pass in slices of at most `n` dispatches (None: whole, the default);
    /// see [`Gpu::submit_dispatches`]. The app does this for training on a CPU adapter.
    pub fn set_dispatches_per_submission(&mut self, n: Option<usize>) {
        self.dispatches_per_submission = n;
    }

    fn record_densities(
        &self,
        uploads: &[(&Tensor, &[f32])],
        groups: &[&[Op]],
    ) -> Result<Densities> {
        let all = self.record(uploads, groups, &[&self.stats])?;
        Ok(self.rows.unpack(&all[0]))
    }

    fn training_ops(&self) -> Result<&TrainingOps> {
        self.training.as_ref().ok_or_else(|| {
            Error::Config("this plan was built for inference: it cannot train".into())
        })
    }

    /// Steps after this one use learning rate `lr` (the optimizer op is rebuilt: a
    /// user's action, not something to do per step). `state` is the plan's model.
    pub fn set_learning_rate(&mut self, state: &ModelState, lr: f32) -> Result<()> {
        let t = self.training.as_mut().ok_or_else(|| {
            Error::Config("this plan was built for inference: it cannot train".into())
        })?;
        adam::check_learning_rate(lr)?;
        let config = AdamConfig {
            lr,
            ..t.adam_config
        };
        t.optimizer = vec![build::optimizer(state, &config)?];
        t.adam_config = config;
        Ok(())
    }

    /// One training step on a batch of pixels (0..255, NCHW, exactly `batch` images):
    /// fresh dequantisation noise, forward, backward, Adam, in one submission that also
    /// uploads the batch and reads back the step's densities (the loss before the
    /// update) and the optimizer's state after it.
    pub fn train_step(&self, pixels: &[f32]) -> Result<(Densities, OptimState)> {
        let t = self.training_ops()?;
        let all = self.record(
            &[(&self.pixels, pixels)],
            &self.train_step_groups()?,
            &[&self.stats, &t.optimizer_state],
        )?;
        Ok((self.rows.unpack(&all[0]), OptimState::from_words(&all[1])?))
    }

    /// The op groups of [`Plan::train_step`], in order.
    fn train_step_groups(&self) -> Result<[&[Op]; 9]> {
        let t = self.training_ops()?;
        Ok([
            &self.zero_stats,
            &t.zero_grads,
            &t.noise,
            &self.preprocess,
            &self.weights,
            &t.forward,
            &self.prior,
            &t.backward,
            &t.optimizer,
        ])
    }

    /// A training step (it does update the model) with every dispatch timed alone
    /// (`realnvp bench --profile`).
    pub fn profile_train_step(&self, pixels: &[f32]) -> Result<(Vec<DispatchTime>, Clock)> {
        self.gpu.write(&self.pixels, pixels)?;
        self.profile_groups(&self.train_step_groups()?)
    }

    /// [`Plan::decode`] with every dispatch timed alone.
    pub fn profile_decode(&self) -> Result<(Vec<DispatchTime>, Clock)> {
        self.profile_groups(&[&self.weights, &self.inverse_eval])
    }

    fn profile_groups(&self, groups: &[&[Op]]) -> Result<(Vec<DispatchTime>, Clock)> {
        let dispatches: Vec<_> = groups
            .iter()
            .flat_map(|g| g.iter())
            .flat_map(|op| op.dispatches())
            .collect();
        profile::profile(&self.gpu, &dispatches)
    }

    /// Forward and backward only (no update), leaving the gradients in the model's
    /// gradient arena, with the given dequantisation noise u (or the plan's last noise).
    pub fn gradients(&self, pixels: &[f32], noise: Option<&[f32]>) -> Result<Densities> {
        let t = self.training_ops()?;
        let mut uploads = vec![(&self.pixels, pixels)];
        uploads.extend(noise.map(|u| (&self.noise, u)));
        self.record_densities(
            &uploads,
            &[
                &self.zero_stats,
                &t.zero_grads,
                &self.preprocess,
                &self.weights,
                &t.forward,
                &self.prior,
                &t.backward,
            ],
        )
    }

    /// Log-likelihood terms of a batch of pixels in evaluation mode, with dequantisation
    /// noise u (same shape as the pixels; see [`super::eval_noise`]). Leaves the
    /// latents in the latent tensors.
    pub fn evaluate(&self, pixels: &[f32], noise: &[f32]) -> Result<Densities> {
        self.record_densities(
            &[(&self.pixels, pixels), (&self.noise, noise)],
            &[
                &self.zero_stats,
                &self.preprocess,
                &self.weights,
                &self.forward_eval,
                &self.prior,
            ],
        )
    }

    /// Latents z -> images in [0, 1] (evaluation mode), from the latent tensors as they are.
    pub fn decode(&self) -> Result<()> {
        self.record(&[], &[&self.weights, &self.inverse_eval], &[])
            .map(|_| ())
    }
}
