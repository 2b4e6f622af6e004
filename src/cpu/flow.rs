//! CPU twin of the whole flow (docs/MODEL.md), chained from the op twins in f64: the
//! reference the GPU model is tested against. Walks `architecture::layers` with one
//! function per layer kind; tensors are flat NCHW, parameters and running statistics
//! are read by name from the layout's flat arenas.

use std::f64::consts::LN_2;

use super::batch_norm::{self, Stats};
use super::{activation, conv2d, coupling, logit, normal, split, squeeze, weight_norm};
use crate::model::ModelConfig;
use crate::model::architecture::{Layer, layers};
use crate::model::params::{Arena, L2, Layout, Slot};
use crate::ops::batch_norm::Statistics;
use crate::ops::conv2d::ConvShape;
use crate::ops::coupling::Mask;

/// A model's weights as f64 views of the layout's flat arenas.
pub struct CpuFlow<'a> {
    pub config: &'a ModelConfig,
    pub layout: &'a Layout,
    /// Flat, `layout.params`.
    pub params: &'a [f64],
    /// Flat running statistics, `layout.buffers`.
    pub buffers: &'a [f64],
}

/// Per-sample results of [`CpuFlow::forward`].
#[derive(Clone, Debug)]
pub struct Forward {
    /// z_0 .. z_{L-1}, each [N, C, H, W] flat NCHW.
    pub latents: Vec<Vec<f64>>,
    pub logp_z: Vec<f64>,
    pub logdet_flow: Vec<f64>,
    pub logdet_pre: Vec<f64>,
    /// Nats per image of the discrete image.
    pub nll: Vec<f64>,
    pub bits_per_dim: Vec<f64>,
}

impl<'a> CpuFlow<'a> {
    /// Dequantize (pixels 0..255 plus noise u in [0, 1)), logit, the flow.
    pub fn forward(
        &self,
        pixels: &[f64],
        noise: &[f64],
        n: usize,
        statistics: Statistics,
    ) -> Forward {
        self.density(pixels, noise, n, statistics).0
    }

    /// The flow from y (after the logit): (latents, logdet_flow).
    pub fn forward_y(
        &self,
        y: &[f64],
        n: usize,
        statistics: Statistics,
    ) -> (Vec<Vec<f64>>, Vec<f64>) {
        Pass::new(self, statistics).flow(y, n)
    }

    /// Latents to y (before the logit), in evaluation mode as inversion always is.
    pub fn inverse_y(&self, latents: &[Vec<f64>], n: usize) -> Vec<f64> {
        let mut pass = Pass::new(self, Statistics::Running);
        let mut x = latents.last().expect("a flow has a final latent").clone();
        for layer in layers(self.config).iter().rev() {
            let [c, h, w] = layer.input();
            let dims = [n, c, h, w];
            x = match layer {
                Layer::Coupling { name, mask, .. } => {
                    // The coupling leaves the conditioning part unchanged, so the output
                    // gives the same (s, t) as the input did.
                    let (s, t) = pass.st(name, *mask, &x, dims);
                    coupling::inverse(*mask, dims, &x, &s, &t)
                }
                Layer::FlowNorm { name, .. } => {
                    let stats = self.running(name);
                    let log_gamma = self.param(&format!("{name}.log_gamma"));
                    let beta = self.param(&format!("{name}.beta"));
                    batch_norm::flow_inverse(&x, dims, log_gamma, beta, &stats)
                }
                Layer::Squeeze { .. } => squeeze::unsqueeze(&x, dims),
                Layer::FactorOut { latent, .. } => {
                    split::concat(&x, &latents[*latent], dims, c / 2)
                }
            };
        }
        x
    }

    /// The training loss: the batch mean of nll with batch statistics everywhere, plus
    /// L2 * sum(p^2) over the parameters whose slot has `l2`.
    pub fn loss(&self, pixels: &[f64], noise: &[f64], n: usize) -> f64 {
        let nll = self.forward(pixels, noise, n, Statistics::Batch).nll;
        let params = &self.layout.params;
        let squares: f64 = params
            .slots
            .iter()
            .filter(|slot| slot.l2)
            .flat_map(|slot| params.values(slot, self.params))
            .map(|p| p * p)
            .sum();
        nll.iter().sum::<f64>() / n as f64 + L2 * squares
    }

