//! Every trainable parameter and batch-norm running statistic of a model: names, shapes,
//! where each lives in its flat arena, which get the L2 penalty, and how each starts.
//! The names are the checkpoint's tensor names (docs/MODEL.md lists the scheme).

use super::architecture::{Layer, layers};
use super::config::ModelConfig;
use crate::runtime::VIEW_ALIGN;

/// How a parameter starts (docs/MODEL.md, "Initialisation").
#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    /// Independent N(0, std^2) draws (Philox stream = the parameter's index).
    Normal {
        std: f64,
    },
    Constant(f64),
    /// Weight-norm scale g[o] = ||v[o, :]|| of the named v, so that w = v at the start.
    RowNorms {
        of: String,
    },
}

/// One named tensor in a flat arena, starting at an aligned offset.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    pub name: String,
    pub shape: Vec<usize>,
    pub offset: usize,
    pub init: Init,
    /// Whether the loss adds 5e-5 * sum(p^2) for it (weight-norm g and coupling scale).
    pub l2: bool,
}

impl Slot {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One weight-normalised conv: its parameters are `<prefix>.v`, `.g` and `.bias`, its
/// effective weight `<prefix>.w`.
#[derive(Clone, Debug)]
pub struct ConvNames {
    pub prefix: String,
}

/// A flat arena of named slots.
#[derive(Clone, Debug, Default)]
pub struct Arena {
    pub slots: Vec<Slot>,
    pub len: usize,
}

impl Arena {
    fn push(&mut self, name: String, shape: Vec<usize>, init: Init, l2: bool) {
        let offset = self.len;
        let len: usize = shape.iter().product();
        self.len = offset + len.div_ceil(VIEW_ALIGN) * VIEW_ALIGN;
        self.slots.push(Slot {
            name,
            shape,
            offset,
            init,
            l2,
        });
    }

    pub fn get(&self, name: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.name == name)
    }

    /// The slot's values within a flat buffer.
    pub fn values<'a, T>(&self, slot: &Slot, flat: &'a [T]) -> &'a [T] {
        &flat[slot.offset..slot.offset + slot.len()]
    }
}

/// Parameters (trained), buffers (running statistics) and the effective conv weights
/// w = g v / ||v|| (recomputed from the parameters, never saved).
#[derive(Clone, Debug)]
pub struct Layout {
    pub params: Arena,
    pub buffers: Arena,
    pub convs: Vec<ConvNames>,
    /// Effective weights, one slot per conv, named like its v without the `.v`.
    pub weights: Arena,
}

/// The L2 coefficient of the loss (official code): 5e-5 * sum(p^2).
pub const L2: f64 = 5e-5;

impl Layout {
    pub fn new(config: &ModelConfig) -> Layout {
        let mut layout = Layout {
            params: Arena::default(),
            buffers: Arena::default(),
            convs: Vec::new(),
            weights: Arena::default(),
        };
        for layer in layers(config) {
            match layer {
                Layer::Coupling {
                    name,
                    mask,
                    shape: [c, h, w],
                } => {
                    let [_, ct, _, _] = mask.st_shape((1, c, h, w));
                    layout.net(&format!("{name}.net"), ct, ct, config);
                    layout.params.push(
                        format!("{name}.scale"),
                        vec![ct],
                        Init::Constant(1.0),
                        true,
                    );
                }
                Layer::FlowNorm {
                    name,
                    shape: [c, _, _],
                } => {
                    let p = &mut layout.params;
                    p.push(
                        format!("{name}.log_gamma"),
                        vec![c],
                        Init::Constant(0.0),
                        false,
                    );
                    p.push(format!("{name}.beta"), vec![c], Init::Constant(0.0), false);
                    layout.running(&name, c);
                }
                Layer::Squeeze { .. } | Layer::FactorOut { .. } => {}
            }
        }
        layout
    }

    /// The s,t ResNet of a coupling: conditioning input `cin` channels, `ct` transformed.
    fn net(&mut self, prefix: &str, cin: usize, ct: usize, config: &ModelConfig) {
        let f = config.features;
        self.conv(&format!("{prefix}.conv_in"), f, cin, false);
        for b in 0..config.blocks {
            self.norm(&format!("{prefix}.block{b}.bn1"), f);
            self.conv(&format!("{prefix}.block{b}.conv1"), f, f, false);
            self.norm(&format!("{prefix}.block{b}.bn2"), f);
            self.conv(&format!("{prefix}.block{b}.conv2"), f, f, false);
        }
        self.norm(&format!("{prefix}.bn_out"), f);
        self.conv(&format!("{prefix}.conv_out"), 2 * ct, f, true);
    }

