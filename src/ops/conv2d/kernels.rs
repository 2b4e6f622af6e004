//! The conv2d kernels (shaders/conv2d.wgsl) and their launchers: the variants of the
//! implicit GEMM that computes forward and grad input ([`Gemm`]), of grad weight
//! ([`WeightGrad`]), and the op builders that run a convolution with given variants
//! ([`forward_with`], [`backward_with`], [`grad_input_with`]).

use bytemuck::{Pod, Zeroable};

use super::shape::{ConvShape, conv_shape};
use super::winograd::{self, Tile};
use crate::error::{Result, shape_err};
use crate::ops::{GradMode, Op, distinct};
use crate::runtime::{Bind, Gpu, KernelFamily, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("conv2d");

pub(super) const OP: &str = "conv2d";
pub(super) const OP_BACKWARD: &str = "conv2d_backward";
/// Output tile of the tiled kernels (channels x pixels) and reduction tile width.
const TILE_O: usize = 32;
const TILE_P: usize = 64;
/// Output tile side of `Tiled32` (channels and pixels).
const MM_TILE: usize = 32;
/// The most weights [`Gemm::Direct16Uniform`] takes: a 64 KiB uniform array.
pub const UNIFORM_WEIGHTS: usize = 16384;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
struct Params {
    batch: u32,
    cin: u32,
    cout: u32,
    height: u32,
    width: u32,
    o_stride: u32,
    i_stride: u32,
    flip: u32,
    use_bias: u32,
    accumulate: u32,
    wblocks: u32,
    oblocks: u32,
    rows_per_chunk: u32,
    chunks: u32,
    w_group: u32,
    w_base: u32,
}

/// The variants of the implicit GEMM that computes forward and grad input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Gemm {
    /// 4 channels x 8 columns per invocation, registers only.
    Direct,
    /// 8 channels x 8 columns per invocation.
    Direct8,
    /// 16 channels x 8 columns per invocation.
    Direct16,
    /// As `Direct16`, reading the weights through a uniform buffer (at most
    /// [`UNIFORM_WEIGHTS`] of them).
    Direct16Uniform,
    /// 32 x 64 tiles through workgroup memory.
    Tiled,
    /// 32 x 32 tiles staged as vec4s, 4 x 4 outputs per invocation of an 8 x 8
    /// workgroup: the implicit GEMM that WebGPU runtimes use on GPUs.
    Tiled32,
    /// One pixel x 8 channels per invocation, the channel block per workgroup (uniform
    /// weight loads).
    Broadcast8,
    /// As `Broadcast8` with 16 channels.
    Broadcast16,
    /// Winograd F(2x2, 3x3) (3x3 kernels only): input and weight transforms, the 16
    /// element-wise GEMMs (winograd.wgsl's, with the weights in a uniform buffer; a 1x1
    /// `Direct16` convolution when one element's transformed weights pass
    /// [`UNIFORM_WEIGHTS`]), the output transform. 2.25x fewer multiplies; its bits
    /// differ from the direct variants' by rounding.
    Winograd,
    /// Winograd F(4x4, 3x3): as `Winograd` with 36 GEMMs on a quarter of the tiles, 4x
    /// fewer multiplies, and a few times its rounding error.
    Winograd4,
}

impl Gemm {
    pub const ALL: [Gemm; 10] = [
        Gemm::Direct,
        Gemm::Direct8,
        Gemm::Direct16,
        Gemm::Direct16Uniform,
        Gemm::Tiled,
        Gemm::Tiled32,
        Gemm::Broadcast8,
        Gemm::Broadcast16,
        Gemm::Winograd,
        Gemm::Winograd4,
    ];

