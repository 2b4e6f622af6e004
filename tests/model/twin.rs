//! The GPU flow against its CPU twin (src/cpu/flow.rs, f64) on the same weights:
//! log-likelihoods in evaluation and training mode, running statistics, and the
//! gradient of the training loss against finite differences of the twin's loss.

use realnvp::check::{assert_close, widen};
use realnvp::cpu::flow::CpuFlow;
use realnvp::model::plan::Memory;
use realnvp::model::state::ModelState;
use realnvp::ops::batch_norm::Statistics;

use super::helpers::*;
use crate::common::gpu;

struct Batch {
    n: usize,
    pixels: Vec<f32>,
    noise: Vec<f32>,
}

fn batch(n: usize, d: usize, seed: u64) -> Batch {
    Batch {
        n,
        pixels: random_pixels(n * d, seed),
        noise: realnvp::philox::uniform(seed, 0, 1, n * d)
            .iter()
            .map(|&u| u as f32)
            .collect(),
    }
}

/// The state's parameters and buffers, read back as f64 for the twin.
fn host(state: &ModelState) -> (Vec<f64>, Vec<f64>) {
    let gpu = &state.gpu;
    (
        widen(&gpu.read(&state.params).unwrap()),
        widen(&gpu.read(&state.buffers).unwrap()),
    )
}

fn check_log_likelihood(preset: &str, n: usize) {
    let gpu = gpu();
    let state = perturbed_model(&gpu, preset, 31);
    let (params, buffers) = host(&state);
    let twin = CpuFlow {
        config: &state.config,
        layout: &state.layout,
        params: &params,
        buffers: &buffers,
    };
    let d = state.config.dim();
    let b = batch(n, d, 32);
    let plan = plan(&state, n, Memory::Recompute);
    let gpu_stats = plan.evaluate(&b.pixels, &b.noise).unwrap();
    let want = twin.forward(&widen(&b.pixels), &widen(&b.noise), n, Statistics::Running);
    let got: Vec<f64> = (0..n).map(|i| gpu_stats.nll(i, d)).collect();
    assert_close(
        &format!("{preset}: -log p(x), GPU vs CPU twin (eval)"),
        &got,
        &want.nll,
        0.0,
        1e-4,
    );
    let logp: Vec<f64> = (0..n)
        .map(|i| gpu_stats.logp_z(i) + gpu_stats.logdet_flow(i))
        .collect();
    let want_logp: Vec<f64> = want
        .logp_z
        .iter()
        .zip(&want.logdet_flow)
        .map(|(a, b)| a + b)
        .collect();
    assert_close(
        &format!("{preset}: log p(y), GPU vs CPU twin (eval)"),
        &logp,
        &want_logp,
        0.0,
        1e-4,
    );
    // The per-latent rows behind `realnvp score`'s split: each latent's log-density.
    for (k, z) in want.latents.iter().enumerate() {
        assert_close(
            &format!("{preset}: log N(z_{k}), GPU vs CPU twin"),
            &widen(&gpu_stats.logp_latent[k]),
            &realnvp::cpu::normal::log_density(z, n),
            0.0,
            1e-4,
        );
    }
    assert_close(
        &format!("{preset}: preprocessing log-det, GPU vs CPU twin"),
        &widen(&gpu_stats.logdet_pre),
        &want.logdet_pre,
        0.0,
        1e-4,
    );
}

#[test]
fn tiny_log_likelihood_matches_the_cpu_twin() {
    check_log_likelihood("tiny", 3);
}

#[test]
fn mnist_preset_log_likelihood_matches_the_cpu_twin() {
    check_log_likelihood("mnist", 1);
}

#[test]
fn training_forward_and_running_statistics_match_the_cpu_twin() {
    let gpu = gpu();
    let state = perturbed_model(&gpu, "tiny", 41);
    let (params, buffers) = host(&state);
    let twin = CpuFlow {
        config: &state.config,
        layout: &state.layout,
        params: &params,
        buffers: &buffers,
    };
    let b = batch(6, 64, 42);
    let plan = plan(&state, b.n, Memory::Recompute);
    let stats = plan.gradients(&b.pixels, Some(&b.noise)).unwrap();
    let want = twin.forward(&widen(&b.pixels), &widen(&b.noise), b.n, Statistics::Batch);
    let got: Vec<f64> = (0..b.n).map(|i| stats.nll(i, 64)).collect();
    assert_close(
        "tiny: -log p(x), GPU vs CPU twin (training mode)",
        &got,
        &want.nll,
        0.0,
        1e-4,
    );
    let updated = twin.updated_buffers(&widen(&b.pixels), &widen(&b.noise), b.n);
    assert_close(
        "running statistics after one training forward",
        &widen(&gpu.read(&state.buffers).unwrap()),
        &updated,
        1e-5,
        1e-4,
    );
}

/// The whole training loss's gradient on the GPU (plus the L2 term the optimizer adds)
/// against central differences of the twin's f64 loss, on a sample of parameters: the
/// first element and one more of every tensor.
#[test]
fn tiny_loss_gradient_matches_finite_differences() {
    let gpu = gpu();
    let state = perturbed_model(&gpu, "tiny", 51);
    let (params, buffers) = host(&state);
    let b = batch(4, 64, 52);
    let plan = plan(&state, b.n, Memory::Recompute);
    plan.gradients(&b.pixels, Some(&b.noise)).unwrap();
    let grads = widen(&gpu.read(&state.grads).unwrap());
    let l2 = state.layout.l2_coefficients();

    let (pixels, noise) = (widen(&b.pixels), widen(&b.noise));
    let loss = |p: &[f64]| {
        CpuFlow {
            config: &state.config,
            layout: &state.layout,
            params: p,
            buffers: &buffers,
        }
        .loss(&pixels, &noise, b.n)
    };
    let mut indices = Vec::new();
    for (k, slot) in state.layout.params.slots.iter().enumerate() {
        indices.push(slot.offset);
        indices.push(slot.offset + (k * 7919) % slot.len());
    }
    indices.dedup();
    let fd = realnvp::check::finite_difference(&loss, &params, 1e-4, Some(&indices));
    let got: Vec<f64> = indices
        .iter()
        .map(|&i| grads[i] + 2.0 * l2[i] as f64 * params[i])
        .collect();
    let want: Vec<f64> = fd.iter().map(|&(_, g)| g).collect();
    assert_close(
        &format!(
            "d loss / d params at {} sampled parameters, GPU vs finite differences",
            indices.len()
        ),
        &got,
        &want,
        5e-5,
        1e-3,
    );
}
