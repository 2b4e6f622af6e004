//! A model's GPU state: the flat arenas of parameters, their gradients, Adam's moments,
//! the L2 coefficients, the running statistics and the effective conv weights, with
//! named views into them. Shared by every batch-size plan built on the model.

use std::sync::Arc;

use super::config::ModelConfig;
use super::params::{Arena, Layout};
use crate::error::{Error, Result};
use crate::ops::{adam, rng};
use crate::runtime::{Gpu, Tensor};

pub struct ModelState {
    pub gpu: Arc<Gpu>,
    pub config: ModelConfig,
    pub layout: Layout,
    pub params: Tensor,
    pub grads: Tensor,
    pub adam_m: Tensor,
    pub adam_v: Tensor,
    pub l2: Tensor,
    pub adam_state: Tensor,
    pub buffers: Tensor,
    pub weights: Tensor,
    pub dweights: Tensor,
    /// Training noise (dequantisation); advanced once per step.
    pub rng: Tensor,
}

/// Refuses, before anything is allocated, a model whose parameter arenas exceed the
/// adapter's largest buffer (a huge `--features` once asked the host for terabytes).
fn fits_the_adapter(gpu: &Gpu, config: &ModelConfig, layout: &Layout) -> Result<()> {
    let max = gpu.device.limits().max_storage_buffer_binding_size;
    for (what, len) in [
        ("parameters", layout.params.len),
        ("effective weights", layout.weights.len),
        ("batch-norm statistics", layout.buffers.len),
    ] {
        let bytes = len as u64 * 4;
        if bytes > max {
            return Err(Error::Config(format!(
                "this model has {len} {what} ({:.1} GB) but the adapter's largest buffer \
                 holds {:.1} GB: make features (now {}) or blocks (now {}) smaller",
                bytes as f64 / 1e9,
                max as f64 / 1e9,
                config.features,
                config.blocks
            )));
        }
    }
    Ok(())
}

impl ModelState {
    /// A fresh model: parameters initialised from `seed`, optimizer state zero.
    pub fn new(gpu: Arc<Gpu>, config: ModelConfig, seed: u64) -> Result<ModelState> {
        config.validate()?;
        let layout = Layout::new(&config);
        fits_the_adapter(&gpu, &config, &layout)?;
        let params = gpu.upload([layout.params.len], &layout.init_params(seed))?;
        let state = ModelState {
            grads: gpu.zeros([layout.params.len])?,
            adam_m: gpu.zeros([layout.params.len])?,
            adam_v: gpu.zeros([layout.params.len])?,
            l2: gpu.upload([layout.params.len], &layout.l2_coefficients())?,
            adam_state: gpu.zeros([adam::STATE_LEN])?,
            buffers: gpu.upload([layout.buffers.len], &layout.init_buffers())?,
            weights: gpu.zeros([layout.weights.len])?,
            dweights: gpu.zeros([layout.weights.len])?,
            rng: rng::RngState::new(seed).upload(&gpu)?,
            params,
            layout,
            config,
            gpu,
        };
        Ok(state)
    }

    fn view(arena: &Arena, flat: &Tensor, what: &str, name: &str) -> Result<Tensor> {
        let slot = arena
            .get(name)
            .ok_or_else(|| Error::Config(format!("no {what} named '{name}'")))?;
        flat.view(slot.offset, slot.shape.as_slice())
            .ok_or_else(|| Error::Config(format!("{what} '{name}' lies outside its arena")))
    }

    pub fn param(&self, name: &str) -> Result<Tensor> {
        Self::view(&self.layout.params, &self.params, "parameter", name)
    }

    pub fn grad(&self, name: &str) -> Result<Tensor> {
        Self::view(&self.layout.params, &self.grads, "parameter", name)
    }

    pub fn buffer(&self, name: &str) -> Result<Tensor> {
        Self::view(&self.layout.buffers, &self.buffers, "buffer", name)
    }

    /// The effective weight w of conv `prefix` (named `<prefix>.w`).
    pub fn weight(&self, prefix: &str) -> Result<Tensor> {
        Self::view(
            &self.layout.weights,
            &self.weights,
            "conv weight",
            &format!("{prefix}.w"),
        )
    }

    pub fn dweight(&self, prefix: &str) -> Result<Tensor> {
        Self::view(
            &self.layout.weights,
            &self.dweights,
            "conv weight",
            &format!("{prefix}.w"),
        )
    }
}