    fn entry(self, k: usize) -> &'static str {
        let [k3, k1] = match self {
            Gemm::Direct => ["direct_k3", "direct_k1"],
            Gemm::Direct8 => ["direct8_k3", "direct8_k1"],
            Gemm::Direct16 => ["direct16_k3", "direct16_k1"],
            Gemm::Direct16Uniform => ["direct16_uniform_k3", "direct16_uniform_k1"],
            Gemm::Tiled => ["tiled_k3", "tiled_k1"],
            Gemm::Tiled32 => ["tiled32_k3", "tiled32_k1"],
            Gemm::Broadcast8 => ["broadcast8_k3", "broadcast8_k1"],
            Gemm::Broadcast16 => ["broadcast16_k3", "broadcast16_k1"],
            Gemm::Winograd | Gemm::Winograd4 => {
                unreachable!("Winograd runs its transforms and a direct kernel")
            }
        };
        if k == 3 { k3 } else { k1 }
    }

    fn broadcast_channels(self) -> Option<usize> {
        match self {
            Gemm::Broadcast8 => Some(8),
            Gemm::Broadcast16 => Some(16),
            _ => None,
        }
    }

    /// Registers only: no workgroup memory, each invocation a block of outputs.
    pub fn is_direct(self) -> bool {
        self.direct_block().is_some()
    }

    /// Whether this variant can run convolutions of shape `s` on `gpu` (forward and
    /// grad input alike).
    pub fn fits(self, gpu: &Gpu, s: ConvShape) -> bool {
        match self {
            Gemm::Direct16Uniform => uniform_weights_fit(gpu, s.cout * s.cin * s.k * s.k),
            Gemm::Winograd | Gemm::Winograd4 => winograd::fits(gpu, self.tile().unwrap(), s),
            _ => true,
        }
    }

    /// The output tile of the Winograd variants.
    fn tile(self) -> Option<Tile> {
        match self {
            Gemm::Winograd => Some(Tile::F2),
            Gemm::Winograd4 => Some(Tile::F4),
            _ => None,
        }
    }

    /// Winograd: its bits differ from the direct variants' (by rounding).
    pub fn is_winograd(self) -> bool {
        self.tile().is_some()
    }

    /// Output channels x columns per invocation of the direct variants.
    fn direct_block(self) -> Option<(usize, usize)> {
        match self {
            Gemm::Direct => Some((4, 8)),
            Gemm::Direct8 => Some((8, 8)),
            Gemm::Direct16 | Gemm::Direct16Uniform => Some((16, 8)),
            _ => None,
        }
    }
}

/// Whether `count` weights fit the uniform buffer of [`Gemm::Direct16Uniform`] on `gpu`.
fn uniform_weights_fit(gpu: &Gpu, count: usize) -> bool {
    count <= UNIFORM_WEIGHTS
        && gpu.device.limits().max_uniform_buffer_binding_size as usize >= 4 * UNIFORM_WEIGHTS
}

/// The variants of grad weight (partial sums over chunks of rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum WeightGrad {
    /// 4 output channels x 1 input channel x all taps per invocation.
    Direct,
    /// 16 output channels per invocation, with a sliding window along the row.
    Direct16,
    /// 32 x 64 tiles of (output channel, input channel x tap) through workgroup memory.
    Tiled,
    /// Winograd F(4x4, 3x3) (3x3 kernels only): 36 GEMMs reducing dM = A dY A^T times
    /// V over the tiles, then dW += G^T dU G. 4x fewer multiplies; its bits differ from
    /// the direct variants' by rounding.
    Winograd4,
}

impl WeightGrad {
    pub const ALL: [WeightGrad; 4] = [
        WeightGrad::Direct,
        WeightGrad::Direct16,
        WeightGrad::Tiled,
        WeightGrad::Winograd4,
    ];

    /// Whether this variant can run convolutions of shape `s` on `gpu`.
    pub fn fits(self, gpu: &Gpu, s: ConvShape) -> bool {
        self != WeightGrad::Winograd4 || winograd::fits(gpu, Tile::F4, s)
    }

    /// Winograd: its bits differ from the direct variants' (by rounding).
    pub fn is_winograd(self) -> bool {
        self == WeightGrad::Winograd4
    }

    fn entry(self, k: usize) -> &'static str {
        let [k3, k1] = match self {
            WeightGrad::Direct => ["wgrad_direct_k3", "wgrad_direct_k1"],
            WeightGrad::Direct16 => ["wgrad_direct16_k3", "wgrad_direct16_k1"],
            WeightGrad::Tiled => ["wgrad_tiled_k3", "wgrad_tiled_k1"],
            WeightGrad::Winograd4 => {
                unreachable!("Winograd runs its transforms and its own GEMM")
            }
        };
        if k == 3 { k3 } else { k1 }
    }
}

