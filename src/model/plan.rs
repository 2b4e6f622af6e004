//! A plan: every buffer and op a model needs at one batch size, built once. Running a
//! training step, an evaluation, sampling or decoding records prebuilt ops into one
//! compute pass and one submission: no buffer is created and no pipeline compiled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::architecture::{Chw, latent_shapes, layers};
use super::layer::{GpuLayer, Stage};
use super::net::{NetShape, Workspace};
use super::state::ModelState;
use crate::error::{Error, Result};
use crate::ops::adam::{self, AdamConfig, OptimState};
use crate::ops::{Op, fill, logit, normal, rng, weight_norm};
use crate::runtime::{Gpu, Tensor, VIEW_ALIGN};

/// The Philox stream of the training noise; parameter initialisation uses streams
/// 0, 1, ... (one per parameter) under the same seed.
pub const TRAIN_NOISE_STREAM: u32 = 1 << 31;

/// How the training backward gets each layer's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memory {
    /// Rebuilds it from the layer's output by the exact inverse: activation memory does
    /// not grow with depth (two buffers per shape).
    Recompute,
    /// Keeps every layer's input from the forward pass.
    Store,
}

/// Per-sample results of a forward pass, in nats.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchStats {
    pub logp_z: Vec<f32>,
    pub logdet_flow: Vec<f32>,
    pub logdet_pre: Vec<f32>,
}

impl BatchStats {
    /// -log p(discrete image) in nats for sample i: -(log p(y) + log|dy/dx|) + D ln 256.
    pub fn nll(&self, i: usize, dim: usize) -> f64 {
        -(self.logp_z[i] as f64 + self.logdet_flow[i] as f64 + self.logdet_pre[i] as f64)
            + dim as f64 * 256f64.ln()
    }

    pub fn bits_per_dim(&self, i: usize, dim: usize) -> f64 {
        self.nll(i, dim) / (dim as f64 * std::f64::consts::LN_2)
    }

    /// Mean bits/dim over the first `count` samples.
    pub fn mean_bits_per_dim(&self, count: usize, dim: usize) -> f64 {
        (0..count).map(|i| self.bits_per_dim(i, dim)).sum::<f64>() / count as f64
    }
}

pub struct Plan {
    gpu: Arc<Gpu>,
    pub batch: usize,
    pub dim: usize,
    memory: Memory,
    /// Input pixels (0..255 as f32), written by the caller.
    pixels: Tensor,
    noise: Tensor,
    /// vals[l] is layer l's input; vals[layers] the last latent.
    vals: Vec<Tensor>,
    pub latents: Vec<Tensor>,
    stats: Tensor,
    stats_stride: usize,
    /// Samples in [0, 1] written by the inverse pass.
    pub images: Tensor,
    /// The generator of sampled latents.
    sample_rng: Tensor,
    /// Latent draws, built on first use for each temperature.
    draws: Mutex<HashMap<u32, Vec<Op>>>,
    zero_stats: Vec<Op>,
    preprocess: Vec<Op>,
    weights: Vec<Op>,
    forward_eval: Vec<Op>,
    prior: Vec<Op>,
    inverse_eval: Vec<Op>,
    train: TrainingOps,
}

/// The ops only a training plan has (empty in an inference plan).
#[derive(Default)]
struct TrainingOps {
    zero_grads: Vec<Op>,
    noise: Vec<Op>,
    forward: Vec<Op>,
    backward: Vec<Op>,
    optimizer: Vec<Op>,
    /// Adam's state, read back with every step's statistics.
    optimizer_state: Option<Tensor>,
}

fn shape4(n: usize, [c, h, w]: Chw) -> [usize; 4] {
    [n, c, h, w]
}

impl Plan {
    /// A plan for training (and everything else) at `batch`.
    pub fn new(
        state: &ModelState,
        batch: usize,
        memory: Memory,
        adam_config: &AdamConfig,
    ) -> Result<Plan> {
        Plan::build(state, batch, Some((memory, adam_config)))
    }

    /// A plan for evaluation, sampling and decoding only: no backward ops, no gradient
    /// buffers, no optimizer.
    pub fn inference(state: &ModelState, batch: usize) -> Result<Plan> {
        Plan::build(state, batch, None)
    }