    /// The running statistics after one training-mode forward of this batch: every batch
    /// norm's running = 0.9 running + 0.1 batch (biased variance); padding unchanged.
    pub fn updated_buffers(&self, pixels: &[f64], noise: &[f64], n: usize) -> Vec<f64> {
        let (_, used) = self.density(pixels, noise, n, Statistics::Batch);
        let mut buffers = self.buffers.to_vec();
        for (name, stats) in &used {
            for (suffix, batch) in [("running_mean", &stats.mean), ("running_var", &stats.var)] {
                let slot = find(&self.layout.buffers, &format!("{name}.{suffix}"));
                let range = slot.offset..slot.offset + slot.len();
                let updated = batch_norm::update_running(&buffers[range.clone()], batch);
                buffers[range].copy_from_slice(&updated);
            }
        }
        buffers
    }

    /// Dequantize, logit, flow and the per-sample densities; also the statistics every
    /// batch norm used, by name.
    fn density(
        &self,
        pixels: &[f64],
        noise: &[f64],
        n: usize,
        statistics: Statistics,
    ) -> (Forward, Vec<(String, Stats)>) {
        let d = self.config.dim() as f64;
        assert_eq!(
            pixels.len(),
            n * self.config.dim(),
            "pixels are [N, C, H, W]"
        );
        assert_eq!(noise.len(), pixels.len(), "one noise value per pixel");
        let x = logit::dequantize(pixels, noise);
        let (y, logdet_pre) = logit::forward(&x, n);
        let mut pass = Pass::new(self, statistics);
        let (latents, logdet_flow) = pass.flow(&y, n);
        let mut logp_z = vec![0.0; n];
        for z in &latents {
            add_to(&mut logp_z, &normal::log_density(z, n));
        }
        let nll: Vec<f64> = (0..n)
            .map(|i| -(logp_z[i] + logdet_flow[i] + logdet_pre[i]) + d * 256f64.ln())
            .collect();
        let bits_per_dim = nll.iter().map(|v| v / (d * LN_2)).collect();
        let forward = Forward {
            latents,
            logp_z,
            logdet_flow,
            logdet_pre,
            nll,
            bits_per_dim,
        };
        (forward, pass.used)
    }

    fn param(&self, name: &str) -> &'a [f64] {
        let slot = find(&self.layout.params, name);
        self.layout.params.values(slot, self.params)
    }

    /// The running statistics of batch norm `prefix`.
    fn running(&self, prefix: &str) -> Stats {
        let buffer = |suffix: &str| {
            let slot = find(&self.layout.buffers, &format!("{prefix}.{suffix}"));
            self.layout.buffers.values(slot, self.buffers).to_vec()
        };
        Stats {
            mean: buffer("running_mean"),
            var: buffer("running_var"),
        }
    }
}

/// One pass through the flow in one mode, recording the statistics every batch norm
/// used (by its name prefix) so that training can update the running averages.
struct Pass<'f, 'a> {
    flow: &'f CpuFlow<'a>,
    statistics: Statistics,
    used: Vec<(String, Stats)>,
}

impl<'f, 'a> Pass<'f, 'a> {
    fn new(flow: &'f CpuFlow<'a>, statistics: Statistics) -> Self {
        Pass {
            flow,
            statistics,
            used: Vec::new(),
        }
    }

    /// y to (latents, per-sample log|det|).
    fn flow(&mut self, y: &[f64], n: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut x = y.to_vec();
        let mut latents = Vec::new();
        let mut logdet = vec![0.0; n];
        for layer in layers(self.flow.config) {
            let [c, h, w] = layer.input();
            let dims = [n, c, h, w];
            x = match &layer {
                Layer::Coupling { name, mask, .. } => {
                    let (s, t) = self.st(name, *mask, &x, dims);
                    let (out, ld) = coupling::forward(*mask, dims, &x, &s, &t);
                    add_to(&mut logdet, &ld);
                    out
                }
                Layer::FlowNorm { name, .. } => {
                    let (out, ld) = self.flow_norm(name, &x, dims);
                    logdet.iter_mut().for_each(|l| *l += ld);
                    out
                }
                Layer::Squeeze { .. } => squeeze::squeeze(&x, dims),
                Layer::FactorOut { latent, .. } => {
                    debug_assert_eq!(latents.len(), *latent, "latents leave in order");
                    let (rest, z) = split::split(&x, dims, c / 2);
                    latents.push(z);
                    rest
                }
            };
        }
        latents.push(x);
        (latents, logdet)
    }