/// The kernels of one convolution: the GEMM variant of its forward and of its grad
/// input, and the variant of its grad weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ConvKernels {
    pub forward: Gemm,
    pub grad_input: Gemm,
    pub grad_weight: WeightGrad,
}

impl ConvKernels {
    /// These kernels, with a GEMM variant that cannot run shape `s` (chosen at a
    /// smaller proxy batch, or pinned from another adapter) replaced by the 16-channel
    /// direct kernel, uniform weights where they fit.
    pub(super) fn fitting(self, gpu: &Gpu, s: ConvShape) -> ConvKernels {
        let fit = |g: Gemm| {
            if g.fits(gpu, s) {
                g
            } else if Gemm::Direct16Uniform.fits(gpu, s) {
                Gemm::Direct16Uniform
            } else {
                Gemm::Direct16
            }
        };
        let grad_weight = if self.grad_weight.fits(gpu, s) {
            self.grad_weight
        } else {
            WeightGrad::Direct16
        };
        ConvKernels {
            forward: fit(self.forward),
            grad_input: fit(self.grad_input),
            grad_weight,
        }
    }

    /// Every product with the kernels of `family`.
    pub fn family(family: KernelFamily) -> Self {
        let (gemm, grad_weight) = match family {
            KernelFamily::Direct => (Gemm::Direct, WeightGrad::Direct),
            KernelFamily::Tiled => (Gemm::Tiled, WeightGrad::Tiled),
        };
        ConvKernels {
            forward: gemm,
            grad_input: gemm,
            grad_weight,
        }
    }
}

/// The implicit-GEMM dispatch: `out = conv(inp)` with weight read through strides,
/// filed under `kind` in profiles.
#[allow(clippy::too_many_arguments)]
fn gemm(
    kind: &'static str,
    gpu: &Gpu,
    variant: Gemm,
    s: ConvShape,
    params: Params,
    inp: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    out: &Tensor,
) -> Result<Vec<crate::runtime::Dispatch>> {
    if let Some(tile) = variant.tile() {
        return winograd_gemm(kind, gpu, tile, s, params, inp, weight, bias, out);
    }
    if !variant.fits(gpu, s) {
        return shape_err(
            OP,
            format!(
                "{variant:?} takes at most {UNIFORM_WEIGHTS} weights, in a uniform buffer \
                 of at least 64 KiB; weight {} has {} (the adapter allows {} bytes)",
                weight.shape(),
                weight.numel(),
                gpu.device.limits().max_uniform_buffer_binding_size
            ),
        );
    }
    let out_ch = params.cout as usize;
    let (ch, cols) = variant.direct_block().unwrap_or((1, 1));
    let (wblocks, oblocks) = (s.w.div_ceil(cols), out_ch.div_ceil(ch));
    let p = Params {
        wblocks: wblocks as u32,
        oblocks: oblocks as u32,
        ..params
    };
    let workgroups = if let Some(channels) = variant.broadcast_channels() {
        let [x, y, _] = grid(s.n * s.h * s.w, WG);
        [x, y, out_ch.div_ceil(channels) as u32]
    } else if variant.direct_block().is_some() {
        grid(oblocks * s.n * s.h * wblocks, WG)
    } else {
        // Pixel tiles in x, folded into z past the 65535 limit; channel tiles in y.
        let (pixels, channels) = match variant {
            Gemm::Tiled32 => (MM_TILE, MM_TILE),
            _ => (TILE_P, TILE_O),
        };
        let [x, z, _] = grid(s.n * s.h * s.w, pixels as u32);
        [x, out_ch.div_ceil(channels) as u32, z]
    };
    let mut binds = vec![
        Bind::read(1, inp),
        // Entry points always reference the bias; without one the weight stands in
        // (read at channels < cout, within the weight, and then discarded as
        // use_bias = 0 says).
        Bind::read(3, bias.unwrap_or(weight)),
        Bind::write(4, out),
    ];
    let mut dispatches = Vec::new();
    let staged;
    if variant == Gemm::Direct16Uniform {
        let staging;
        (staging, staged) = stage_weights(gpu, weight, p.w_base as usize)?;
        dispatches.push(staging);
        binds.push(Bind::uniform(10, &staged));
    } else {
        binds.push(Bind::read(2, weight));
    }
    dispatches.push(
        gpu.dispatch(&SHADER, variant.entry(s.k), &p, &binds, workgroups)?
            .with_kind(kind),
    );
    Ok(dispatches)
}