    fn build(
        state: &ModelState,
        batch: usize,
        training: Option<(Memory, &AdamConfig)>,
    ) -> Result<Plan> {
        let memory = training.map_or(Memory::Recompute, |(m, _)| m);
        let gpu = state.gpu.clone();
        let g = &*gpu;
        let config = &state.config;
        let arch = layers(config);
        let n = batch;
        let input = shape4(n, [config.channels, config.height, config.width]);

        let latents = latent_shapes(config)
            .into_iter()
            .map(|s| g.empty(shape4(n, s)))
            .collect::<Result<Vec<_>>>()?;

        // Layer inputs: two buffers per shape, alternating, or one per layer.
        let boundaries = |last: &Tensor| -> Result<Vec<Tensor>> {
            let mut pairs: HashMap<Chw, [Tensor; 2]> = HashMap::new();
            let mut out = Vec::new();
            for (l, layer) in arch.iter().enumerate() {
                let shape = layer.input();
                out.push(match memory {
                    Memory::Store => g.empty(shape4(n, shape))?,
                    Memory::Recompute => {
                        let pair = match pairs.entry(shape) {
                            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                            std::collections::hash_map::Entry::Vacant(e) => {
                                e.insert([g.empty(shape4(n, shape))?, g.empty(shape4(n, shape))?])
                            }
                        };
                        pair[l % 2].clone()
                    }
                });
            }
            out.push(last.clone());
            Ok(out)
        };
        let vals = boundaries(latents.last().expect("a flow has a latent"))?;

        let mut workspaces: HashMap<NetShape, Arc<Workspace>> = HashMap::new();
        let mut workspace = |shape: NetShape| -> Result<Arc<Workspace>> {
            if let Some(ws) = workspaces.get(&shape) {
                return Ok(ws.clone());
            }
            let ws = Arc::new(Workspace::new(g, n, shape, config)?);
            workspaces.insert(shape, ws.clone());
            Ok(ws)
        };
        let gpu_layers = arch
            .iter()
            .map(|l| GpuLayer::new(state, l, &mut workspace))
            .collect::<Result<Vec<_>>>()?;

        // Per-sample sums share one tensor so a step reads them back in one copy.
        let stride = n.div_ceil(VIEW_ALIGN) * VIEW_ALIGN;
        let stats = g.zeros([3 * stride])?;
        let stat = |k: usize| stats.view(k * stride, [n]).expect("stats view fits");
        let (logp_z, logdet_flow, logdet_pre) = (stat(0), stat(1), stat(2));

        let pixels = g.zeros(input)?;
        let noise = g.zeros(input)?;
        let images = g.empty(input)?;
        let sample_rng = rng::RngState::new(0).upload(g)?;

        let zero_stats = vec![fill::fill(g, &stats, 0.0)?];
        let preprocess = vec![logit::forward(g, &pixels, &noise, &vals[0], &logdet_pre)?];
        let weights = state
            .layout
            .convs
            .iter()
            .map(|conv| {
                let p = &conv.prefix;
                let (v, gg) = (
                    state.param(&format!("{p}.v"))?,
                    state.param(&format!("{p}.g"))?,
                );
                weight_norm::forward(g, &v, &gg, &state.weight(p)?)
            })
            .collect::<Result<Vec<_>>>()?;

        let latent_of = |layer: &GpuLayer, set: &[Tensor]| match layer {
            GpuLayer::FactorOut { latent } => Some(set[*latent].clone()),
            _ => None,
        };
        let mut forward_eval = Vec::new();
        for (l, layer) in gpu_layers.iter().enumerate() {
            let z = latent_of(layer, &latents);
            forward_eval.extend(layer.forward(
                g,
                Stage::Eval,
                &vals[l],
                &vals[l + 1],
                &logdet_flow,
                z.as_ref(),
            )?);
        }
        let prior = latents
            .iter()
            .map(|z| normal::log_density(g, z, &logp_z))
            .collect::<Result<Vec<_>>>()?;

        let mut inverse_eval = Vec::new();
        for (l, layer) in gpu_layers.iter().enumerate().rev() {
            let z = latent_of(layer, &latents);
            inverse_eval.extend(layer.inverse(
                g,
                Stage::Eval,
                &vals[l + 1],
                &vals[l],
                z.as_ref(),
            )?);
        }
        inverse_eval.push(logit::inverse(g, &vals[0], &images)?);

        let mut train = TrainingOps::default();
        if let Some((_, adam_config)) = training {
            let dlatents = latents
                .iter()
                .map(|z| g.empty(z.shape().clone()))
                .collect::<Result<Vec<_>>>()?;
            let grads = boundaries(dlatents.last().expect("a flow has a latent"))?;
            // d(loss)/d(logp_z[n]) = d(loss)/d(logdet[n]) = -1/N for the batch-mean NLL.
            let minus_mean = g.upload([n], &vec![-1.0 / n as f32; n])?;
            train.zero_grads = vec![
                fill::fill(g, &state.grads, 0.0)?,
                fill::fill(g, &state.dweights, 0.0)?,
            ];
            train.noise = vec![
                rng::uniform(g, &state.rng, &noise, TRAIN_NOISE_STREAM)?,
                rng::advance(g, &state.rng)?,
            ];
            for (l, layer) in gpu_layers.iter().enumerate() {
                let z = latent_of(layer, &latents);
                train.forward.extend(layer.forward(
                    g,
                    Stage::Train,
                    &vals[l],
                    &vals[l + 1],
                    &logdet_flow,
                    z.as_ref(),
                )?);
            }
            for (z, dz) in latents.iter().zip(&dlatents) {
                train.backward.push(normal::log_density_backward(
                    g,
                    z,
                    &minus_mean,
                    dz,
                    crate::ops::GradMode::Write,
                )?);
            }
            for (l, layer) in gpu_layers.iter().enumerate().rev() {
                if memory == Memory::Recompute {
                    let z = latent_of(layer, &latents);
                    train.backward.extend(layer.inverse(
                        g,
                        Stage::Replay,
                        &vals[l + 1],
                        &vals[l],
                        z.as_ref(),
                    )?);
                }
                let dz = latent_of(layer, &dlatents);
                let recompute_net = memory == Memory::Store;
                train.backward.extend(layer.backward(
                    g,
                    &vals[l],
                    &grads[l + 1],
                    &grads[l],
                    &minus_mean,
                    dz.as_ref(),
                    recompute_net,
                )?);
            }
            for conv in &state.layout.convs {
                let p = &conv.prefix;
                train.backward.push(weight_norm::backward(
                    g,
                    &state.param(&format!("{p}.v"))?,
                    &state.param(&format!("{p}.g"))?,
                    &state.dweight(p)?,
                    &state.grad(&format!("{p}.v"))?,
                    &state.grad(&format!("{p}.g"))?,
                )?);
            }
            train.optimizer = vec![adam::adam_step(
                g,
                &state.params,
                &state.grads,
                &state.adam_m,
                &state.adam_v,
                &state.l2,
                &state.adam_state,
                adam_config,
            )?];
            train.optimizer_state = Some(state.adam_state.clone());
        }

        Ok(Plan {
            dim: config.dim(),
            batch,
            memory,
            pixels,
            noise,
            vals,
            latents,
            stats,
            stats_stride: stride,
            images,
            sample_rng,
            draws: Mutex::new(HashMap::new()),
            zero_stats,
            preprocess,
            weights,
            forward_eval,
            prior,
            inverse_eval,
            train,
            gpu,
        })
    }

