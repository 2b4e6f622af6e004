//! CPU twin of ops/adam.rs, in f64 (the hyper-parameters widened from their f32 values,
//! so both sides use the same betas).

use crate::ops::adam::AdamConfig;

/// What the GPU's state tensor holds after a step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AdamState {
    pub step: u32,
    pub grad_norm: f64,
    pub clip: f64,
    pub bias1: f64,
    pub bias2: f64,
}

/// Same as PyTorch's clip_grad_norm_.
const CLIP_EPS: f64 = 1e-6;

/// One update, in place: see `ops::adam::l2_clip_adam_step`.
pub fn l2_clip_adam_step(
    params: &mut [f64],
    grads: &mut [f64],
    m: &mut [f64],
    v: &mut [f64],
    l2: &[f64],
    state: &mut AdamState,
    config: &AdamConfig,
) {
    let lr = config.lr as f64;
    let (b1, b2) = (config.beta1 as f64, config.beta2 as f64);
    let eps = config.eps as f64;

    for (g, (&c, &p)) in grads.iter_mut().zip(l2.iter().zip(params.iter())) {
        *g += 2.0 * c * p;
    }
    let norm = grads.iter().map(|g| g * g).sum::<f64>().sqrt();
    state.step += 1;
    state.grad_norm = norm;
    // A non-finite norm zeroes the gradient, as on the GPU.
    state.clip = if norm.is_finite() {
        (config.max_grad_norm as f64 / (norm + CLIP_EPS)).min(1.0)
    } else {
        0.0
    };
    state.bias1 = 1.0 - b1.powi(state.step as i32);
    state.bias2 = 1.0 - b2.powi(state.step as i32);

    for i in 0..params.len() {
        let g = if state.clip > 0.0 {
            grads[i] * state.clip
        } else {
            0.0
        };
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        let m_hat = m[i] / state.bias1;
        let v_hat = v[i] / state.bias2;
        params[i] -= lr * m_hat / (v_hat.sqrt() + eps);
    }
}