    /// A weight-normalised 3x3 conv. v ~ N(0, 1/fan_in); g = ||v|| so that w = v, except
    /// the network's last conv, whose g = 0 makes w = 0: s = t = 0 and every coupling
    /// starts as the identity.
    fn conv(&mut self, prefix: &str, out: usize, inp: usize, last: bool) {
        let v = format!("{prefix}.v");
        let std = 1.0 / ((inp * 9) as f64).sqrt();
        self.params
            .push(v.clone(), vec![out, inp, 3, 3], Init::Normal { std }, false);
        let g_init = if last {
            Init::Constant(0.0)
        } else {
            Init::RowNorms { of: v }
        };
        self.params
            .push(format!("{prefix}.g"), vec![out], g_init, true);
        self.params.push(
            format!("{prefix}.bias"),
            vec![out],
            Init::Constant(0.0),
            false,
        );
        self.weights.push(
            format!("{prefix}.w"),
            vec![out, inp, 3, 3],
            Init::Constant(0.0),
            false,
        );
        self.convs.push(ConvNames {
            prefix: prefix.to_owned(),
        });
    }

    /// A plain batch norm: weight 1, bias 0; running mean 0, running variance 1.
    fn norm(&mut self, prefix: &str, c: usize) {
        self.params.push(
            format!("{prefix}.weight"),
            vec![c],
            Init::Constant(1.0),
            false,
        );
        self.params.push(
            format!("{prefix}.bias"),
            vec![c],
            Init::Constant(0.0),
            false,
        );
        self.running(prefix, c);
    }

    fn running(&mut self, prefix: &str, c: usize) {
        self.buffers.push(
            format!("{prefix}.running_mean"),
            vec![c],
            Init::Constant(0.0),
            false,
        );
        self.buffers.push(
            format!("{prefix}.running_var"),
            vec![c],
            Init::Constant(1.0),
            false,
        );
    }

    /// Initial parameter values (flat, padding zero), reproducible from `seed`.
    pub fn init_params(&self, seed: u64) -> Vec<f32> {
        let mut flat = vec![0f32; self.params.len];
        for (index, slot) in self.params.slots.iter().enumerate() {
            let values: Vec<f64> = match &slot.init {
                Init::Normal { std } => {
                    crate::philox::normal(seed, 0, index as u32, slot.len(), *std)
                }
                Init::Constant(c) => vec![*c; slot.len()],
                Init::RowNorms { of } => {
                    let v = self.params.get(of).expect("v precedes its g");
                    let rows = v.shape[0];
                    let per_row = v.len() / rows;
                    let vals = &flat[v.offset..v.offset + v.len()];
                    (0..rows)
                        .map(|r| {
                            let row = &vals[r * per_row..(r + 1) * per_row];
                            row.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt()
                        })
                        .collect()
                }
            };
            for (dst, v) in flat[slot.offset..slot.offset + slot.len()]
                .iter_mut()
                .zip(values)
            {
                *dst = v as f32;
            }
        }
        flat
    }

    /// Initial running statistics (flat).
    pub fn init_buffers(&self) -> Vec<f32> {
        let mut flat = vec![0f32; self.buffers.len];
        for slot in &self.buffers.slots {
            if let Init::Constant(c) = slot.init {
                flat[slot.offset..slot.offset + slot.len()].fill(c as f32);
            }
        }
        flat
    }

    /// The per-element L2 coefficient (5e-5 on g and coupling scales, else 0).
    pub fn l2_coefficients(&self) -> Vec<f32> {
        let mut flat = vec![0f32; self.params.len];
        for slot in self.params.slots.iter().filter(|s| s.l2) {
            flat[slot.offset..slot.offset + slot.len()].fill(L2 as f32);
        }
        flat
    }

    /// Number of trainable values (without padding).
    pub fn param_count(&self) -> usize {
        self.params.slots.iter().map(Slot::len).sum()
    }
}

/// The lengths of the arenas [`Layout::new`] builds, padding included, computed from
/// the config alone: a layout of many blocks is millions of named slots, and its sizes
/// must be known before it is built ([`super::state::check_fits`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArenaLens {
    pub params: u64,
    pub buffers: u64,
    pub weights: u64,
}

impl ArenaLens {
    /// The lengths for `config`; None when one does not fit in a u64.
    pub fn of(config: &ModelConfig) -> Option<ArenaLens> {
        let f = config.features as u64;
        let block = ArenaLens::norm(f)?
            .plus(ArenaLens::conv(f, f)?)?
            .plus(ArenaLens::norm(f)?)?
            .plus(ArenaLens::conv(f, f)?)?;
        let blocks = block.times(config.blocks as u64)?;
        let mut lens = ArenaLens::default();
        for layer in layers(config) {
            let added = match layer {
                Layer::Coupling {
                    mask,
                    shape: [c, h, w],
                    ..
                } => {
                    let [_, ct, _, _] = mask.st_shape((1, c, h, w));
                    let ct = ct as u64;
                    let scale = ArenaLens {
                        params: padded(ct)?,
                        ..ArenaLens::default()
                    };
                    ArenaLens::conv(f, ct)?
                        .plus(blocks)?
                        .plus(ArenaLens::norm(f)?)?
                        .plus(ArenaLens::conv(ct.checked_mul(2)?, f)?)?
                        .plus(scale)?
                }
                // log_gamma and beta, and running statistics, as a plain norm has.
                Layer::FlowNorm {
                    shape: [c, _, _], ..
                } => ArenaLens::norm(c as u64)?,
                Layer::Squeeze { .. } | Layer::FactorOut { .. } => ArenaLens::default(),
            };
            lens = lens.plus(added)?;
        }
        Some(lens)
    }

