//! The flow's log-determinant against log|det J| of a brute-force Jacobian.

use realnvp::check::log_abs_det;
use realnvp::model::plan::Memory;

use super::helpers::*;
use crate::common::gpu;

/// tiny (1x8x8, D = 64): 64 coordinates perturbed by +-eps in one batch of 129 in
/// evaluation mode (samples are independent there), central differences of the
/// concatenated latents, log|det| by LU in f64.
#[test]
fn tiny_log_det_equals_brute_force_jacobian() {
    let gpu = gpu();
    let state = perturbed_model(&gpu, "tiny", 11);
    let d = 64;
    let batch = 2 * d + 1;
    let plan = plan(&state, batch, Memory::Recompute);
    let base: Vec<f32> = realnvp::philox::normal(4, 0, 0, d, 1.0)
        .iter()
        .map(|&v| v as f32)
        .collect();
    let eps = 1e-2f32;
    let mut y = Vec::with_capacity(batch * d);
    for i in 0..d {
        for sign in [1.0, -1.0] {
            let mut row = base.clone();
            row[i] += sign * eps;
            y.extend(row);
        }
    }
    y.extend(&base);
    let stats = plan.evaluate_y(&y).unwrap();
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
        for r in 0..d {
            // Column i of J: dz_r / dy_i.
            jacobian[r * d + i] = (plus[r] - minus[r]) / (2.0 * eps as f64);
        }
    }
    let brute = log_abs_det(d, jacobian);
    let flow = stats.logdet_flow(2 * d);
    println!("log|det J| brute force {brute:.6}, flow's log-det {flow:.6}");
    assert!(
        (brute - flow).abs() <= 1e-3,
        "brute force {brute} vs flow {flow}"
    );
}
