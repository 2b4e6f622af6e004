//! The multi-scale architecture as data: the sequence of flow layers a config builds,
//! with each layer's name and input shape. Shared by the GPU model, its CPU twin and
//! the checkpoint's tensor names.

use super::config::ModelConfig;
use crate::ops::coupling::Mask;

/// (C, H, W) of one sample.
pub type Chw = [usize; 3];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Affine coupling on x of shape `shape`, named `name` (its parameters are
    /// `<name>.net.*` and `<name>.scale`).
    Coupling {
        name: String,
        mask: Mask,
        shape: Chw,
    },
    /// Flow batch norm after a coupling (`<name>.log_gamma`, `<name>.beta`).
    FlowNorm { name: String, shape: Chw },
    /// pixel_unshuffle(2): (C, H, W) -> (4C, H/2, W/2).
    Squeeze { shape: Chw },
    /// The second half of the channels leaves as latent `latent`.
    FactorOut { latent: usize, shape: Chw },
}

impl Layer {
    /// Shape of the layer's input.
    pub fn input(&self) -> Chw {
        match self {
            Layer::Coupling { shape, .. }
            | Layer::FlowNorm { shape, .. }
            | Layer::Squeeze { shape }
            | Layer::FactorOut { shape, .. } => *shape,
        }
    }

    /// Shape of the layer's (continuing) output.
    pub fn output(&self) -> Chw {
        let [c, h, w] = self.input();
        match self {
            Layer::Squeeze { .. } => [c * 4, h / 2, w / 2],
            Layer::FactorOut { .. } => [c / 2, h, w],
            _ => [c, h, w],
        }
    }
}

/// The layers of `config`, input to latent:
/// scales 0 .. L-2: 3 checkerboard couplings (parity 0, 1, 0), squeeze, 3 channel-wise
/// couplings (transforming the second half, then the first, then the second), factor-out;
/// scale L-1: 4 checkerboard couplings (parity 0, 1, 0, 1). Each coupling is followed
/// by a flow batch norm.
pub fn layers(config: &ModelConfig) -> Vec<Layer> {
    let mut out = Vec::new();
    let mut shape = config.chw();
    for scale in 0..config.scales {
        let last = scale + 1 == config.scales;
        let checkers = if last { 4 } else { 3 };
        for j in 0..checkers {
            let name = format!("scale{scale}.checker{j}");
            let mask = Mask::Checkerboard {
                parity: (j % 2) as u32,
            };
            push_coupling(&mut out, name, mask, shape);
        }
        if last {
            break;
        }
        out.push(Layer::Squeeze { shape });
        shape = [shape[0] * 4, shape[1] / 2, shape[2] / 2];
        for j in 0..3 {
            let name = format!("scale{scale}.channel{j}");
            // Even layers condition on the first half and transform the second.
            let mask = Mask::Channel {
                half: if j % 2 == 0 { 1 } else { 0 },
            };
            push_coupling(&mut out, name, mask, shape);
        }
        out.push(Layer::FactorOut {
            latent: scale,
            shape,
        });
        shape = [shape[0] / 2, shape[1], shape[2]];
    }
    out
}

fn push_coupling(out: &mut Vec<Layer>, name: String, mask: Mask, shape: Chw) {
    out.push(Layer::Coupling {
        name: name.clone(),
        mask,
        shape,
    });
    out.push(Layer::FlowNorm {
        name: format!("{name}.bn"),
        shape,
    });
}

/// Shapes of the latents z_0 .. z_{L-1} (per sample), in the order they are
/// concatenated into z.
pub fn latent_shapes(config: &ModelConfig) -> Vec<Chw> {
    let layers = layers(config);
    let mut shapes: Vec<Chw> = layers
        .iter()
        .filter_map(|l| match l {
            Layer::FactorOut {
                shape: [c, h, w], ..
            } => Some([c / 2, *h, *w]),
            _ => None,
        })
        .collect();
    shapes.push(layers.last().expect("a flow has layers").output());
    shapes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnist_follows_the_spec() {
        let config = ModelConfig::preset("mnist").unwrap();
        let l = layers(&config);
        // 3 checker + squeeze + 3 channel + factor-out, then 4 checker; a norm after each coupling.
        assert_eq!(l.len(), 3 * 2 + 1 + 3 * 2 + 1 + 4 * 2);
        assert_eq!(l[6], Layer::Squeeze { shape: [1, 28, 28] });
        assert_eq!(l[7].input(), [4, 14, 14]);
        assert_eq!(
            l[13],
            Layer::FactorOut {
                latent: 0,
                shape: [4, 14, 14]
            }
        );
        assert_eq!(l[14].input(), [2, 14, 14]);
        assert_eq!(latent_shapes(&config), vec![[2, 14, 14], [2, 14, 14]]);
        let total: usize = latent_shapes(&config)
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum();
        assert_eq!(total, 784);
        assert!(matches!(
            &l[2],
            Layer::Coupling {
                mask: Mask::Checkerboard { parity: 1 },
                ..
            }
        ));
        assert!(matches!(
            &l[7],
            Layer::Coupling {
                mask: Mask::Channel { half: 1 },
                ..
            }
        ));
        assert!(matches!(
            &l[9],
            Layer::Coupling {
                mask: Mask::Channel { half: 0 },
                ..
            }
        ));
    }

    #[test]
    fn cifar_latents_cover_the_input() {
        let config = ModelConfig::preset("cifar10").unwrap();
        let total: usize = latent_shapes(&config)
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum();
        assert_eq!(total, config.dim());
    }
}
