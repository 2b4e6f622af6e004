//! A plan: every buffer and op a model needs at one batch size, built once. Running a
//! training step, an evaluation or decoding records prebuilt ops into one
//! compute pass and one submission: no buffer is created and no pipeline compiled.
//! `Plan` methods that take any number of images or latents are in `batched.rs`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::architecture::{Chw, Layer, latent_shapes, layers};
use super::densities::Densities;
use super::latent::LatentLayout;
pub use super::layer::Memory;
use super::layer::{GpuLayer, LayerIo};
use super::net::{NetScratch, NetShape, Workspace};
use super::state::ModelState;
use crate::error::{Error, Result};
use crate::ops::adam::{self, AdamConfig, OptimState};
use crate::ops::batch_norm::Statistics;
use crate::ops::{GradMode, Op, fill, logit, normal, rng, weight_norm};
use crate::runtime::profile::{self, DispatchTime};
use crate::runtime::timer::Clock;
use crate::runtime::{Gpu, Tensor, VIEW_ALIGN};

/// The Philox stream of the training noise; parameter initialisation uses streams
/// 0, 1, ... (one per parameter) under the same seed.
pub const TRAIN_NOISE_STREAM: u32 = 1 << 31;

pub struct Plan {
    gpu: Arc<Gpu>,
    pub batch: usize,
    pub dim: usize,
    /// [channels, height, width] of one image.
    pub chw: Chw,
    pub latent_layout: LatentLayout,
    /// Input pixels (0..255 as f32), written by the caller.
    pixels: Tensor,
    noise: Tensor,
    /// vals[l] is layer l's input; vals[layers] the last latent.
    vals: Vec<Tensor>,
    pub latents: Vec<Tensor>,
    /// Per-sample sums, one row of `rows.stride` values per term (see [`StatRows`]).
    stats: Tensor,
    rows: StatRows,
    /// Samples in [0, 1] written by the inverse pass.
    pub images: Tensor,
    zero_stats: Vec<Op>,
    preprocess: Vec<Op>,
    weights: Vec<Op>,
    forward_eval: Vec<Op>,
    prior: Vec<Op>,
    inverse_eval: Vec<Op>,
    /// Present in a plan built for training.
    training: Option<TrainingOps>,
    /// See [`Plan::set_dispatches_per_submission`].
    dispatches_per_submission: Option<usize>,
}

/// The ops of a training step beyond those of evaluation.
struct TrainingOps {
    zero_grads: Vec<Op>,
    noise: Vec<Op>,
    forward: Vec<Op>,
    backward: Vec<Op>,
    optimizer: Vec<Op>,
    adam_config: AdamConfig,
    /// Adam's state, read back with every step's statistics.
    optimizer_state: Tensor,
}

/// Where each per-sample term lives in the stats tensor: row 0 the preprocessing's
/// log-det, then one row per latent's log-density, then one per scale's log-det.
#[derive(Clone, Copy)]
struct StatRows {
    stride: usize,
    batch: usize,
    latents: usize,
    scales: usize,
}

impl StatRows {
    fn count(&self) -> usize {
        1 + self.latents + self.scales
    }

    fn pre(&self) -> usize {
        0
    }

    fn latent(&self, k: usize) -> usize {
        1 + k
    }

    fn scale(&self, s: usize) -> usize {
        1 + self.latents + s
    }

    fn unpack(&self, all: &[f32]) -> Densities {
        let row = |r: usize| all[r * self.stride..r * self.stride + self.batch].to_vec();
        Densities {
            logp_latent: (0..self.latents).map(|k| row(self.latent(k))).collect(),
            logdet_scale: (0..self.scales).map(|s| row(self.scale(s))).collect(),
            logdet_pre: row(self.pre()),
        }
    }
}

fn shape4(n: usize, [c, h, w]: Chw) -> [usize; 4] {
    [n, c, h, w]
}

