//! Per-image log-density terms of a forward pass, and the bits they add up to.
//!
//! In nats, -log p(image) = D ln 256 - log|dy/dx| (dequantise and logit)
//! minus the sum over scales s of log|det| (scale s) minus the sum over latents k of
//! log N(z_k); divided by D ln 2 it is bits/dim. Each term divided the same way is that
//! part's share of the bits/dim, so the shares add up to the total.

use std::f64::consts::LN_2;

/// Per-sample terms of a forward pass of a batch, in nats.
#[derive(Clone, Debug, PartialEq)]
pub struct Densities {
    /// log N(z_k; 0, I) of latent k (z_0 .. z_{L-1}), per sample: `[latent][sample]`.
    pub logp_latent: Vec<Vec<f32>>,
    /// log|det| of scale s's flow layers, per sample: `[scale][sample]`.
    pub logdet_scale: Vec<Vec<f32>>,
    /// log|dy/dx| of the preprocessing (dequantised pixels to logit space), per sample.
    pub logdet_pre: Vec<f32>,
}

/// One image's bits/dim and how they split over the model's parts.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageScore {
    /// -log p(discrete image) in nats.
    pub nats: f64,
    pub bits_per_dim: f64,
    /// The preprocessing's share (D log2 256 minus its log-det), in bits/dim.
    pub preprocessing: f64,
    /// Each latent's -log N(z_k) share, in bits/dim.
    pub latent: Vec<f64>,
    /// Each scale's -log|det| share, in bits/dim.
    pub logdet: Vec<f64>,
}

impl Densities {
    /// log N(z) of sample i over all latents.
    pub fn logp_z(&self, i: usize) -> f64 {
        self.logp_latent.iter().map(|l| l[i] as f64).sum()
    }

    /// log|det| of the whole flow (every scale) for sample i.
    pub fn logdet_flow(&self, i: usize) -> f64 {
        self.logdet_scale.iter().map(|l| l[i] as f64).sum()
    }

    /// -log p(discrete image) in nats for sample i: -(log p(y) + log|dy/dx|) + D ln 256.
    pub fn nll(&self, i: usize, dim: usize) -> f64 {
        -(self.logp_z(i) + self.logdet_flow(i) + self.logdet_pre[i] as f64)
            + dim as f64 * 256f64.ln()
    }

    pub fn bits_per_dim(&self, i: usize, dim: usize) -> f64 {
        self.nll(i, dim) / (dim as f64 * LN_2)
    }

    /// Mean bits/dim over the first `count` samples.
    pub fn mean_bits_per_dim(&self, count: usize, dim: usize) -> f64 {
        (0..count).map(|i| self.bits_per_dim(i, dim)).sum::<f64>() / count as f64
    }

    /// Sample i's score with its split over preprocessing, latents and scales.
    pub fn score(&self, i: usize, dim: usize) -> ImageScore {
        let bits = |nats: f64| nats / (dim as f64 * LN_2);
        ImageScore {
            nats: self.nll(i, dim),
            bits_per_dim: self.bits_per_dim(i, dim),
            preprocessing: bits(dim as f64 * 256f64.ln() - self.logdet_pre[i] as f64),
            latent: self
                .logp_latent
                .iter()
                .map(|l| bits(-(l[i] as f64)))
                .collect(),
            logdet: self
                .logdet_scale
                .iter()
                .map(|l| bits(-(l[i] as f64)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shares_add_up_to_the_bits_per_dim() {
        let d = Densities {
            logp_latent: vec![vec![-300.0, -10.0], vec![-200.0, -20.0]],
            logdet_scale: vec![vec![50.0, 1.0], vec![-7.5, 2.0]],
            logdet_pre: vec![-1000.0, 3.0],
        };
        for i in 0..2 {
            let s = d.score(i, 784);
            let total =
                s.preprocessing + s.latent.iter().sum::<f64>() + s.logdet.iter().sum::<f64>();
            assert!(
                (total - s.bits_per_dim).abs() < 1e-12,
                "{total} vs {}",
                s.bits_per_dim
            );
            assert!((s.nats / (784.0 * LN_2) - s.bits_per_dim).abs() < 1e-12);
        }
        assert_eq!(d.logp_z(0), -500.0);
        assert_eq!(d.logdet_flow(1), 3.0);
    }
}
