//! The flow's log-determinant against log|det J| of a brute-force Jacobian, through
//! `Plan::evaluate` (pixels and noise in, latents and log-dets out).

use realnvp::check::log_abs_det;
use realnvp::model::plan::Memory;
use realnvp::ops::logit::ALPHA;

use super::helpers::*;
use crate::common::gpu;

/// Values in multiples of 2^-10: below 256 they are exact in f32, and so are their
/// split into a pixel and its noise and the GPU's sum of the two.
const QUANTUM: f64 = 1.0 / 1024.0;

fn quantized(v: f64) -> f64 {
    (v / QUANTUM).round() * QUANTUM
}

fn sigmoid(y: f64) -> f64 {
    1.0 / (1.0 + (-y).exp())
}

/// The preprocessing of a dequantized pixel value v = pixel + noise, in f64:
/// q = ALPHA + (1 - 2 ALPHA) v / 256, y = logit(q).
fn q_of(v: f64) -> f64 {
    ALPHA as f64 + (1.0 - 2.0 * ALPHA as f64) * v / 256.0
}

fn y_of(v: f64) -> f64 {
    let q = q_of(v);
    (q / (1.0 - q)).ln()
}

/// The v whose logit-space value is y, and dv/dy there.
fn v_of(y: f64) -> f64 {
    256.0 * (sigmoid(y) - ALPHA as f64) / (1.0 - 2.0 * ALPHA as f64)
}

fn dv_dy(y: f64) -> f64 {
    let q = sigmoid(y);
    256.0 * q * (1.0 - q) / (1.0 - 2.0 * ALPHA as f64)
}

/// tiny (1x8x8, D = 64): the dequantized value of each of the 64 coordinates moved by
/// +-h_i, which moves its logit-space value y_i by about 1e-2, in one batch of 129 in
/// evaluation mode (samples are independent there). Column i of dz/dy is the latents'
/// difference over the exact difference of y_i (the preprocessing in f64), log|det| by
/// LU in f64. The preprocessing's log-det is checked against f64 too.
#[test]
fn tiny_log_det_equals_brute_force_jacobian() {
    let gpu = gpu();
    let state = perturbed_model(&gpu, "tiny", 11);
    let d = 64;
    let batch = 2 * d + 1;
    let plan = plan(&state, batch, Memory::Recompute);
    // Logit-space values ~ N(0, 1), inside the logit's range (|y| < logit(1 - ALPHA)).
    let y = realnvp::philox::normal(4, 0, 0, d, 1.0);
    assert!(y.iter().all(|v| v.abs() < 2.9), "{y:?}");
    let base: Vec<f64> = y.iter().map(|&y| quantized(v_of(y))).collect();
    let step: Vec<f64> = y.iter().map(|&y| quantized(1e-2 * dv_dy(y))).collect();
    let mut v = Vec::with_capacity(batch * d);
    for i in 0..d {
        for sign in [1.0, -1.0] {
            let mut row = base.clone();
            row[i] += sign * step[i];
            v.extend(row);
        }
    }
    v.extend(&base);
    let pixels: Vec<f32> = v.iter().map(|v| v.floor() as f32).collect();
    let noise: Vec<f32> = v.iter().map(|v| (v - v.floor()) as f32).collect();
    let densities = plan.evaluate(&pixels, &noise).unwrap();
    let latents: Vec<Vec<f32>> = plan.latents.iter().map(|z| gpu.read(z).unwrap()).collect();
    // z of sample s: its part of each latent, concatenated.
    let z_of = |s: usize| -> Vec<f64> {
        latents
            .iter()
            .flat_map(|z| {
                let per = z.len() / batch;
                z[s * per..(s + 1) * per].iter().map(|&v| v as f64)
            })
            .collect()
    };
    let mut jacobian = vec![0.0; d * d];
    for i in 0..d {
        let (plus, minus) = (z_of(2 * i), z_of(2 * i + 1));
        let dy = y_of(base[i] + step[i]) - y_of(base[i] - step[i]);
        for r in 0..d {
            // Column i of J: dz_r / dy_i.
            jacobian[r * d + i] = (plus[r] - minus[r]) / dy;
        }
    }
    let brute = log_abs_det(d, jacobian);
    let flow = densities.logdet_flow(2 * d);
    println!("log|det J| brute force {brute:.6}, flow's log-det {flow:.6}");
    assert!(
        (brute - flow).abs() <= 1e-3,
        "brute force {brute} vs flow {flow}"
    );
    let pre: f64 = base
        .iter()
        .map(|&v| (1.0 - 2.0 * ALPHA as f64).ln() - q_of(v).ln() - (1.0 - q_of(v)).ln())
        .sum();
    let reported = densities.logdet_pre[2 * d] as f64;
    assert!(
        (pre - reported).abs() <= 1e-4,
        "preprocessing log-det {reported}, f64 {pre}"
    );
}
