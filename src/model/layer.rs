//! One flow layer on the GPU (docs/MODEL.md, "Layers"): its forward (adding its
//! log-determinant), its inverse, and its backward, each built as ops between tensors
//! the plan chooses.

use std::sync::Arc;

use super::architecture::Layer;
use super::net::{Net, NetShape, Workspace};
use super::state::ModelState;
use crate::error::Result;
use crate::ops::batch_norm::{self, FlowAffine, NormGrads, Statistics, Stats};
use crate::ops::coupling::{self, Mask};
use crate::ops::{GradMode, Op, split, squeeze};
use crate::runtime::{Gpu, Tensor};

pub struct FlowNorm {
    log_gamma: Tensor,
    beta: Tensor,
    dlog_gamma: Tensor,
    dbeta: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    /// The last training forward's batch statistics (its backward and exact inverse use them).
    batch_mean: Tensor,
    batch_var: Tensor,
}

pub enum GpuLayer {
    Coupling {
        mask: Mask,
        net: Box<Net>,
    },
    FlowNorm(Box<FlowNorm>),
    Squeeze,
    /// Splits off latent number `latent` (the plan owns the latent tensors).
    FactorOut {
        latent: usize,
    },
}

/// How the training backward gets each layer's input.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Memory {
    /// Rebuilds it from the layer's output by the exact inverse, running each coupling's
    /// network a second time: activation memory does not grow with depth (two buffers
    /// per shape, one network workspace per network shape).
    #[default]
    Recompute,
    /// Keeps every layer's input, and every coupling's network activations, from the
    /// forward pass: no network runs twice (a faster step), memory grows with depth.
    Store,
}

impl GpuLayer {
    /// `workspace` gives a coupling's network workspace for its network shape.
    pub fn new(
        state: &ModelState,
        layer: &Layer,
        workspace: &mut dyn FnMut(NetShape) -> Result<Arc<Workspace>>,
    ) -> Result<GpuLayer> {
        Ok(match layer {
            Layer::Coupling {
                name,
                mask,
                shape: [c, h, w],
            } => {
                let [_, ct, _, _] = mask.st_shape((1, *c, *h, *w));
                let ws = workspace(NetShape {
                    cin: ct,
                    ct,
                    h: *h,
                    w: *w,
                })?;
                GpuLayer::Coupling {
                    mask: *mask,
                    net: Box::new(Net::new(state, name, ws)?),
                }
            }
            Layer::FlowNorm {
                name,
                shape: [c, _, _],
            } => {
                let gpu = &state.gpu;
                GpuLayer::FlowNorm(Box::new(FlowNorm {
                    log_gamma: state.param(&format!("{name}.log_gamma"))?,
                    beta: state.param(&format!("{name}.beta"))?,
                    dlog_gamma: state.grad(&format!("{name}.log_gamma"))?,
                    dbeta: state.grad(&format!("{name}.beta"))?,
                    running_mean: state.buffer(&format!("{name}.running_mean"))?,
                    running_var: state.buffer(&format!("{name}.running_var"))?,
                    batch_mean: gpu.empty([*c])?,
                    batch_var: gpu.empty([*c])?,
                }))
            }
            Layer::Squeeze { .. } => GpuLayer::Squeeze,
            Layer::FactorOut { latent, .. } => GpuLayer::FactorOut { latent: *latent },
        })
    }

    /// x -> y, adding the layer's log-determinant into `logdet`; a training forward
    /// ([`Statistics::Batch`]) also updates the running averages. `latent` is this
    /// layer's latent tensor for a factor-out.
    pub fn forward(
        &self,
        gpu: &Gpu,
        statistics: Statistics,
        x: &Tensor,
        y: &Tensor,
        logdet: &Tensor,
        latent: Option<&Tensor>,
    ) -> Result<Vec<Op>> {
        Ok(match self {
            GpuLayer::Coupling { mask, net } => {
                let ws = net.workspace();
                let mut ops = vec![coupling::masked_input(gpu, *mask, x, &ws.cond)?];
                ops.extend(net.forward(gpu, statistics)?);
                if statistics == Statistics::Batch {
                    ops.extend(net.update_running(gpu)?);
                }
                ops.push(coupling::forward(gpu, *mask, x, &ws.s, &ws.t, y, logdet)?);
                ops
            }
            GpuLayer::FlowNorm(n) => {
                let stats = n.stats(statistics);
                let mut ops = vec![batch_norm::flow_forward(
                    gpu,
                    x,
                    n.affine(),
                    statistics,
                    stats,
                    y,
                    logdet,
                )?];
                if statistics == Statistics::Batch {
                    ops.push(batch_norm::update_running(gpu, n.batch(), n.running())?);
                }
                ops
            }
            GpuLayer::Squeeze => vec![squeeze::squeeze(gpu, x, y)?],
            GpuLayer::FactorOut { .. } => vec![split::split(
                gpu,
                x,
                y,
                latent.expect("factor-out has a latent"),
            )?],
        })
    }

    /// y -> x in evaluation mode (running averages): decoding and sampling.
    pub fn inverse(
        &self,
        gpu: &Gpu,
        y: &Tensor,
        x: &Tensor,
        latent: Option<&Tensor>,
    ) -> Result<Vec<Op>> {
        self.inverse_with(gpu, Statistics::Running, y, x, latent)
    }

