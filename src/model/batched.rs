//! The interactive API: any number of images or latent vectors through a plan of fixed
//! batch size (padded by [`super::chunks`]). Samples, decodings, encodings and
//! per-image scores; the CLI, the trainer and the desktop app all go through these.

use super::chunks::{Chunk, chunks};
use super::densities::ImageScore;
use super::eval_noise::{EvalNoise, eval_noise};
use super::latent::{at_temperature, prior_draws};
use super::plan::Plan;
use crate::data::Dataset;
use crate::error::{Error, Result};

impl Plan {
    /// The first `n` prior draws of `seed` ([`prior_draws`]): samples at temperature T
    /// are these times T.
    pub fn prior_latents(&self, seed: u64, n: usize) -> Vec<Vec<f32>> {
        prior_draws(seed, 0, n, self.dim)
    }

    /// Images decoded from latent vectors, values in [0, 1], `z.len()` images of C*H*W.
    pub fn decode_latents(&self, z: &[Vec<f32>]) -> Result<Vec<f32>> {
        let mut images = Vec::with_capacity(z.len() * self.dim);
        self.decode_chunks(z, |plan, chunk| {
            images.extend_from_slice(&plan.read_images()?[..chunk.real * plan.dim]);
            Ok(())
        })?;
        Ok(images)
    }

    /// Decodes `z` a batch at a time, calling `each` with the chunk while its images are
    /// in the plan's image tensor (the app draws them into a texture from there).
    pub fn decode_chunks(
        &self,
        z: &[Vec<f32>],
        mut each: impl FnMut(&Plan, Chunk) -> Result<()>,
    ) -> Result<()> {
        let layout = &self.latent_layout;
        for (i, v) in z.iter().enumerate() {
            if v.len() != layout.dim() {
                return Err(Error::Config(format!(
                    "latent vector {i} has {} values, the model needs {}",
                    v.len(),
                    layout.dim()
                )));
            }
        }
        for chunk in chunks(z.len(), self.batch) {
            let padded = chunk.indices(self.batch);
            self.set_latents(&layout.to_tensors(padded.iter().map(|&i| z[i].as_slice())))?;
            self.decode()?;
            each(self, chunk)?;
        }
        Ok(())
    }

    /// `n` samples at temperature T from `seed`: the prior latents of `seed` times T,
    /// decoded. Values in [0, 1].
    pub fn sample_images(&self, seed: u64, temperature: f32, n: usize) -> Result<Vec<f32>> {
        let z: Vec<Vec<f32>> = self
            .prior_latents(seed, n)
            .iter()
            .map(|v| at_temperature(v, temperature))
            .collect();
        self.decode_latents(&z)
    }

    /// The latent vectors of images `indices` of `data`, dequantised with u = 0.5 (the
    /// deterministic encoding that decodes back to the image).
    pub fn encode(&self, data: &Dataset, indices: &[usize]) -> Result<Vec<Vec<f32>>> {
        let layout = &self.latent_layout;
        let mut z = Vec::with_capacity(indices.len());
        self.for_each_chunk(data, indices, EvalNoise::Half, |plan, real, _| {
            z.extend(layout.from_tensors(&plan.read_latents()?, real));
            Ok(())
        })?;
        Ok(z)
    }

    /// Each image's -log p in nats and bits/dim, split over the model's parts, in
    /// evaluation mode with `noise` (image k of `data` always gets the same noise).
    pub fn score(
        &self,
        data: &Dataset,
        indices: &[usize],
        noise: EvalNoise,
    ) -> Result<Vec<ImageScore>> {
        let mut scores = Vec::with_capacity(indices.len());
        self.for_each_chunk(data, indices, noise, |plan, real, densities| {
            scores.extend((0..real).map(|i| densities.score(i, plan.dim)));
            Ok(())
        })?;
        Ok(scores)
    }

    /// Evaluates `indices` of `data` a batch at a time, calling `each` with the number of
    /// real images in the batch and their densities (the latents are in the plan).
    fn for_each_chunk(
        &self,
        data: &Dataset,
        indices: &[usize],
        noise: EvalNoise,
        mut each: impl FnMut(&Plan, usize, &super::Densities) -> Result<()>,
    ) -> Result<()> {
        if data.shape() != self.chw {
            return Err(Error::Config(format!(
                "{} holds {:?} images (CxHxW) but the model takes {:?}",
                data.source,
                data.shape(),
                self.chw
            )));
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= data.len()) {
            return Err(Error::Config(format!(
                "image {bad} is past the end of {} ({} images)",
                data.source,
                data.len()
            )));
        }
        let mut pixels = Vec::new();
        for chunk in chunks(indices.len(), self.batch) {
            let batch: Vec<usize> = chunk
                .indices(self.batch)
                .iter()
                .map(|&i| indices[i])
                .collect();
            data.batch(&batch, &mut pixels);
            let densities = self.evaluate(&pixels, &eval_noise(noise, &batch, self.dim))?;
            each(self, chunk.real, &densities)?;
        }
        Ok(())
    }
}
