//! One flow layer on the GPU (docs/MODEL.md, "Layers"): its forward (adding its
//! log-determinant), its inverse, and its backward, each built as ops between tensors
//! the plan chooses.

use std::sync::Arc;

use super::architecture::Layer;
use super::net::{Net, NetMode, NetShape, Workspace};
use super::state::ModelState;
use crate::error::Result;
use crate::ops::batch_norm::{self, FlowAffine, NormGrads, Stats};
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

/// Which statistics batch norms use in a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Training forward: batch statistics, saved for the backward.
    Train,
    /// Evaluation, sampling, encoding: running averages.
    Eval,
    /// Training backward: the statistics the training forward saved (flow norms), or
    /// recomputed from the same input (the networks' norms).
    Replay,
}

impl GpuLayer {
    /// `workspace` gives the shared network workspace of a network shape.
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

    /// x -> y, adding the layer's log-determinant into `logdet`; a `Train` forward also
    /// updates running statistics. `latent` is this layer's latent tensor for a factor-out.
    pub fn forward(
        &self,
        gpu: &Gpu,
        stage: Stage,
        x: &Tensor,
        y: &Tensor,
        logdet: &Tensor,
        latent: Option<&Tensor>,
    ) -> Result<Vec<Op>> {
        Ok(match self {
            GpuLayer::Coupling { mask, net } => {
                let ws = net.workspace();
                let mut ops = vec![coupling::masked_input(gpu, *mask, x, &ws.cond)?];
                ops.extend(net.forward(gpu, net_mode(stage))?);
                if stage == Stage::Train {
                    ops.extend(net.update_running(gpu)?);
                }
                ops.push(coupling::forward(gpu, *mask, x, &ws.s, &ws.t, y, logdet)?);
                ops
            }
            GpuLayer::FlowNorm(n) => {
                let mut ops = vec![batch_norm::flow_forward(
                    gpu,
                    x,
                    n.affine(),
                    n.mode(stage),
                    y,
                    logdet,
                )?];
                if stage == Stage::Train {
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

    /// y -> x. In `Replay` a coupling leaves its network's activations in the workspace,
    /// ready for [`GpuLayer::backward`] without recomputing them.
    pub fn inverse(
        &self,
        gpu: &Gpu,
        stage: Stage,
        y: &Tensor,
        x: &Tensor,
        latent: Option<&Tensor>,
    ) -> Result<Vec<Op>> {
        Ok(match self {
            GpuLayer::Coupling { mask, net } => {
                let ws = net.workspace();
                // The kept elements are the same in x and y, so the network sees its
                // forward input.
                let mut ops = vec![coupling::masked_input(gpu, *mask, y, &ws.cond)?];
                ops.extend(net.forward(gpu, net_mode(stage))?);
                ops.push(coupling::inverse(gpu, *mask, y, &ws.s, &ws.t, x)?);
                ops
            }
            GpuLayer::FlowNorm(n) => {
                let stats = if stage == Stage::Eval {
                    n.running()
                } else {
                    n.batch()
                };
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

    /// dy -> dx (written), adding parameter gradients. `x` is the layer's input;
    /// `dlogdet` [N] is the loss gradient wrt each sample's log-determinant; `dlatent` the
    /// gradient of this factor-out's latent. A coupling recomputes its network's
    /// activations first when `recompute_net` (else a `Replay` inverse just left them).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        gpu: &Gpu,
        x: &Tensor,
        dy: &Tensor,
        dx: &Tensor,
        dlogdet: &Tensor,
        dlatent: Option<&Tensor>,
        recompute_net: bool,
    ) -> Result<Vec<Op>> {
        Ok(match self {
            GpuLayer::Coupling { mask, net } => {
                let ws = net.workspace();
                let mut ops = Vec::new();
                if recompute_net {
                    ops.push(coupling::masked_input(gpu, *mask, x, &ws.cond)?);
                    ops.extend(net.forward(gpu, NetMode::Train)?);
                }
                ops.push(coupling::backward(
                    gpu,
                    *mask,
                    x,
                    &ws.s,
                    dy,
                    dlogdet,
                    dx,
                    &ws.ds,
                    &ws.dt,
                    GradMode::Write,
                )?);
                ops.extend(net.backward(gpu)?);
                ops.push(coupling::masked_input_backward(gpu, *mask, &ws.dcond, dx)?);
                ops
            }
            GpuLayer::FlowNorm(n) => vec![batch_norm::flow_backward(
                gpu,
                x,
                dy,
                dlogdet,
                &n.log_gamma,
                batch_norm::Mode::Train(n.batch()),
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

fn net_mode(stage: Stage) -> NetMode {
    match stage {
        Stage::Eval => NetMode::Eval,
        Stage::Train | Stage::Replay => NetMode::Train,
    }
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

    fn mode(&self, stage: Stage) -> batch_norm::Mode<'_> {
        match stage {
            Stage::Train => batch_norm::Mode::Train(self.batch()),
            Stage::Eval => batch_norm::Mode::Eval(self.running()),
            // A replayed forward normalises with the saved statistics.
            Stage::Replay => batch_norm::Mode::Eval(self.batch()),
        }
    }
}
