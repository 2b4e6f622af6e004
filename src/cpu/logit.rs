//! CPU twin of ops/logit.rs. The forward takes the dequantized x; [`dequantize`] makes
//! it from pixels and noise.

/// The GPU's alpha exactly (0.05 rounded to f32), so the twins differ only in arithmetic.
const ALPHA: f64 = crate::ops::logit::ALPHA as f64;

/// x = (pixel + u) / 256.
pub fn dequantize(pixels: &[f64], noise: &[f64]) -> Vec<f64> {
    pixels
        .iter()
        .zip(noise)
        .map(|(p, u)| (p + u) / 256.0)
        .collect()
}

fn squash(x: f64) -> f64 {
    ALPHA + (1.0 - 2.0 * ALPHA) * x
}

/// (y, logdet): y = log(q) - log(1 - q) with q = ALPHA + (1 - 2 ALPHA) x, and per sample
/// the sum of log(1 - 2 ALPHA) - log(q) - log(1 - q); x holds `samples` equal blocks.
pub fn forward(x: &[f64], samples: usize) -> (Vec<f64>, Vec<f64>) {
    let y = x
        .iter()
        .map(|&v| {
            let q = squash(v);
            q.ln() - (1.0 - q).ln()
        })
        .collect();
    let logdet = x
        .chunks(x.len() / samples)
        .map(|s| {
            s.iter()
                .map(|&v| {
                    let q = squash(v);
                    (1.0 - 2.0 * ALPHA).ln() - q.ln() - (1.0 - q).ln()
                })
                .sum()
        })
        .collect();
    (y, logdet)
}

/// x = clamp((sigmoid(y) - ALPHA) / (1 - 2 ALPHA), 0, 1).
pub fn inverse(y: &[f64]) -> Vec<f64> {
    y.iter()
        .map(|&v| {
            let q = 1.0 / (1.0 + (-v).exp());
            ((q - ALPHA) / (1.0 - 2.0 * ALPHA)).clamp(0.0, 1.0)
        })
        .collect()
}