/// The scale each layer belongs to: a factor-out ends its scale.
fn layer_scales(arch: &[Layer]) -> Vec<usize> {
    let mut scale = 0;
    arch.iter()
        .map(|l| {
            let this = scale;
            if matches!(l, Layer::FactorOut { .. }) {
                scale += 1;
            }
            this
        })
        .collect()
}

/// The tensors a plan's passes run between, shared by its evaluation and training ops.
struct Passes<'a> {
    gpu: &'a Gpu,
    layers: Vec<GpuLayer>,
    scale_of: Vec<usize>,
    vals: &'a [Tensor],
    latents: &'a [Tensor],
    stats: &'a Tensor,
    rows: StatRows,
}

impl Passes<'_> {
    fn row(&self, r: usize) -> Tensor {
        let n = self.rows.batch;
        self.stats
            .view(r * self.rows.stride, [n])
            .expect("stats rows fit")
    }

    fn latent_of<'t>(&self, l: usize, set: &'t [Tensor]) -> Option<&'t Tensor> {
        match &self.layers[l] {
            GpuLayer::FactorOut { latent } => Some(&set[*latent]),
            _ => None,
        }
    }

    /// Every layer forward, each adding its log-det into its scale's row.
    fn forward(&self, statistics: Statistics) -> Result<Vec<Op>> {
        let mut ops = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let logdet = self.row(self.rows.scale(self.scale_of[l]));
            ops.extend(layer.forward(
                self.gpu,
                statistics,
                &self.vals[l],
                &self.vals[l + 1],
                &logdet,
                self.latent_of(l, self.latents),
            )?);
        }
        Ok(ops)
    }

    /// log N(z_k) of every latent into its row.
    fn prior(&self) -> Result<Vec<Op>> {
        self.latents
            .iter()
            .enumerate()
            .map(|(k, z)| normal::log_density(self.gpu, z, &self.row(self.rows.latent(k))))
            .collect()
    }

    /// Latents to layer 0's input, in evaluation mode.
    fn inverse(&self) -> Result<Vec<Op>> {
        let mut ops = Vec::new();
        for (l, layer) in self.layers.iter().enumerate().rev() {
            ops.extend(layer.inverse(
                self.gpu,
                &self.vals[l + 1],
                &self.vals[l],
                self.latent_of(l, self.latents),
            )?);
        }
        Ok(ops)
    }
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
        if batch == 0 {
            return Err(Error::Config("a plan's batch must be at least 1".into()));
        }
        let memory = training.map_or(Memory::Recompute, |(m, _)| m);
        let gpu = state.gpu.clone();
        let g = &*gpu;
        let config = &state.config;
        let arch = layers(config);
        let n = batch;

        let latents = latent_shapes(config)
            .into_iter()
            .map(|s| g.empty(shape4(n, s)))
            .collect::<Result<Vec<_>>>()?;
        let vals = layer_inputs(g, &arch, n, memory, latents.last())?;

        // Scratch is shared per network shape; activations too, unless the backward
        // reads each coupling's own from the forward (Memory::Store).
        let mut scratches: HashMap<NetShape, Arc<NetScratch>> = HashMap::new();
        let mut workspaces: HashMap<NetShape, Arc<Workspace>> = HashMap::new();
        let mut workspace = |shape: NetShape| -> Result<Arc<Workspace>> {
            if memory == Memory::Recompute
                && let Some(ws) = workspaces.get(&shape)
            {
                return Ok(ws.clone());
            }
            let scratch = match scratches.entry(shape) {
                Entry::Occupied(e) => e.get().clone(),
                Entry::Vacant(e) => e
                    .insert(Arc::new(NetScratch::new(g, n, shape, config)?))
                    .clone(),
            };
            let ws = Arc::new(Workspace::new(g, n, shape, config, scratch)?);
            workspaces.insert(shape, ws.clone());
            Ok(ws)
        };
        let gpu_layers = arch
            .iter()
            .map(|l| GpuLayer::new(state, l, &mut workspace))
            .collect::<Result<Vec<_>>>()?;

        // Per-sample sums share one tensor so a step reads them back in one copy.
        let rows = StatRows {
            stride: n.div_ceil(VIEW_ALIGN) * VIEW_ALIGN,
            batch: n,
            latents: latents.len(),
            scales: config.scales,
        };
        let stats = g.zeros([rows.count() * rows.stride])?;
        let passes = Passes {
            gpu: g,
            layers: gpu_layers,
            scale_of: layer_scales(&arch),
            vals: &vals,
            latents: &latents,
            stats: &stats,
            rows,
        };

        let input = shape4(n, config.chw());
        let pixels = g.zeros(input)?;
        let noise = g.zeros(input)?;
        let images = g.empty(input)?;

        let zero_stats = vec![fill::fill(g, &stats, 0.0)?];
        let preprocess = vec![logit::forward(
            g,
            &pixels,
            &noise,
            &vals[0],
            &passes.row(rows.pre()),
        )?];
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
        let forward_eval = passes.forward(Statistics::Running)?;
        let prior = passes.prior()?;
        let mut inverse_eval = passes.inverse()?;
        inverse_eval.push(logit::inverse(g, &vals[0], &images)?);

        let training = match training {
            Some((memory, adam_config)) => {
                Some(training_ops(state, &passes, &noise, memory, adam_config)?)
            }
            None => None,
        };

        Ok(Plan {
            dim: config.dim(),
            chw: config.chw(),
            latent_layout: LatentLayout::new(config),
            batch,
            pixels,
            noise,
            vals,
            latents,
            stats,
            rows,
            images,
            zero_stats,
            preprocess,
            weights,
            forward_eval,
            prior,
            inverse_eval,
            training,
            dispatches_per_submission: None,
            gpu,
        })
    }

    pub fn gpu(&self) -> &Arc<Gpu> {
        &self.gpu
    }

    /// The latents z_0 .. z_{L-1} of the last forward, per tensor NCHW.
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

    /// The images of the last [`Plan::decode`], values in [0, 1].
    pub fn read_images(&self) -> Result<Vec<f32>> {
        self.gpu.read(&self.images)
    }

    /// One submission (or slices of one, see [`Plan::set_dispatches_per_submission`]):
    /// `uploads`, then the op groups in order, then `downloads` read back.
    fn record(
        &self,
        uploads: &[(&Tensor, &[f32])],
        groups: &[&[Op]],
        downloads: &[&Tensor],
    ) -> Result<Vec<Vec<f32>>> {
        let dispatches: Vec<_> = groups
            .iter()
            .flat_map(|g| g.iter())
            .flat_map(|op| op.dispatches())
            .collect();
        self.gpu.submit_dispatches(
            uploads,
            &dispatches,
            downloads,
            self.dispatches_per_submission,
        )
    }

    /// Submits each pass in slices of at most `n` dispatches (None: whole, the default);
    /// see [`Gpu::submit_dispatches`]. The app does this for training on a CPU adapter.
    pub fn set_dispatches_per_submission(&mut self, n: Option<usize>) {
        self.dispatches_per_submission = n;
    }

    fn record_densities(
        &self,
        uploads: &[(&Tensor, &[f32])],
        groups: &[&[Op]],
    ) -> Result<Densities> {
        let all = self.record(uploads, groups, &[&self.stats])?;
        Ok(self.rows.unpack(&all[0]))
    }

    fn training_ops(&self) -> Result<&TrainingOps> {
        self.training.as_ref().ok_or_else(|| {
            Error::Config("this plan was built for inference: it cannot train".into())
        })
    }

    /// Steps after this one use learning rate `lr` (the optimizer op is rebuilt: a
    /// user's action, not something to do per step). `state` is the plan's model.
    pub fn set_learning_rate(&mut self, state: &ModelState, lr: f32) -> Result<()> {
        let t = self.training.as_mut().ok_or_else(|| {
            Error::Config("this plan was built for inference: it cannot train".into())
        })?;
        adam::check_learning_rate(lr)?;
        let config = AdamConfig {
            lr,
            ..t.adam_config
        };
        t.optimizer = vec![optimizer(state, &config)?];
        t.adam_config = config;
        Ok(())
    }

    /// One training step on a batch of pixels (0..255, NCHW, exactly `batch` images):
    /// fresh dequantisation noise, forward, backward, Adam, in one submission that also
    /// uploads the batch and reads back the step's densities (the loss before the
    /// update) and the optimizer's state after it.
    pub fn train_step(&self, pixels: &[f32]) -> Result<(Densities, OptimState)> {
        let t = self.training_ops()?;
        let all = self.record(
            &[(&self.pixels, pixels)],
            &self.train_step_groups()?,
            &[&self.stats, &t.optimizer_state],
        )?;
        Ok((self.rows.unpack(&all[0]), OptimState::from_words(&all[1])?))
    }

    /// The op groups of [`Plan::train_step`], in order.
    fn train_step_groups(&self) -> Result<[&[Op]; 9]> {
        let t = self.training_ops()?;
        Ok([
            &self.zero_stats,
            &t.zero_grads,
            &t.noise,
            &self.preprocess,
            &self.weights,
            &t.forward,
            &self.prior,
            &t.backward,
            &t.optimizer,
        ])
    }

    /// A training step (it does update the model) with every dispatch timed alone
    /// (`realnvp bench --profile`).
    pub fn profile_train_step(&self, pixels: &[f32]) -> Result<(Vec<DispatchTime>, Clock)> {
        self.gpu.write(&self.pixels, pixels)?;
        self.profile_groups(&self.train_step_groups()?)
    }

    /// [`Plan::decode`] with every dispatch timed alone.
    pub fn profile_decode(&self) -> Result<(Vec<DispatchTime>, Clock)> {
        self.profile_groups(&[&self.weights, &self.inverse_eval])
    }

    fn profile_groups(&self, groups: &[&[Op]]) -> Result<(Vec<DispatchTime>, Clock)> {
        let dispatches: Vec<_> = groups
            .iter()
            .flat_map(|g| g.iter())
            .flat_map(|op| op.dispatches())
            .collect();
        profile::profile(&self.gpu, &dispatches)
    }

    /// Forward and backward only (no update), leaving the gradients in the model's
    /// gradient arena, with the given dequantisation noise u (or the plan's last noise).
    pub fn gradients(&self, pixels: &[f32], noise: Option<&[f32]>) -> Result<Densities> {
        let t = self.training_ops()?;
        let mut uploads = vec![(&self.pixels, pixels)];
        uploads.extend(noise.map(|u| (&self.noise, u)));
        self.record_densities(
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
    /// noise u (same shape as the pixels; see [`super::eval_noise`]). Leaves the
    /// latents in the latent tensors.
    pub fn evaluate(&self, pixels: &[f32], noise: &[f32]) -> Result<Densities> {
        self.record_densities(
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
    /// the flow's log-dets, without the preprocessing (its row stays zero).
    pub fn evaluate_y(&self, y: &[f32]) -> Result<Densities> {
        self.record_densities(
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
}

/// Layer inputs: two buffers per shape, alternating (a layer's output is the next
/// layer's input), or one per layer; the last layer's output is the last latent.
fn layer_inputs(
    g: &Gpu,
    arch: &[Layer],
    n: usize,
    memory: Memory,
    last: Option<&Tensor>,
) -> Result<Vec<Tensor>> {
    let mut pairs: HashMap<Chw, [Tensor; 2]> = HashMap::new();
    let mut out = Vec::new();
    for (l, layer) in arch.iter().enumerate() {
        let shape = layer.input();
        out.push(match memory {
            Memory::Store => g.empty(shape4(n, shape))?,
            Memory::Recompute => {
                let pair = match pairs.entry(shape) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        e.insert([g.empty(shape4(n, shape))?, g.empty(shape4(n, shape))?])
                    }
                };
                pair[l % 2].clone()
            }
        });
    }
    out.push(last.expect("a flow has a latent").clone());
    Ok(out)
}

/// The training step's own ops: zero the gradients, draw the noise, the forward with
/// batch statistics, the backward (per `memory`), weight norm's backward, the optimizer.
fn training_ops(
    state: &ModelState,
    passes: &Passes<'_>,
    noise: &Tensor,
    memory: Memory,
    adam_config: &AdamConfig,
) -> Result<TrainingOps> {
    let g = passes.gpu;
    let n = passes.rows.batch;
    let arch = layers(&state.config);
    let dlatents = passes
        .latents
        .iter()
        .map(|z| g.empty(z.shape().clone()))
        .collect::<Result<Vec<_>>>()?;
    let grads = layer_inputs(g, &arch, n, memory, dlatents.last())?;
    // d(loss)/d(logp_z[n]) = d(loss)/d(logdet[n]) = -1/N for the batch-mean NLL.
    let minus_mean = g.upload([n], &vec![-1.0 / n as f32; n])?;

    let mut backward = Vec::new();
    for (z, dz) in passes.latents.iter().zip(&dlatents) {
        backward.push(normal::log_density_backward(
            g,
            z,
            &minus_mean,
            dz,
            GradMode::Write,
        )?);
    }
    for (l, layer) in passes.layers.iter().enumerate().rev() {
        let io = LayerIo {
            x: &passes.vals[l],
            y: &passes.vals[l + 1],
            latent: passes.latent_of(l, passes.latents),
            dlatent: passes.latent_of(l, &dlatents),
        };
        backward.extend(layer.backward(g, memory, io, &grads[l + 1], &grads[l], &minus_mean)?);
    }
    for conv in &state.layout.convs {
        let p = &conv.prefix;
        backward.push(weight_norm::backward(
            g,
            &state.param(&format!("{p}.v"))?,
            &state.param(&format!("{p}.g"))?,
            &state.dweight(p)?,
            &state.grad(&format!("{p}.v"))?,
            &state.grad(&format!("{p}.g"))?,
        )?);
    }
    Ok(TrainingOps {
        zero_grads: vec![
            fill::fill(g, &state.grads, 0.0)?,
            fill::fill(g, &state.dweights, 0.0)?,
        ],
        noise: vec![
            rng::uniform(g, &state.rng, noise, TRAIN_NOISE_STREAM)?,
            rng::advance(g, &state.rng)?,
        ],
        forward: passes.forward(Statistics::Batch)?,
        backward,
        optimizer: vec![optimizer(state, adam_config)?],
        adam_config: *adam_config,
        optimizer_state: state.adam_state.clone(),
    })
}

/// Adam on all of `state`'s parameters.
fn optimizer(state: &ModelState, config: &AdamConfig) -> Result<Op> {
    adam::l2_clip_adam_step(
        &state.gpu,
        &state.params,
        &state.grads,
        &state.adam_m,
        &state.adam_v,
        &state.l2,
        &state.adam_state,
        config,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelConfig;

    #[test]
    fn a_scale_runs_up_to_and_including_its_factor_out() {
        let arch = layers(&ModelConfig::preset("mnist").unwrap());
        let scales = layer_scales(&arch);
        let factor_out = arch
            .iter()
            .position(|l| matches!(l, Layer::FactorOut { .. }))
            .unwrap();
        assert_eq!(factor_out, 13);
        assert!(scales[..=factor_out].iter().all(|&s| s == 0));
        assert!(scales[factor_out + 1..].iter().all(|&s| s == 1));
        let three = layers(&ModelConfig::preset("cifar10").unwrap());
        assert_eq!(layer_scales(&three).last(), Some(&2));
    }
}