    /// A 3x3 conv's v, g and bias, and its effective weight ([`Layout::conv`]).
    fn conv(out: u64, inp: u64) -> Option<ArenaLens> {
        let weight = padded(out.checked_mul(inp)?.checked_mul(9)?)?;
        Some(ArenaLens {
            params: weight.checked_add(padded(out)?.checked_mul(2)?)?,
            buffers: 0,
            weights: weight,
        })
    }

    /// Two parameters and two running statistics of `c` values ([`Layout::norm`]).
    fn norm(c: u64) -> Option<ArenaLens> {
        let two = padded(c)?.checked_mul(2)?;
        Some(ArenaLens {
            params: two,
            buffers: two,
            weights: 0,
        })
    }

    fn plus(self, other: ArenaLens) -> Option<ArenaLens> {
        Some(ArenaLens {
            params: self.params.checked_add(other.params)?,
            buffers: self.buffers.checked_add(other.buffers)?,
            weights: self.weights.checked_add(other.weights)?,
        })
    }

    fn times(self, k: u64) -> Option<ArenaLens> {
        Some(ArenaLens {
            params: self.params.checked_mul(k)?,
            buffers: self.buffers.checked_mul(k)?,
            weights: self.weights.checked_mul(k)?,
        })
    }
}

/// A slot's length in its arena: rounded up to the view alignment, as [`Arena`] pads it.
fn padded(len: u64) -> Option<u64> {
    len.checked_next_multiple_of(VIEW_ALIGN as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_lengths_from_the_config_are_those_of_the_layout() {
        let mut configs: Vec<ModelConfig> = ["tiny", "mnist", "cifar10"]
            .iter()
            .map(|name| ModelConfig::preset(name).unwrap())
            .collect();
        configs.push(ModelConfig {
            channels: 3,
            height: 48,
            width: 16,
            scales: 4,
            features: 5,
            blocks: 3,
            batch: 1,
        });
        configs.push(ModelConfig {
            blocks: 0,
            ..configs[0].clone()
        });
        for config in configs {
            let layout = Layout::new(&config);
            let built = ArenaLens {
                params: layout.params.len as u64,
                buffers: layout.buffers.len as u64,
                weights: layout.weights.len as u64,
            };
            assert_eq!(ArenaLens::of(&config), Some(built), "{config:?}");
        }
    }

    #[test]
    fn arena_lengths_past_u64_are_none() {
        let config = ModelConfig {
            features: 1 << 40,
            ..ModelConfig::preset("tiny").unwrap()
        };
        assert_eq!(ArenaLens::of(&config), None);
    }

    #[test]
    fn tiny_layout_names_and_initial_values() {
        let config = ModelConfig::preset("tiny").unwrap();
        let layout = Layout::new(&config);
        let v = layout.params.get("scale0.checker0.net.conv_in.v").unwrap();
        assert_eq!(v.shape, vec![8, 1, 3, 3]);
        assert!(
            layout
                .params
                .slots
                .iter()
                .all(|s| s.offset % VIEW_ALIGN == 0)
        );
        let flat = layout.init_params(7);
        // g = ||v|| per row, so w = v; the last conv starts at zero.
        let g = layout.params.get("scale0.checker0.net.conv_in.g").unwrap();
        let vv = layout.params.values(v, &flat);
        let norm0: f32 = vv[..9].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((layout.params.values(g, &flat)[0] - norm0).abs() < 1e-6);
        let g_out = layout.params.get("scale1.checker3.net.conv_out.g").unwrap();
        assert!(layout.params.values(g_out, &flat).iter().all(|&x| x == 0.0));
        assert_eq!(layout.init_params(7), flat, "init is reproducible");
        assert_ne!(layout.init_params(8), flat);
        let rv = layout
            .buffers
            .get("scale0.checker0.bn.running_var")
            .unwrap();
        assert!(
            layout
                .buffers
                .values(rv, &layout.init_buffers())
                .iter()
                .all(|&x| x == 1.0)
        );
        let l2 = layout.l2_coefficients();
        assert_eq!(layout.params.values(g, &l2)[0], L2 as f32);
        assert_eq!(layout.params.values(v, &l2)[0], 0.0);
    }
}