    /// Restarts the latent generator of [`Plan::sample`].
    pub fn seed_sampling(&self, seed: u64) -> Result<()> {
        self.gpu
            .write(&self.sample_rng, &rng::RngState::new(seed).to_words())
    }

    /// The latents z_0 .. z_{L-1} of the last forward (or the last sample), per tensor NCHW.
    pub fn read_latents(&self) -> Result<Vec<Vec<f32>>> {
        self.latents.iter().map(|z| self.gpu.read(z)).collect()
    }

    /// Writes latents z_0 .. z_{L-1} (per tensor NCHW) for [`Plan::decode`].
    pub fn set_latents(&self, latents: &[Vec<f32>]) -> Result<()> {
        for (t, z) in self.latents.iter().zip(latents) {
            self.gpu.write(t, z)?;
        }
        Ok(())
    }

    /// The images of the last [`Plan::decode`] or [`Plan::sample`], values in [0, 1].
    pub fn read_images(&self) -> Result<Vec<f32>> {
        self.gpu.read(&self.images)
    }

    pub fn memory(&self) -> Memory {
        self.memory
    }

    /// One submission: `uploads`, then the op groups in order, then `downloads` read back.
    fn record(
        &self,
        uploads: &[(&Tensor, &[f32])],
        groups: &[&[Op]],
        downloads: &[&Tensor],
    ) -> Result<Vec<Vec<f32>>> {
        self.gpu.submit(
            uploads,
            |pass| {
                groups
                    .iter()
                    .flat_map(|g| g.iter())
                    .for_each(|op| op.encode(pass))
            },
            downloads,
        )
    }

