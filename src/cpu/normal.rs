//! CPU twin of ops/normal.rs.

use std::f64::consts::PI;

/// sum_i (-0.5 z_i^2 - 0.5 ln(2 pi)) per sample; z holds `samples` equal blocks.
pub fn log_density(z: &[f64], samples: usize) -> Vec<f64> {
    z.chunks(z.len() / samples)
        .map(|s| s.iter().map(|v| -0.5 * v * v - 0.5 * (2.0 * PI).ln()).sum())
        .collect()
}

/// dz = -z * dlogp[n].
pub fn log_density_backward(z: &[f64], samples: usize, dlogp: &[f64]) -> Vec<f64> {
    let per_sample = z.len() / samples;
    z.iter()
        .enumerate()
        .map(|(i, v)| -v * dlogp[i / per_sample])
        .collect()
}
