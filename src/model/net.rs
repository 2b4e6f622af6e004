//! The s,t network of one coupling on the GPU (docs/MODEL.md, "The s,t network"): its
//! parameter views, its activation workspace, and its forward and backward ops.

use std::sync::Arc;

use super::config::ModelConfig;
use super::state::ModelState;
use crate::error::Result;
use crate::ops::batch_norm::{self, Affine, After, NormGrads, Statistics, Stats};
use crate::ops::conv2d::{self, ConvGrads};
use crate::ops::{GradMode, Op, activation, split};
use crate::runtime::{Gpu, Tensor};

/// The forward activations of one network (what its backward reads), for a batch of N
/// at one network shape. With [`Memory::Recompute`](super::plan::Memory) every coupling
/// of a shape shares one (the backward recomputes a coupling's activations before using
/// them, so memory does not grow with the number of couplings); with `Memory::Store`
/// each coupling has its own, kept from the forward to the backward.
pub struct Workspace {
    /// The conditioning input (the coupling writes it).
    pub cond: Tensor,
    hs: Vec<Tensor>,
    r1s: Vec<Tensor>,
    c1s: Vec<Tensor>,
    r2s: Vec<Tensor>,
    r_out: Tensor,
    s_raw: Tensor,
    /// s = scale * tanh(s_raw) and t, read by the coupling.
    pub s: Tensor,
    pub t: Tensor,
    /// Buffers used within one pass only, shared by every network of this shape.
    pub scratch: Arc<NetScratch>,
}

/// What a network writes and reads back within one pass (forward temporaries and the
/// backward's gradients), shared by every network of one shape.
pub struct NetScratch {
    c2: Tensor,
    out: Tensor,
    d1: Tensor,
    d2: Tensor,
    dh: Tensor,
    dout: Tensor,
    ds_raw: Tensor,
    /// Gradients wrt s and t (the coupling's backward writes them).
    pub ds: Tensor,
    pub dt: Tensor,
    /// Gradient wrt the conditioning input (the network's backward writes it).
    pub dcond: Tensor,
}

/// A network's sizes besides the batch: conditioning channels, transformed channels,
/// height, width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NetShape {
    pub cin: usize,
    pub ct: usize,
    pub h: usize,
    pub w: usize,
}

impl NetScratch {
    pub fn new(gpu: &Gpu, n: usize, shape: NetShape, config: &ModelConfig) -> Result<NetScratch> {
        let NetShape { cin, ct, h, w } = shape;
        let feat = || gpu.empty([n, config.features, h, w]);
        Ok(NetScratch {
            c2: feat()?,
            out: gpu.empty([n, 2 * ct, h, w])?,
            d1: feat()?,
            d2: feat()?,
            dh: feat()?,
            dout: gpu.empty([n, 2 * ct, h, w])?,
            ds_raw: gpu.empty([n, ct, h, w])?,
            ds: gpu.empty([n, ct, h, w])?,
            dt: gpu.empty([n, ct, h, w])?,
            dcond: gpu.empty([n, cin, h, w])?,
        })
    }
}

impl Workspace {
    pub fn new(
        gpu: &Gpu,
        n: usize,
        shape: NetShape,
        config: &ModelConfig,
        scratch: Arc<NetScratch>,
    ) -> Result<Workspace> {
        let NetShape { cin, ct, h, w } = shape;
        let (f, blocks) = (config.features, config.blocks);
        let feat = || gpu.empty([n, f, h, w]);
        let many = |k: usize| (0..k).map(|_| feat()).collect::<Result<Vec<_>>>();
        Ok(Workspace {
            cond: gpu.empty([n, cin, h, w])?,
            hs: many(blocks + 1)?,
            r1s: many(blocks)?,
            c1s: many(blocks)?,
            r2s: many(blocks)?,
            r_out: feat()?,
            s_raw: gpu.empty([n, ct, h, w])?,
            s: gpu.empty([n, ct, h, w])?,
            t: gpu.empty([n, ct, h, w])?,
            scratch,
        })
    }
}

/// One weight-normalised conv: effective weight and its gradient, bias and its gradient.
struct Conv {
    w: Tensor,
    dw: Tensor,
    bias: Tensor,
    dbias: Tensor,
}

/// One plain batch norm: parameters, gradients, running and batch statistics.
struct Norm {
    weight: Tensor,
    bias: Tensor,
    dweight: Tensor,
    dbias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    batch_mean: Tensor,
    batch_var: Tensor,
}

