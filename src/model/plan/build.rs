//! Building a plan: its buffers (layer inputs, latents, per-sample sums), the
//! evaluation ops every plan has, and for a training plan the [`TrainingOps`].

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use super::stat_rows::StatRows;
use super::{Memory, Plan, TrainingOps};
use crate::error::{Error, Result};
use crate::model::architecture::{Chw, Layer, latent_shapes, layers};
use crate::model::config::MAX_BATCH;
use crate::model::latent::LatentLayout;
use crate::model::layer::{GpuLayer, LayerIo};
use crate::model::net::{NetScratch, NetShape, Workspace};
use crate::model::state::ModelState;
use crate::ops::adam::{self, AdamConfig};
use crate::ops::batch_norm::Statistics;
use crate::ops::{GradMode, Op, fill, logit, normal, rng, weight_norm};
use crate::runtime::{Gpu, Tensor};

/// The Philox stream of the training noise; parameter initialisation uses streams
/// 0, 1, ... (one per parameter) under the same seed.
const TRAIN_NOISE_STREAM: u32 = 1 << 31;

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
    batch: usize,
    layers: Vec<GpuLayer>,
    scale_of: Vec<usize>,
    vals: &'a [Tensor],
    latents: &'a [Tensor],
    stats: &'a Tensor,
    rows: StatRows,
}

impl Passes<'_> {
    fn row(&self, r: usize) -> Tensor {
        self.rows.view(self.stats, r)
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
        if !(1..=MAX_BATCH).contains(&batch) {
            return Err(Error::Config(format!(
                "a batch of {batch} images: a plan's batch is from 1 to {MAX_BATCH}"
            )));
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
        let rows = StatRows::new(n, latents.len(), config.scales);
        let stats = g.zeros([rows.elements()])?;
        let passes = Passes {
            gpu: g,
            batch: n,
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
    let n = passes.batch;
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
pub(super) fn optimizer(state: &ModelState, config: &AdamConfig) -> Result<Op> {
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