    /// (s, t) of coupling `name` for x of `dims`: s = scale * tanh(s_raw) with
    /// (s_raw, t) the channel halves of the network's output on the conditioning input.
    fn st(&mut self, name: &str, mask: Mask, x: &[f64], dims: [usize; 4]) -> (Vec<f64>, Vec<f64>) {
        let [n, c, h, w] = dims;
        let cond_dims = mask.st_shape((n, c, h, w));
        let cond = coupling::masked_input(mask, dims, x);
        let out = self.net(&format!("{name}.net"), &cond, cond_dims);
        let ct = cond_dims[1];
        let (s_raw, t) = split::split(&out, [n, 2 * ct, h, w], ct);
        let scale = self.flow.param(&format!("{name}.scale"));
        (activation::scale_tanh(&s_raw, scale, h * w), t)
    }

    /// The s,t ResNet `prefix` on `cond` of `dims`: [N, 2 Ct, H, W].
    fn net(&mut self, prefix: &str, cond: &[f64], [n, _, h, w]: [usize; 4]) -> Vec<f64> {
        let features = [n, self.flow.config.features, h, w];
        let mut hidden = self.conv(&format!("{prefix}.conv_in"), cond, features);
        for b in 0..self.flow.config.blocks {
            let block = format!("{prefix}.block{b}");
            let a = activation::relu(&self.norm(&format!("{block}.bn1"), &hidden, features));
            let a = self.conv(&format!("{block}.conv1"), &a, features);
            let a = activation::relu(&self.norm(&format!("{block}.bn2"), &a, features));
            let a = self.conv(&format!("{block}.conv2"), &a, features);
            hidden = activation::add(&hidden, &a);
        }
        let a = activation::relu(&self.norm(&format!("{prefix}.bn_out"), &hidden, features));
        self.conv(&format!("{prefix}.conv_out"), &a, features)
    }

    /// Weight-normalised 3x3 conv `prefix` (pad 1, with bias); only N, H, W of `dims`
    /// are used, the channels come from the layout.
    fn conv(&self, prefix: &str, x: &[f64], [n, _, h, w]: [usize; 4]) -> Vec<f64> {
        let v_name = format!("{prefix}.v");
        let [cout, cin, k] = {
            let shape = &find(&self.flow.layout.params, &v_name).shape;
            [shape[0], shape[1], shape[2]]
        };
        let weight = weight_norm::forward(
            self.flow.param(&v_name),
            self.flow.param(&format!("{prefix}.g")),
        );
        let bias = self.flow.param(&format!("{prefix}.bias"));
        let shape = ConvShape {
            n,
            cin,
            cout,
            h,
            w,
            k,
        };
        conv2d::forward(x, &weight, Some(bias), &shape)
    }

    /// Plain batch norm `prefix`.
    fn norm(&mut self, prefix: &str, x: &[f64], dims: [usize; 4]) -> Vec<f64> {
        let fixed = self.fixed(prefix);
        let weight = self.flow.param(&format!("{prefix}.weight"));
        let bias = self.flow.param(&format!("{prefix}.bias"));
        let (y, stats) = batch_norm::forward(x, dims, weight, bias, fixed.as_ref());
        self.used.push((prefix.to_owned(), stats));
        y
    }

    /// Flow batch norm `name`: (y, log|det| of every sample).
    fn flow_norm(&mut self, name: &str, x: &[f64], dims: [usize; 4]) -> (Vec<f64>, f64) {
        let fixed = self.fixed(name);
        let log_gamma = self.flow.param(&format!("{name}.log_gamma"));
        let beta = self.flow.param(&format!("{name}.beta"));
        let (y, logdet, stats) = batch_norm::flow_forward(x, dims, log_gamma, beta, fixed.as_ref());
        self.used.push((name.to_owned(), stats));
        (y, logdet)
    }