    fn unpack_stats(&self, all: &[f32]) -> BatchStats {
        let part =
            |k: usize| all[k * self.stats_stride..k * self.stats_stride + self.batch].to_vec();
        BatchStats {
            logp_z: part(0),
            logdet_flow: part(1),
            logdet_pre: part(2),
        }
    }

    fn record_stats(&self, uploads: &[(&Tensor, &[f32])], groups: &[&[Op]]) -> Result<BatchStats> {
        let all = self.record(uploads, groups, &[&self.stats])?;
        Ok(self.unpack_stats(&all[0]))
    }

    fn training_ops(&self) -> Result<&TrainingOps> {
        match self.train.optimizer_state {
            Some(_) => Ok(&self.train),
            None => Err(Error::Config(
                "this plan was built for inference: it cannot train".into(),
            )),
        }
    }

    /// One training step on a batch of pixels (0..255, NCHW, exactly `batch` images):
    /// fresh dequantisation noise, forward, backward, Adam, in one submission that also
    /// uploads the batch and reads back the step's statistics (the loss before the update)
    /// and the optimizer's state after it.
    pub fn train_step(&self, pixels: &[f32]) -> Result<(BatchStats, OptimState)> {
        let t = self.training_ops()?;
        let state = t
            .optimizer_state
            .as_ref()
            .expect("training plans hold the optimizer state");
        let all = self.record(
            &[(&self.pixels, pixels)],
            &[
                &self.zero_stats,
                &t.zero_grads,
                &t.noise,
                &self.preprocess,
                &self.weights,
                &t.forward,
                &self.prior,
                &t.backward,
                &t.optimizer,
            ],
            &[&self.stats, state],
        )?;
        Ok((self.unpack_stats(&all[0]), OptimState::from_words(&all[1])?))
    }

    /// Forward and backward only (no update), leaving the gradients in the model's
    /// gradient arena, with the given dequantisation noise u (or the plan's last noise).
    pub fn gradients(&self, pixels: &[f32], noise: Option<&[f32]>) -> Result<BatchStats> {
        let t = self.training_ops()?;
        let mut uploads = vec![(&self.pixels, pixels)];
        uploads.extend(noise.map(|u| (&self.noise, u)));
        self.record_stats(
            &uploads,
            &[
                &self.zero_stats,
                &t.zero_grads,
                &self.preprocess,
                &self.weights,
                &t.forward,
                &self.prior,
                &t.backward,
            ],
        )
    }

    /// Log-likelihood terms of a batch of pixels in evaluation mode, with dequantisation
    /// noise u (same shape as the pixels; see `train::evaluate` for the standard choices).
    pub fn evaluate(&self, pixels: &[f32], noise: &[f32]) -> Result<BatchStats> {
        self.record_stats(
            &[(&self.pixels, pixels), (&self.noise, noise)],
            &[
                &self.zero_stats,
                &self.preprocess,
                &self.weights,
                &self.forward_eval,
                &self.prior,
            ],
        )
    }

    /// The flow alone (evaluation mode) on logit-space inputs y [N, C, H, W]: latents and
    /// logdet_flow, without the preprocessing (its statistics stay zero).
    pub fn evaluate_y(&self, y: &[f32]) -> Result<BatchStats> {
        self.record_stats(
            &[(&self.vals[0], y)],
            &[
                &self.zero_stats,
                &self.weights,
                &self.forward_eval,
                &self.prior,
            ],
        )
    }

    /// Latents z -> images in [0, 1] (evaluation mode), from the latent tensors as they are.
    pub fn decode(&self) -> Result<()> {
        self.record(&[], &[&self.weights, &self.inverse_eval], &[])
            .map(|_| ())
    }

    /// Draws latents N(0, T^2) from the sampling generator and decodes them into the
    /// images tensor. The draw ops are built once per temperature.
    pub fn sample(&self, temperature: f32) -> Result<()> {
        let mut draws = self.draws.lock().unwrap();
        let draw = match draws.entry(temperature.to_bits()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let g = &*self.gpu;
                let mut ops = Vec::new();
                for (k, z) in self.latents.iter().enumerate() {
                    ops.push(rng::normal(g, &self.sample_rng, z, k as u32, temperature)?);
                }
                ops.push(rng::advance(g, &self.sample_rng)?);
                e.insert(ops)
            }
        };
        self.record(&[], &[draw, &self.weights, &self.inverse_eval], &[])
            .map(|_| ())
    }
}