/// The error for a Winograd variant asked to run a shape it does not fit.
fn winograd_refused<T>(gpu: &Gpu, op: &'static str, s: ConvShape) -> Result<T> {
    shape_err(
        op,
        format!(
            "Winograd takes 3x3 kernels whose transformed input and output fit one storage \
             binding ({} bytes); x {:?} with weight {:?} does not",
            gpu.device.limits().max_storage_buffer_binding_size,
            [s.n, s.cin, s.h, s.w],
            [s.cout, s.cin, s.k, s.k]
        ),
    )
}

/// The dispatch that copies up to [`UNIFORM_WEIGHTS`] of `weight`, from `first` on, into
/// the scratch it returns, for binding as a uniform buffer.
fn stage_weights(
    gpu: &Gpu,
    weight: &Tensor,
    first: usize,
) -> Result<(crate::runtime::Dispatch, Tensor)> {
    // Written and read within one op's own dispatches: one buffer serves every conv.
    let staged = gpu.scratch("conv2d uniform weights", [UNIFORM_WEIGHTS])?;
    let count = (weight.numel() - first).min(UNIFORM_WEIGHTS);
    let p = Params {
        w_base: first as u32,
        ..Default::default()
    };
    let staging = gpu
        .dispatch(
            &SHADER,
            "weight_to_uniform",
            &p,
            &[Bind::read(2, weight), Bind::write(11, &staged)],
            grid(count, WG),
        )?
        .with_kind("conv2d weight staging");
    Ok((staging, staged))
}

/// [`gemm`] through Winograd with `tile`: the weight and input transforms, the
/// element-wise GEMMs over groups of elements whose transformed weights fit the uniform
/// buffer together (winograd.wgsl's GEMM; past that, one 1x1 `Direct16` convolution with
/// one image per element), then the output transform (with the bias, written or added
/// as `params` says).
#[allow(clippy::too_many_arguments)]
fn winograd_gemm(
    kind: &'static str,
    gpu: &Gpu,
    tile: Tile,
    s: ConvShape,
    params: Params,
    inp: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    out: &Tensor,
) -> Result<Vec<crate::runtime::Dispatch>> {
    if !winograd::fits(gpu, tile, s) {
        return winograd_refused(gpu, OP, s);
    }
    let t = winograd::Transforms::new(gpu, tile, s)?;
    let layout = winograd::WeightLayout {
        o_stride: params.o_stride,
        i_stride: params.i_stride,
        flip: params.flip == 1,
    };
    let transform = "conv2d winograd transforms";
    let mut dispatches = vec![
        t.weight(gpu, transform, weight, layout)?,
        t.input(gpu, transform, inp)?,
    ];
    let per_element = s.cout * s.cin;
    let elements = tile.elements();
    if uniform_weights_fit(gpu, per_element) {
        // Groups of elements whose transformed weights fit the uniform buffer together.
        let group = UNIFORM_WEIGHTS / per_element;
        for first in (0..elements).step_by(group) {
            let (staging, staged) = stage_weights(gpu, &t.u, first * per_element)?;
            dispatches.push(staging);
            dispatches.push(t.gemm(gpu, kind, &staged, first, group.min(elements - first))?);
        }
    } else {
        // Every element as one 1x1 `Direct16` convolution, one image per element.
        let g = t.gemm_shape(elements);
        let gemm_params = Params {
            batch: g.n as u32,
            cin: g.cin as u32,
            cout: g.cout as u32,
            height: g.h as u32,
            width: g.w as u32,
            o_stride: g.cin as u32,
            i_stride: 1,
            w_group: 1,
            ..Default::default()
        };
        dispatches.extend(gemm(
            kind,
            gpu,
            Gemm::Direct16,
            g,
            gemm_params,
            &t.v,
            &t.u,
            None,
            &t.m,
        )?);
    }
    dispatches.push(t.output(gpu, transform, bias, out, params.accumulate == 1)?);
    Ok(dispatches)
}