    /// The statistics batch norm `prefix` normalises with: `None` means the batch's own.
    fn fixed(&self, prefix: &str) -> Option<Stats> {
        match self.statistics {
            Statistics::Batch => None,
            Statistics::Running => Some(self.flow.running(prefix)),
        }
    }
}

fn find<'l>(arena: &'l Arena, name: &str) -> &'l Slot {
    arena
        .get(name)
        .unwrap_or_else(|| panic!("the layout has no tensor '{name}'"))
}

fn add_to(acc: &mut [f64], v: &[f64]) {
    acc.iter_mut().zip(v).for_each(|(a, b)| *a += b);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{assert_close, widen};
    use crate::philox as rng;

    const N: usize = 3;

    struct Model {
        config: ModelConfig,
        layout: Layout,
        params: Vec<f64>,
        buffers: Vec<f64>,
    }

    impl Model {
        /// The tiny preset at its initial parameters and running statistics.
        fn initial() -> Model {
            let config = ModelConfig::preset("tiny").unwrap();
            let layout = Layout::new(&config);
            let params = widen(&layout.init_params(1));
            let buffers = widen(&layout.init_buffers());
            Model {
                config,
                layout,
                params,
                buffers,
            }
        }

        /// The tiny preset with every parameter moved by N(0, 0.3^2) from its start
        /// (conv_out's g leaves 0, so no coupling is the identity), running means
        /// N(0, 0.3^2) and running variances uniform in [0.5, 1.5).
        fn random() -> Model {
            let mut m = Model::initial();
            for (index, slot) in m.layout.params.slots.iter().enumerate() {
                let noise = rng::normal(2, 0, index as u32, slot.len(), 0.3);
                add_to(&mut m.params[slot.offset..slot.offset + slot.len()], &noise);
            }
            for (index, slot) in m.layout.buffers.slots.iter().enumerate() {
                let u = rng::uniform(3, 0, index as u32, slot.len());
                let values: Vec<f64> = if slot.name.ends_with("running_var") {
                    u.iter().map(|u| 0.5 + u).collect()
                } else {
                    u.iter().map(|u| 0.6 * u - 0.3).collect()
                };
                m.buffers[slot.offset..slot.offset + slot.len()].copy_from_slice(&values);
            }
            m
        }

        fn flow(&self) -> CpuFlow<'_> {
            CpuFlow {
                config: &self.config,
                layout: &self.layout,
                params: &self.params,
                buffers: &self.buffers,
            }
        }

        fn set_param(&mut self, name: &str, index: usize, value: f64) {
            self.params[self.layout.params.get(name).unwrap().offset + index] = value;
        }
    }

    /// (pixels in 0..=255, noise in [0, 1)) for n tiny images.
    fn batch(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let pixels = rng::words(seed, 0, 0, n * 64)
            .iter()
            .map(|w| (w % 256) as f64)
            .collect();
        (pixels, rng::uniform(seed, 0, 1, n * 64))
    }

    #[test]
    fn inverse_undoes_forward_in_eval_mode() {
        let m = Model::random();
        let flow = m.flow();
        let y = rng::normal(4, 0, 0, N * 64, 1.5);
        let (latents, _) = flow.forward_y(&y, N, Statistics::Running);
        assert_close(
            "inverse(forward(y))",
            &flow.inverse_y(&latents, N),
            &y,
            1e-10,
            0.0,
        );

        // The couplings must act for this to mean anything: with every conv_out's g back
        // at 0 (s = t = 0) the latents move.
        let mut identity = Model::random();
        for slot in m
            .layout
            .params
            .slots
            .iter()
            .filter(|s| s.name.ends_with("conv_out.g"))
        {
            identity.params[slot.offset..slot.offset + slot.len()].fill(0.0);
        }
        let (plain, _) = identity.flow().forward_y(&y, N, Statistics::Running);
        let moved = plain
            .concat()
            .into_iter()
            .zip(latents.concat())
            .map(|(a, b)| (a - b).abs());
        let moved = moved.fold(0.0, f64::max);
        eprintln!("couplings move the latents by up to {moved}");
        assert!(moved > 0.3, "the couplings barely act");
    }

    #[test]
    fn logdet_matches_the_jacobian_by_central_differences() {
        let m = Model::random();
        let flow = m.flow();
        let d = m.config.dim();
        let y = rng::normal(5, 0, 0, d, 1.5);
        let z = |y: &[f64]| flow.forward_y(y, 1, Statistics::Running).0.concat();
        let eps = 1e-6;
        // Column j of J is dz/dy_j; the determinant of the transpose is the same.
        let mut jt = Vec::with_capacity(d * d);
        for j in 0..d {
            let (mut plus, mut minus) = (y.clone(), y.clone());
            plus[j] += eps;
            minus[j] -= eps;
            jt.extend(
                z(&plus)
                    .iter()
                    .zip(z(&minus))
                    .map(|(p, m)| (p - m) / (2.0 * eps)),
            );
        }
        let brute = crate::check::log_abs_det(d, jt);
        let logdet = flow.forward_y(&y, 1, Statistics::Running).1[0];
        assert!(
            logdet.abs() > 1.0,
            "random parameters give a non-trivial log-det: {logdet}"
        );
        eprintln!(
            "log-det {logdet}, brute force {brute}, diff {:.2e}",
            brute - logdet
        );
        assert!(
            (brute - logdet).abs() < 1e-6,
            "brute force {brute} vs logdet {logdet}"
        );
    }

    #[test]
    fn initial_flow_only_rearranges_and_normalises() {
        let m = Model::initial();
        let flow = m.flow();
        let (pixels, _) = batch(N, 6);
        let noise = vec![0.5; pixels.len()];
        let f = flow.forward(&pixels, &noise, N, Statistics::Running);

        // By hand: logit with alpha = 0.05; every coupling is the identity and every flow
        // norm divides by sqrt(1 + eps). Squeezing 1x8x8 gives channel 2i + j from rows
        // 2h + i, columns 2w + j; z_0 is channels 2, 3 (i = 1, j = c) after 6 norms,
        // z_1 channels 0, 1 (i = 0, j = c) after 6 + 4.
        let alpha = 0.05;
        let q = |p: f64| alpha + (1.0 - 2.0 * alpha) * (p + 0.5) / 256.0;
        let y: Vec<f64> = pixels.iter().map(|&p| (q(p) / (1.0 - q(p))).ln()).collect();
        let eps = batch_norm::EPS;
        let latent = |i: usize, norms: i32| -> Vec<f64> {
            let mut z = Vec::new();
            for s in 0..N {
                for c in 0..2 {
                    for h in 0..4 {
                        for w in 0..4 {
                            let v = y[s * 64 + (2 * h + i) * 8 + 2 * w + c];
                            z.push(v * (1.0 + eps).powf(-0.5 * norms as f64));
                        }
                    }
                }
            }
            z
        };
        // The twin's alpha is 0.05 rounded to f32 (as the GPU's): y differs by ~5e-9 relative.
        assert_close("z_0", &f.latents[0], &latent(1, 6), 1e-8, 1e-8);
        assert_close("z_1", &f.latents[1], &latent(0, 10), 1e-8, 1e-8);

        // Six norms over 64 values, then four over 32, each -0.5 ln(1 + eps) per value.
        let logdet = -0.5 * (1.0 + eps).ln() * (6.0 * 64.0 + 4.0 * 32.0);
        assert_close("logdet_flow", &f.logdet_flow, &[logdet; N], 1e-12, 0.0);

        let d = 64.0;
        let want: Vec<f64> = (0..N)
            .map(|s| {
                let logp_z: f64 = [latent(1, 6), latent(0, 10)]
                    .iter()
                    .flat_map(|z| &z[s * 32..(s + 1) * 32])
                    .map(|z| -0.5 * z * z - 0.5 * (2.0 * std::f64::consts::PI).ln())
                    .sum();
                let logdet_pre: f64 = pixels[s * 64..(s + 1) * 64]
                    .iter()
                    .map(|&p| (1.0 - 2.0 * alpha).ln() - q(p).ln() - (1.0 - q(p)).ln())
                    .sum();
                (-(logp_z + logdet + logdet_pre) + d * 256f64.ln()) / (d * LN_2)
            })
            .collect();
        assert_close("bits/dim", &f.bits_per_dim, &want, 0.0, 1e-8);
    }

    #[test]
    fn loss_uses_batch_statistics_and_the_l2_term() {
        let mut m = Model::random();
        let (pixels, noise) = batch(4, 7);
        let loss = m.flow().loss(&pixels, &noise, 4);
        assert!(loss.is_finite(), "{loss}");

        // By hand: train-mode nll mean plus 5e-5 * (every g and every coupling scale)^2.
        let train = m.flow().forward(&pixels, &noise, 4, Statistics::Batch);
        let squares: f64 = m
            .layout
            .params
            .slots
            .iter()
            .filter(|s| s.name.ends_with(".g") || s.name.ends_with(".scale"))
            .flat_map(|s| m.layout.params.values(s, &m.params))
            .map(|p| p * p)
            .sum();
        let want = train.nll.iter().sum::<f64>() / 4.0 + 5e-5 * squares;
        assert!((loss - want).abs() < 1e-9 * want.abs(), "{loss} vs {want}");
        let eval = m.flow().forward(&pixels, &noise, 4, Statistics::Running);
        assert_ne!(eval.nll, train.nll, "the modes use different statistics");

        let name = "scale0.checker0.net.conv_in.v";
        let v0 = m
            .layout
            .params
            .values(m.layout.params.get(name).unwrap(), &m.params)[0];
        m.set_param(name, 0, v0 + 1e-3);
        let moved = m.flow().loss(&pixels, &noise, 4);
        assert!(moved.is_finite() && moved != loss, "{moved} vs {loss}");
    }

    #[test]
    fn updated_buffers_blend_in_the_batch_statistics() {
        let m = Model::initial();
        let flow = m.flow();
        let (pixels, noise) = batch(4, 8);
        let updated = flow.updated_buffers(&pixels, &noise, 4);
        let buffers = &m.layout.buffers;
        let mut in_slots = vec![false; m.buffers.len()];
        for slot in &buffers.slots {
            in_slots[slot.offset..slot.offset + slot.len()].fill(true);
            let (old, new) = (
                buffers.values(slot, &m.buffers),
                buffers.values(slot, &updated),
            );
            assert!(
                old.iter().zip(new).all(|(a, b)| a != b),
                "{} was not updated",
                slot.name
            );
        }
        let padding = |b: &[f64]| -> Vec<f64> {
            b.iter()
                .zip(&in_slots)
                .filter(|(_, s)| !**s)
                .map(|(v, _)| *v)
                .collect()
        };
        assert_eq!(padding(&updated), padding(&m.buffers));

        // At the start checker0 is the identity, so its flow norm sees y = logit(x):
        // running mean 0.9 * 0 + 0.1 mean(y), running var 0.9 * 1 + 0.1 biased var(y).
        let (y, _) = logit::forward(&logit::dequantize(&pixels, &noise), 4);
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64;
        let value = |name: &str| buffers.values(buffers.get(name).unwrap(), &updated)[0];
        let prefix = "scale0.checker0.bn";
        assert!((value(&format!("{prefix}.running_mean")) - 0.1 * mean).abs() < 1e-12);
        assert!((value(&format!("{prefix}.running_var")) - (0.9 + 0.1 * var)).abs() < 1e-12);
    }

    #[test]
    fn eval_with_the_batch_statistics_as_running_ones_matches_train() {
        let m = Model::random();
        let (pixels, noise) = batch(N, 9);
        let (train, used) = m.flow().density(&pixels, &noise, N, Statistics::Batch);
        // Every norm seen once: (3 + 3 + 4 couplings) x (flow norm + 3 in the net).
        assert_eq!(used.len(), 10 * 4);
        let mut buffers = m.buffers.clone();
        for (name, stats) in &used {
            for (suffix, values) in [("running_mean", &stats.mean), ("running_var", &stats.var)] {
                let slot = m.layout.buffers.get(&format!("{name}.{suffix}")).unwrap();
                buffers[slot.offset..slot.offset + slot.len()].copy_from_slice(values);
            }
        }
        let flow = CpuFlow {
            buffers: &buffers,
            ..m.flow()
        };
        let eval = flow.forward(&pixels, &noise, N, Statistics::Running);
        assert_close(
            "latents",
            &eval.latents.concat(),
            &train.latents.concat(),
            1e-12,
            1e-12,
        );
        assert_close("nll", &eval.nll, &train.nll, 0.0, 1e-12);
    }
}
