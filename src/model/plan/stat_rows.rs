//! Where each per-sample term lives in a plan's statistics tensor.

use crate::model::densities::Densities;
use crate::runtime::{Tensor, VIEW_ALIGN};

/// Where each per-sample term lives in the stats tensor: row 0 the preprocessing's
/// log-det, then one row per latent's log-density, then one per scale's log-det.
#[derive(Clone, Copy)]
pub(super) struct StatRows {
    stride: usize,
    batch: usize,
    latents: usize,
    scales: usize,
}

impl StatRows {
    /// The rows of `batch` samples' terms for a flow with `latents` latents and
    /// `scales` scales, each row starting at a multiple of [`VIEW_ALIGN`] (a view).
    pub(super) fn new(batch: usize, latents: usize, scales: usize) -> Self {
        StatRows {
            stride: batch.div_ceil(VIEW_ALIGN) * VIEW_ALIGN,
            batch,
            latents,
            scales,
        }
    }

    /// Elements of the stats tensor.
    pub(super) fn elements(&self) -> usize {
        (1 + self.latents + self.scales) * self.stride
    }

    pub(super) fn pre(&self) -> usize {
        0
    }

    pub(super) fn latent(&self, k: usize) -> usize {
        1 + k
    }

    pub(super) fn scale(&self, s: usize) -> usize {
        1 + self.latents + s
    }

    /// Row `r` of `stats` as a [batch] view.
    pub(super) fn view(&self, stats: &Tensor, r: usize) -> Tensor {
        stats
            .view(r * self.stride, [self.batch])
            .expect("stats rows fit")
    }

    /// The terms of every sample from the stats tensor's contents.
    pub(super) fn unpack(&self, all: &[f32]) -> Densities {
        let row = |r: usize| all[r * self.stride..r * self.stride + self.batch].to_vec();
        Densities {
            logp_latent: (0..self.latents).map(|k| row(self.latent(k))).collect(),
            logdet_scale: (0..self.scales).map(|s| row(self.scale(s))).collect(),
            logdet_pre: row(self.pre()),
        }
    }
}