    /// y -> x with the given statistics. With [`Statistics::Batch`] (the replay of a
    /// training forward) flow norms use the batch statistics that forward saved, and a
    /// coupling leaves its network's activations in the workspace, ready for its backward.
    fn inverse_with(
        &self,
        gpu: &Gpu,
        statistics: Statistics,
        y: &Tensor,
        x: &Tensor,
        latent: Option<&Tensor>,
    ) -> Result<Vec<Op>> {
        Ok(match self {
            GpuLayer::Coupling { mask, net } => {
                let ws = net.workspace();
                // The kept elements are the same in x and y, so the network sees its
                // forward input (and recomputes the same batch statistics).
                let mut ops = vec![coupling::masked_input(gpu, *mask, y, &ws.cond)?];
                ops.extend(net.forward(gpu, statistics)?);
                ops.push(coupling::inverse(gpu, *mask, y, &ws.s, &ws.t, x)?);
                ops
            }
            GpuLayer::FlowNorm(n) => {
                let stats = n.stats(statistics);
                vec![batch_norm::flow_inverse(
                    gpu,
                    y,
                    n.affine(),
                    stats,
                    x,
                    None,
                )?]
            }
            GpuLayer::Squeeze => vec![squeeze::unsqueeze(gpu, y, x)?],
            GpuLayer::FactorOut { .. } => vec![split::concat(
                gpu,
                y,
                latent.expect("factor-out has a latent"),
                x,
            )?],
        })
    }

    /// dy -> dx (written), adding parameter gradients, after the training forward.
    /// `io` holds the layer's input x and output y, and for a factor-out its latent and
    /// that latent's gradient; `dlogdet` [N] is the loss gradient wrt each sample's
    /// log-determinant. With [`Memory::Recompute`] the layer first rebuilds x from y (and
    /// its latent) by the exact inverse, which also leaves a coupling's network
    /// activations in place; with [`Memory::Store`] x and the network's activations are
    /// still there from the forward.
    pub fn backward(
        &self,
        gpu: &Gpu,
        memory: Memory,
        io: LayerIo<'_>,
        dy: &Tensor,
        dx: &Tensor,
        dlogdet: &Tensor,
    ) -> Result<Vec<Op>> {
        let LayerIo {
            x,
            y,
            latent,
            dlatent,
        } = io;
        let mut ops = match memory {
            Memory::Recompute => self.inverse_with(gpu, Statistics::Batch, y, x, latent)?,
            Memory::Store => Vec::new(),
        };
        ops.extend(self.backward_ops(gpu, x, dy, dx, dlogdet, dlatent)?);
        Ok(ops)
    }

    #[allow(clippy::too_many_arguments)]
    fn backward_ops(
        &self,
        gpu: &Gpu,
        x: &Tensor,
        dy: &Tensor,
        dx: &Tensor,
        dlogdet: &Tensor,
        dlatent: Option<&Tensor>,
    ) -> Result<Vec<Op>> {
        Ok(match self {
            GpuLayer::Coupling { mask, net } => {
                let ws = net.workspace();
                let mut ops = vec![coupling::backward(
                    gpu,
                    *mask,
                    x,
                    &ws.s,
                    dy,
                    dlogdet,
                    dx,
                    &ws.scratch.ds,
                    &ws.scratch.dt,
                    GradMode::Write,
                )?];
                ops.extend(net.backward(gpu)?);
                ops.push(coupling::masked_input_backward(
                    gpu,
                    *mask,
                    &ws.scratch.dcond,
                    dx,
                )?);
                ops
            }
            GpuLayer::FlowNorm(n) => vec![batch_norm::flow_backward(
                gpu,
                x,
                dy,
                dlogdet,
                &n.log_gamma,
                Statistics::Batch,
                n.batch(),
                NormGrads {
                    dx: (dx, GradMode::Write),
                    dscale: &n.dlog_gamma,
                    dshift: &n.dbeta,
                },
            )?],
            GpuLayer::Squeeze => vec![squeeze::unsqueeze(gpu, dy, dx)?],
            GpuLayer::FactorOut { .. } => vec![split::concat(
                gpu,
                dy,
                dlatent.expect("factor-out has a latent gradient"),
                dx,
            )?],
        })
    }
}

/// The tensors around one layer in the training backward: its input and output, and
/// for a factor-out its latent and the latent's gradient.
#[derive(Clone, Copy)]
pub struct LayerIo<'a> {
    pub x: &'a Tensor,
    pub y: &'a Tensor,
    pub latent: Option<&'a Tensor>,
    pub dlatent: Option<&'a Tensor>,
}

impl FlowNorm {
    fn affine(&self) -> FlowAffine<'_> {
        FlowAffine {
            log_gamma: &self.log_gamma,
            beta: &self.beta,
        }
    }

    fn batch(&self) -> Stats<'_> {
        Stats {
            mean: &self.batch_mean,
            var: &self.batch_var,
        }
    }

    fn running(&self) -> Stats<'_> {
        Stats {
            mean: &self.running_mean,
            var: &self.running_var,
        }
    }

    /// The statistics a pass normalises with: this batch's (saved for the backward and
    /// the replay) or the running averages.
    fn stats(&self, statistics: Statistics) -> Stats<'_> {
        match statistics {
            Statistics::Batch => self.batch(),
            Statistics::Running => self.running(),
        }
    }
}
