//! Building models for tests: presets with parameters moved off their initial values so
//! that no coupling is the identity.

use std::sync::Arc;

use realnvp::Gpu;
use realnvp::model::ModelConfig;
use realnvp::model::plan::{Memory, Plan};
use realnvp::model::state::ModelState;
use realnvp::ops::adam::AdamConfig;

/// A model of `preset` whose parameters are the initial ones plus deterministic
/// perturbations (conv_out g included, so s and t are not zero), and whose running
/// statistics are perturbed too.
pub fn perturbed_model(gpu: &Arc<Gpu>, preset: &str, seed: u64) -> ModelState {
    let config = ModelConfig::preset(preset).unwrap();
    let state = ModelState::new(gpu.clone(), config, seed).unwrap();
    let mut params = state.layout.init_params(seed);
    let noise = realnvp::philox::normal(seed, 1, 0, params.len(), 0.05);
    for (p, e) in params.iter_mut().zip(noise) {
        *p += e as f32;
    }
    gpu.write(&state.params, &params).unwrap();
    let mut buffers = state.layout.init_buffers();
    let noise = realnvp::philox::uniform(seed, 2, 0, buffers.len());
    for (slot, b) in state.layout.buffers.slots.iter().zip(0..) {
        let _ = b;
        for i in slot.offset..slot.offset + slot.len() {
            // Means in [-0.1, 0.1), variances in [0.8, 1.2).
            buffers[i] += if slot.name.ends_with("running_var") {
                0.4 * noise[i] as f32 - 0.2
            } else {
                0.2 * noise[i] as f32 - 0.1
            };
        }
    }
    gpu.write(&state.buffers, &buffers).unwrap();
    state
}

pub fn plan(state: &ModelState, batch: usize, memory: Memory) -> Plan {
    Plan::new(state, batch, memory, &AdamConfig::default()).unwrap()
}

/// Pixel values 0..255 from a seed.
pub fn random_pixels(n: usize, seed: u64) -> Vec<f32> {
    realnvp::philox::uniform(seed, 0, 9, n)
        .into_iter()
        .map(|u| (u * 256.0).floor() as f32)
        .collect()
}
