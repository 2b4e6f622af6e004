//! A model's GPU state: the flat arenas of parameters, their gradients, Adam's moments,
//! the L2 coefficients, the running statistics and the effective conv weights, with
//! named views into them. Shared by every batch-size plan built on the model.

use std::sync::Arc;

use super::architecture::{Layer, layers};
use super::config::ModelConfig;
use super::params::{Arena, ArenaLens, Layout};
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

/// Refuses, before anything is built or allocated, a model the adapter cannot hold:
/// a parameter arena, or the largest activation of one image, past `max_buffer` bytes
/// (the adapter's largest buffer). Sizes come from the config alone with checked
/// arithmetic, so that neither a huge `--features` nor `--blocks` nor image size makes
/// the host build the layout or ask for the memory first. A batch's activations are
/// checked as its plan builds them: a plan may use another batch than the config's.
pub fn check_fits(config: &ModelConfig, max_buffer: u64) -> Result<()> {
    let gb = |bytes: u64| format!("{:.1} GB", bytes as f64 / 1e9);
    let arenas = ArenaLens::of(config);
    for (what, len) in [
        ("parameters", arenas.map(|a| a.params)),
        ("effective weights", arenas.map(|a| a.weights)),
        ("batch-norm statistics", arenas.map(|a| a.buffers)),
    ] {
        let bytes = len.and_then(|len| len.checked_mul(4));
        if bytes.is_none_or(|bytes| bytes > max_buffer) {
            let size = match (len, bytes) {
                (Some(len), Some(bytes)) => format!("{len} {what} ({})", gb(bytes)),
                _ => format!("more {what} than 64-bit sizes count"),
            };
            return Err(Error::Config(format!(
                "this model has {size} but the adapter's largest buffer holds {}: make \
                 features (now {}) or blocks (now {}) smaller",
                gb(max_buffer),
                config.features,
                config.blocks
            )));
        }
    }
    let activation = largest_activation(config);
    let bytes = activation.and_then(|len| len.checked_mul(4));
    if bytes.is_none_or(|bytes| bytes > max_buffer) {
        let size = match (activation, bytes) {
            (Some(len), Some(bytes)) => format!("{len} values ({})", gb(bytes)),
            _ => "more values than 64-bit sizes count".into(),
        };
        return Err(Error::Config(format!(
            "one image's largest activation in this model holds {size} but the adapter's \
             largest buffer holds {}: make the images (now {}x{}) or features (now {}) \
             smaller",
            gb(max_buffer),
            config.height,
            config.width,
            config.features
        )));
    }
    Ok(())
}

/// Values in the largest tensor a plan holds per image: at each coupling, its input,
/// its network's feature maps or the network's output (s and t of the transformed
/// channels), whichever has the most channels, at that coupling's height and width.
fn largest_activation(config: &ModelConfig) -> Option<u64> {
    let mut largest = 0u64;
    for layer in layers(config) {
        if let Layer::Coupling {
            mask,
            shape: [c, h, w],
            ..
        } = layer
        {
            let [_, ct, _, _] = mask.st_shape((1, c, h, w));
            let channels = (c as u64)
                .max(config.features as u64)
                .max((ct as u64).checked_mul(2)?);
            largest = largest.max(channels.checked_mul(h as u64)?.checked_mul(w as u64)?);
        }
    }
    Some(largest)
}

impl ModelState {
    /// A fresh model: parameters initialised from `seed`, optimizer state zero.
    pub fn new(gpu: Arc<Gpu>, config: ModelConfig, seed: u64) -> Result<ModelState> {
        config.validate()?;
        check_fits(&config, gpu.device.limits().max_storage_buffer_binding_size)?;
        let layout = Layout::new(&config);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// lavapipe's largest storage buffer.
    const LAVAPIPE: u64 = 128 << 20;

    #[test]
    fn models_past_the_adapter_are_refused_from_the_config_alone() {
        let tiny = ModelConfig::preset("tiny").unwrap();
        check_fits(&tiny, LAVAPIPE).unwrap();
        check_fits(&ModelConfig::preset("cifar10").unwrap(), LAVAPIPE).unwrap();

        let wide = ModelConfig {
            features: 100_000,
            ..tiny.clone()
        };
        let e = check_fits(&wide, LAVAPIPE).unwrap_err().to_string();
        assert!(
            e.contains("parameters") && e.contains("features (now 100000)"),
            "{e}"
        );

        // 6.7 GB of 8-feature blocks, past a large GPU's 4 GiB buffers: the layout
        // alone would be 16 million named slots.
        let deep = ModelConfig {
            blocks: 100_000,
            ..tiny.clone()
        };
        let e = check_fits(&deep, 4 << 30).unwrap_err().to_string();
        assert!(e.contains("blocks (now 100000)"), "{e}");

        let large = ModelConfig {
            height: 4096,
            width: 4096,
            ..tiny.clone()
        };
        let e = check_fits(&large, LAVAPIPE).unwrap_err().to_string();
        assert!(
            e.contains("134217728 values") && e.contains("images (now 4096x4096)"),
            "{e}"
        );

        let beyond_u64 = ModelConfig {
            features: 1 << 40,
            ..tiny
        };
        let e = check_fits(&beyond_u64, u64::MAX).unwrap_err().to_string();
        assert!(e.contains("64-bit"), "{e}");
    }
}