/// y = conv(x, weight) + bias with `kernels` (the tuner, benchmarks and tests try each).
pub fn forward_with(
    gpu: &Gpu,
    kernels: ConvKernels,
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    y: &Tensor,
) -> Result<Op> {
    let s = conv_shape(OP, x, weight, bias, y)?;
    distinct(OP, &[("y", y)], &[("x", x), ("weight", weight)])?;
    let kk = (s.k * s.k) as u32;
    let params = Params {
        batch: s.n as u32,
        cin: s.cin as u32,
        cout: s.cout as u32,
        height: s.h as u32,
        width: s.w as u32,
        o_stride: s.cin as u32 * kk,
        i_stride: kk,
        use_bias: bias.is_some() as u32,
        ..Default::default()
    };
    Ok(Op::new(gemm(
        "conv2d forward",
        gpu,
        kernels.forward,
        s,
        params,
        x,
        weight,
        bias,
        y,
    )?))
}

/// Where the backward pass puts its results. Parameter gradients are always added.
pub struct ConvGrads<'a> {
    /// Gradient wrt x, written or added per the mode; `None` when x needs none (data).
    pub dx: Option<(&'a Tensor, GradMode)>,
    pub dweight: &'a Tensor,
    pub dbias: Option<&'a Tensor>,
}

/// Gradients of [`forward_with`] given dy, with `kernels`.
pub fn backward_with(
    gpu: &Gpu,
    kernels: ConvKernels,
    x: &Tensor,
    weight: &Tensor,
    dy: &Tensor,
    grads: ConvGrads<'_>,
) -> Result<Op> {
    let s = conv_shape(OP_BACKWARD, x, weight, grads.dbias, dy)?;
    if grads.dweight.shape() != weight.shape() {
        return shape_err(
            OP_BACKWARD,
            format!(
                "dweight has shape {} but weight has shape {}",
                grads.dweight.shape(),
                weight.shape()
            ),
        );
    }
    let mut outputs = vec![("dweight", grads.dweight)];
    if let Some((dx, _)) = grads.dx {
        if dx.shape() != x.shape() {
            return shape_err(
                OP_BACKWARD,
                format!("dx has shape {} but x has shape {}", dx.shape(), x.shape()),
            );
        }
        outputs.push(("dx", dx));
    }
    if let Some(db) = grads.dbias {
        outputs.push(("dbias", db));
    }
    distinct(
        OP_BACKWARD,
        &outputs,
        &[("x", x), ("weight", weight), ("dy", dy)],
    )?;

    let base = Params {
        batch: s.n as u32,
        height: s.h as u32,
        width: s.w as u32,
        ..Default::default()
    };
    let mut dispatches = Vec::new();
    if let Some((dx, mode)) = grads.dx {
        dispatches.extend(grad_input_gemm(
            gpu,
            kernels.grad_input,
            s,
            dy,
            weight,
            dx,
            mode,
        )?);
    }
    dispatches.extend(weight_grad(
        gpu,
        kernels.grad_weight,
        s,
        base,
        x,
        dy,
        grads.dweight,
    )?);
    if let Some(db) = grads.dbias {
        let params = Params {
            cout: s.cout as u32,
            ..base
        };
        dispatches.push(
            gpu.dispatch(
                &SHADER,
                "bias_grad",
                &params,
                &[Bind::read(5, dy), Bind::write(8, db)],
                [s.cout as u32, 1, 1],
            )?
            .with_kind("conv2d grad bias"),
        );
    }
    Ok(Op::new(dispatches))
}

/// The grad input alone, `dx (=|+=) conv(dy)` with the kernel transposed over channels
/// and flipped, with GEMM variant `variant` (the kernel tuner times it by itself).
pub fn grad_input_with(
    gpu: &Gpu,
    variant: Gemm,
    x: &Tensor,
    weight: &Tensor,
    dy: &Tensor,
    (dx, mode): (&Tensor, GradMode),
) -> Result<Op> {
    let s = conv_shape(OP_BACKWARD, x, weight, None, dy)?;
    if dx.shape() != x.shape() {
        return shape_err(
            OP_BACKWARD,
            format!("dx has shape {} but x has shape {}", dx.shape(), x.shape()),
        );
    }
    distinct(
        OP_BACKWARD,
        &[("dx", dx)],
        &[("weight", weight), ("dy", dy)],
    )?;
    Ok(Op::new(grad_input_gemm(
        gpu, variant, s, dy, weight, dx, mode,
    )?))
}

