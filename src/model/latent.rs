//! Latent vectors (docs/MODEL.md, "Latent vectors"): one image's z_0 .. z_{L-1}, each
//! flattened CHW and concatenated into D = C*H*W values, and the spherical
//! interpolation between them.

use super::architecture::{Chw, latent_shapes};
use super::config::ModelConfig;

/// How latent vectors map to the plan's per-latent NCHW tensors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatentLayout {
    shapes: Vec<Chw>,
}

impl LatentLayout {
    pub fn new(config: &ModelConfig) -> Self {
        LatentLayout {
            shapes: latent_shapes(config),
        }
    }

    /// D: values in one latent vector.
    pub fn dim(&self) -> usize {
        self.shapes
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }

    /// The vectors (one per sample) as per-latent NCHW tensors.
    pub fn to_tensors<'a>(&self, vectors: impl IntoIterator<Item = &'a [f32]>) -> Vec<Vec<f32>> {
        let mut out: Vec<Vec<f32>> = self.shapes.iter().map(|_| Vec::new()).collect();
        for v in vectors {
            assert_eq!(v.len(), self.dim(), "a latent vector has D values");
            let mut at = 0;
            for (k, s) in self.shapes.iter().enumerate() {
                let len: usize = s.iter().product();
                out[k].extend_from_slice(&v[at..at + len]);
                at += len;
            }
        }
        out
    }

    /// The first `n` samples of per-latent NCHW tensors as vectors.
    pub fn from_tensors(&self, tensors: &[Vec<f32>], n: usize) -> Vec<Vec<f32>> {
        (0..n)
            .map(|i| {
                self.shapes
                    .iter()
                    .zip(tensors)
                    .flat_map(|(s, t)| {
                        let len: usize = s.iter().product();
                        t[i * len..(i + 1) * len].iter().copied()
                    })
                    .collect()
            })
            .collect()
    }
}

/// Prior draws z ~ N(0, I) for images `first .. first + n` of `seed`, D values each:
/// image k's vector is Philox4x32-10 normals keyed by the seed at counter base k
/// (docs/MODEL.md, "Samples"), so a draw depends on the seed and the image's number
/// alone, never on a batch size: the CLI, the trainer's grids and the app agree.
pub fn prior_draws(seed: u64, first: usize, n: usize, dim: usize) -> Vec<Vec<f32>> {
    (first..first + n)
        .map(|k| {
            crate::philox::normal(seed, k as u64, 0, dim, 1.0)
                .into_iter()
                .map(|v| v as f32)
                .collect()
        })
        .collect()
}

/// The largest sampling temperature accepted: far beyond any useful one (samples at
/// T > 1.5 are mostly noise), well below where latents overflow.
pub const MAX_TEMPERATURE: f32 = 10.0;

/// Refuses a temperature outside 0 to [`MAX_TEMPERATURE`] (NaN included).
pub fn check_temperature(t: f32) -> crate::Result<()> {
    if (0.0..=MAX_TEMPERATURE).contains(&t) {
        return Ok(());
    }
    Err(crate::Error::Config(format!(
        "the temperature must be from 0 to {MAX_TEMPERATURE}, not {t}"
    )))
}

/// T * z: a prior draw at unit temperature rescaled to temperature T.
pub fn at_temperature(z: &[f32], temperature: f32) -> Vec<f32> {
    z.iter().map(|v| v * temperature).collect()
}

/// The spec's 2-D spherical manifold through corners z1..z4:
/// z = cos φ (cos φ' z1 + sin φ' z2) + sin φ (cos φ' z3 + sin φ' z4).
/// φ = φ' = 0 gives z1 exactly.
pub fn sphere_point(corners: &[Vec<f32>; 4], phi: f64, phi2: f64) -> Vec<f32> {
    let (c, s, c2, s2) = (phi.cos(), phi.sin(), phi2.cos(), phi2.sin());
    (0..corners[0].len())
        .map(|i| {
            let z = |k: usize| corners[k][i] as f64;
            (c * (c2 * z(0) + s2 * z(1)) + s * (c2 * z(2) + s2 * z(3))) as f32
        })
        .collect()
}

/// The K x K grid of [`sphere_point`]s, rows φ and columns φ' from 0 to π/2.
pub fn sphere_grid(corners: &[Vec<f32>; 4], k: usize) -> Vec<Vec<f32>> {
    let angle = |i: usize| std::f64::consts::FRAC_PI_2 * i as f64 / (k.max(2) - 1) as f64;
    (0..k * k)
        .map(|i| sphere_point(corners, angle(i / k), angle(i % k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_and_tensors_round_trip() {
        let layout = LatentLayout::new(&ModelConfig::preset("tiny").unwrap());
        assert_eq!(layout.dim(), 64);
        let vectors: Vec<Vec<f32>> = (0..3)
            .map(|i| (0..64).map(|j| (i * 100 + j) as f32).collect())
            .collect();
        let tensors = layout.to_tensors(vectors.iter().map(Vec::as_slice));
        assert_eq!(tensors.len(), 2);
        assert_eq!(tensors[0].len() + tensors[1].len(), 3 * 64);
        assert_eq!(layout.from_tensors(&tensors, 3), vectors);
    }

    #[test]
    fn the_sphere_passes_through_each_corner() {
        let corners = [0, 1, 2, 3].map(|k| vec![k as f32, 10.0 * k as f32]);
        let h = std::f64::consts::FRAC_PI_2;
        assert_eq!(sphere_point(&corners, 0.0, 0.0), corners[0]);
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
        assert!(close(&sphere_point(&corners, 0.0, h), &corners[1]));
        assert!(close(&sphere_point(&corners, h, 0.0), &corners[2]));
        assert!(close(&sphere_point(&corners, h, h), &corners[3]));
        assert_eq!(sphere_grid(&corners, 3).len(), 9);
    }
}