struct Block {
    bn1: Norm,
    conv1: Conv,
    bn2: Norm,
    conv2: Conv,
}

/// The network of the coupling named `prefix` (its tensors are `<prefix>.net.*`).
pub struct Net {
    ws: Arc<Workspace>,
    conv_in: Conv,
    blocks: Vec<Block>,
    bn_out: Norm,
    conv_out: Conv,
    scale: Tensor,
    dscale: Tensor,
}

impl Net {
    pub fn new(state: &ModelState, prefix: &str, ws: Arc<Workspace>) -> Result<Net> {
        let gpu = &state.gpu;
        let conv = |name: &str| -> Result<Conv> {
            let p = format!("{prefix}.net.{name}");
            Ok(Conv {
                w: state.weight(&p)?,
                dw: state.dweight(&p)?,
                bias: state.param(&format!("{p}.bias"))?,
                dbias: state.grad(&format!("{p}.bias"))?,
            })
        };
        let norm = |name: &str| -> Result<Norm> {
            let p = format!("{prefix}.net.{name}");
            let weight = state.param(&format!("{p}.weight"))?;
            let c = weight.numel();
            Ok(Norm {
                bias: state.param(&format!("{p}.bias"))?,
                dweight: state.grad(&format!("{p}.weight"))?,
                dbias: state.grad(&format!("{p}.bias"))?,
                running_mean: state.buffer(&format!("{p}.running_mean"))?,
                running_var: state.buffer(&format!("{p}.running_var"))?,
                batch_mean: gpu.empty([c])?,
                batch_var: gpu.empty([c])?,
                weight,
            })
        };
        let blocks = (0..state.config.blocks)
            .map(|b| {
                Ok(Block {
                    bn1: norm(&format!("block{b}.bn1"))?,
                    conv1: conv(&format!("block{b}.conv1"))?,
                    bn2: norm(&format!("block{b}.bn2"))?,
                    conv2: conv(&format!("block{b}.conv2"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Net {
            conv_in: conv("conv_in")?,
            blocks,
            bn_out: norm("bn_out")?,
            conv_out: conv("conv_out")?,
            scale: state.param(&format!("{prefix}.scale"))?,
            dscale: state.grad(&format!("{prefix}.scale"))?,
            ws,
        })
    }

    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    /// ws.cond -> ws.s, ws.t, keeping every activation the backward needs.
    pub fn forward(&self, gpu: &Gpu, statistics: Statistics) -> Result<Vec<Op>> {
        let ws = &*self.ws;
        let tmp = &*ws.scratch;
        let mut ops = vec![conv2d::forward(
            gpu,
            &ws.cond,
            &self.conv_in.w,
            Some(&self.conv_in.bias),
            &ws.hs[0],
        )?];
        for (b, block) in self.blocks.iter().enumerate() {
            ops.push(norm_relu_forward(
                gpu, &block.bn1, statistics, &ws.hs[b], &ws.r1s[b],
            )?);
            ops.push(conv2d::forward(
                gpu,
                &ws.r1s[b],
                &block.conv1.w,
                Some(&block.conv1.bias),
                &ws.c1s[b],
            )?);
            ops.push(norm_relu_forward(
                gpu, &block.bn2, statistics, &ws.c1s[b], &ws.r2s[b],
            )?);
            ops.push(conv2d::forward(
                gpu,
                &ws.r2s[b],
                &block.conv2.w,
                Some(&block.conv2.bias),
                &tmp.c2,
            )?);
            ops.push(activation::add(gpu, &ws.hs[b], &tmp.c2, &ws.hs[b + 1])?);
        }
        let last = &ws.hs[self.blocks.len()];
        ops.push(norm_relu_forward(
            gpu,
            &self.bn_out,
            statistics,
            last,
            &ws.r_out,
        )?);
        ops.push(conv2d::forward(
            gpu,
            &ws.r_out,
            &self.conv_out.w,
            Some(&self.conv_out.bias),
            &tmp.out,
        )?);
        ops.push(split::split(gpu, &tmp.out, &ws.s_raw, &ws.t)?);
        ops.push(activation::scale_tanh(gpu, &ws.s_raw, &self.scale, &ws.s)?);
        Ok(ops)
    }

    /// Folds this batch's statistics (from a [`Statistics::Batch`] forward) into the running averages.
    pub fn update_running(&self, gpu: &Gpu) -> Result<Vec<Op>> {
        let norms = self
            .blocks
            .iter()
            .flat_map(|b| [&b.bn1, &b.bn2])
            .chain([&self.bn_out]);
        norms
            .map(|n| {
                batch_norm::update_running(
                    gpu,
                    Stats {
                        mean: &n.batch_mean,
                        var: &n.batch_var,
                    },
                    Stats {
                        mean: &n.running_mean,
                        var: &n.running_var,
                    },
                )
            })
            .collect()
    }

    /// scratch.ds, scratch.dt -> scratch.dcond, adding parameter gradients; needs the activations of a
    /// `Train` forward of the same input.
    pub fn backward(&self, gpu: &Gpu) -> Result<Vec<Op>> {
        let ws = &*self.ws;
        let tmp = &*ws.scratch;
        let mut ops = vec![
            activation::scale_tanh_backward(
                gpu,
                &ws.s_raw,
                &self.scale,
                &tmp.ds,
                &tmp.ds_raw,
                &self.dscale,
                GradMode::Write,
            )?,
            split::concat(gpu, &tmp.ds_raw, &tmp.dt, &tmp.dout)?,
            conv_backward(gpu, &self.conv_out, &ws.r_out, &tmp.dout, &tmp.d1)?,
            norm_relu_backward(
                gpu,
                &self.bn_out,
                (&ws.hs[self.blocks.len()], &ws.r_out),
                &tmp.d1,
                &tmp.dh,
                GradMode::Write,
            )?,
        ];
        for (b, block) in self.blocks.iter().enumerate().rev() {
            ops.push(conv_backward(
                gpu,
                &block.conv2,
                &ws.r2s[b],
                &tmp.dh,
                &tmp.d1,
            )?);
            ops.push(norm_relu_backward(
                gpu,
                &block.bn2,
                (&ws.c1s[b], &ws.r2s[b]),
                &tmp.d1,
                &tmp.d2,
                GradMode::Write,
            )?);
            ops.push(conv_backward(
                gpu,
                &block.conv1,
                &ws.r1s[b],
                &tmp.d2,
                &tmp.d1,
            )?);
            // The residual path already carries dh; the branch adds to it.
            ops.push(norm_relu_backward(
                gpu,
                &block.bn1,
                (&ws.hs[b], &ws.r1s[b]),
                &tmp.d1,
                &tmp.dh,
                GradMode::Accumulate,
            )?);
        }
        ops.push(conv_backward(
            gpu,
            &self.conv_in,
            &ws.cond,
            &tmp.dh,
            &tmp.dcond,
        )?);
        Ok(ops)
    }
}

/// r = relu(batch norm of x), in one kernel: every batch norm of the network feeds a ReLU.
fn norm_relu_forward(
    gpu: &Gpu,
    n: &Norm,
    statistics: Statistics,
    x: &Tensor,
    r: &Tensor,
) -> Result<Op> {
    let affine = Affine {
        weight: &n.weight,
        bias: &n.bias,
    };
    let stats = match statistics {
        Statistics::Batch => Stats {
            mean: &n.batch_mean,
            var: &n.batch_var,
        },
        Statistics::Running => Stats {
            mean: &n.running_mean,
            var: &n.running_var,
        },
    };
    batch_norm::forward(gpu, x, affine, statistics, stats, r, After::Relu)
}

/// The gradient of [`norm_relu_forward`] wrt its input x given dr; `(x, r)` are that
/// forward's input and output (r > 0 is the ReLU's mask).
fn norm_relu_backward(
    gpu: &Gpu,
    n: &Norm,
    (x, r): (&Tensor, &Tensor),
    dr: &Tensor,
    dx: &Tensor,
    dx_mode: GradMode,
) -> Result<Op> {
    batch_norm::backward(
        gpu,
        x,
        Some(r),
        dr,
        &n.weight,
        Statistics::Batch,
        Stats {
            mean: &n.batch_mean,
            var: &n.batch_var,
        },
        NormGrads {
            dx: (dx, dx_mode),
            dscale: &n.dweight,
            dshift: &n.dbias,
        },
    )
}

fn conv_backward(gpu: &Gpu, c: &Conv, x: &Tensor, dy: &Tensor, dx: &Tensor) -> Result<Op> {
    conv2d::backward(
        gpu,
        x,
        &c.w,
        dy,
        ConvGrads {
            dx: Some((dx, GradMode::Write)),
            dweight: &c.dw,
            dbias: Some(&c.dbias),
        },
    )
}