fn grad_input_gemm(
    gpu: &Gpu,
    variant: Gemm,
    s: ConvShape,
    dy: &Tensor,
    weight: &Tensor,
    dx: &Tensor,
    mode: GradMode,
) -> Result<Vec<crate::runtime::Dispatch>> {
    let kk = (s.k * s.k) as u32;
    let params = Params {
        batch: s.n as u32,
        height: s.h as u32,
        width: s.w as u32,
        cin: s.cout as u32,
        cout: s.cin as u32,
        o_stride: kk,
        i_stride: s.cin as u32 * kk,
        flip: 1,
        accumulate: mode.flag(),
        ..Default::default()
    };
    let transposed = ConvShape {
        cin: s.cout,
        cout: s.cin,
        ..s
    };
    gemm(
        "conv2d grad input",
        gpu,
        variant,
        transposed,
        params,
        dy,
        weight,
        None,
        dx,
    )
}

/// dW += sum over pixels of dy x im2col(x): partial sums over chunks of rows, then a
/// reduction into dW. Chunks depend on the shape alone (see below).
fn weight_grad(
    gpu: &Gpu,
    variant: WeightGrad,
    s: ConvShape,
    base: Params,
    x: &Tensor,
    dy: &Tensor,
    dweight: &Tensor,
) -> Result<Vec<crate::runtime::Dispatch>> {
    let kind = "conv2d grad weight";
    if variant == WeightGrad::Winograd4 {
        if !variant.fits(gpu, s) {
            return winograd_refused(gpu, OP_BACKWARD, s);
        }
        return winograd::weight_grad(gpu, kind, s, x, dy, dweight);
    }
    let kk = s.k * s.k;
    let rows = s.n * s.h;
    let channels = match variant {
        WeightGrad::Direct16 => 16,
        _ => 4,
    };
    let oblocks = s.cout.div_ceil(channels);
    // Chunks depend on the shape only, never on the variant: each partial sum then
    // covers the same pixels in the same order, so every variant gives the same bits.
    // Sized to give the 4-channel direct kernel ~8192 invocations.
    let wanted = 8192usize
        .div_ceil(s.cout.div_ceil(4) * s.cin)
        .clamp(1, rows);
    let rows_per_chunk = rows.div_ceil(wanted);
    let chunks = rows.div_ceil(rows_per_chunk);
    let per_chunk = s.cout * s.cin * kk;
    // Written and reduced within this op's own dispatches: one buffer serves every conv.
    let partial = gpu.scratch("conv2d weight partial sums", [chunks, per_chunk])?;
    let params = Params {
        cin: s.cin as u32,
        cout: s.cout as u32,
        oblocks: oblocks as u32,
        rows_per_chunk: rows_per_chunk as u32,
        chunks: chunks as u32,
        o_stride: per_chunk as u32,
        ..base
    };
    let workgroups = match variant {
        WeightGrad::Direct | WeightGrad::Direct16 => grid(chunks * oblocks * s.cin, WG),
        WeightGrad::Tiled => [
            (s.cin * kk).div_ceil(TILE_P) as u32,
            s.cout.div_ceil(TILE_O) as u32,
            chunks as u32,
        ],
        WeightGrad::Winograd4 => unreachable!("returned above"),
    };
    let name = variant.entry(s.k);
    let partials = gpu
        .dispatch(
            &SHADER,
            name,
            &params,
            &[
                Bind::read(1, x),
                Bind::read(5, dy),
                Bind::write(6, &partial),
            ],
            workgroups,
        )?
        .with_kind(kind);
    let reduce = gpu
        .dispatch(
            &SHADER,
            "wgrad_reduce",
            &params,
            &[Bind::write(6, &partial), Bind::write(7, dweight)],
            grid(per_chunk, WG),
        )?
        .with_kind(kind);
    Ok(vec![partials, reduce])
}
