//! The transforms of Winograd F(2x2, 3x3) and F(4x4, 3x3) (shaders/winograd.wgsl): the
//! input, weight and output transforms around the 16 or 36 GEMMs that `kernels.rs` runs
//! with a direct kernel. Their results differ from the direct kernels' by rounding only
//! (docs/MODEL.md).

use bytemuck::{Pod, Zeroable};

use super::shape::ConvShape;
use crate::error::Result;
use crate::runtime::{Bind, Dispatch, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("winograd");

/// The output tile: F(2x2, 3x3) or F(4x4, 3x3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tile {
    F2,
    F4,
}

impl Tile {
    /// Outputs per tile side.
    fn side(self) -> usize {
        match self {
            Tile::F2 => 2,
            Tile::F4 => 4,
        }
    }

    /// Elements of a transformed input tile ((side + 2)^2): the number of GEMMs.
    pub fn elements(self) -> usize {
        (self.side() + 2).pow(2)
    }

    /// The entry points of the input, weight and output transforms.
    fn entries(self) -> [&'static str; 3] {
        match self {
            Tile::F2 => ["winograd_input", "winograd_weight", "winograd_output"],
            Tile::F4 => ["winograd4_input", "winograd4_weight", "winograd4_output"],
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
struct Params {
    batch: u32,
    cin: u32,
    cout: u32,
    height: u32,
    width: u32,
    tiles_w: u32,
    tiles: u32,
    o_stride: u32,
    i_stride: u32,
    flip: u32,
    use_bias: u32,
    accumulate: u32,
    first: u32,
    elements: u32,
    _pad: [u32; 2],
}

/// How the GEMM's weight `wt(o, i, tap)` is read from the weight tensor (the same
/// strides as conv2d.wgsl: grad input reads it transposed and flipped).
#[derive(Clone, Copy)]
pub(super) struct WeightLayout {
    pub o_stride: u32,
    pub i_stride: u32,
    pub flip: bool,
}

/// One Winograd convolution of shape `s` (cin summed over, cout produced): its
/// transformed input V, weight U and product M, scratch shared with every other
/// Winograd convolution of the same sizes.
pub(super) struct Transforms {
    pub tile: Tile,
    s: ConvShape,
    tiles_w: usize,
    tiles: usize,
    /// A channel's row of (image, tile) pairs in V and M: whole vec4s (the shader's
    /// `row_length`).
    row: usize,
    pub v: Tensor,
    pub u: Tensor,
    pub m: Tensor,
}

/// The length of a channel's row of (image, tile) pairs in V and M: whole vec4s (the
/// shader's `row_length`).
fn row_length(n: usize, tiles: usize) -> usize {
    (n * tiles).next_multiple_of(4)
}

/// Tiles per image of an h x w plane and per row.
fn tiles(tile: Tile, s: ConvShape) -> (usize, usize) {
    let tiles_w = s.w.div_ceil(tile.side());
    (s.h.div_ceil(tile.side()) * tiles_w, tiles_w)
}

/// Whether convolutions of shape `s` can run through Winograd with `tile` on `gpu`:
/// 3x3 kernels, and V and M within one storage binding.
pub(super) fn fits(gpu: &Gpu, tile: Tile, s: ConvShape) -> bool {
    let (tiles, _) = tiles(tile, s);
    let row = row_length(s.n, tiles);
    let largest = tile.elements() * s.cin.max(s.cout) * row * 4;
    s.k == 3 && largest as u64 <= gpu.device.limits().max_storage_buffer_binding_size
}

impl Transforms {
    pub fn new(gpu: &Gpu, tile: Tile, s: ConvShape) -> Result<Transforms> {
        let (tiles, tiles_w) = tiles(tile, s);
        let e = tile.elements();
        let row = row_length(s.n, tiles);
        Ok(Transforms {
            tile,
            s,
            tiles_w,
            tiles,
            row,
            v: gpu.scratch("winograd input", [e, s.cin, row])?,
            u: gpu.scratch("winograd weight", [e, s.cout, s.cin])?,
            m: gpu.scratch("winograd product", [e, s.cout, row])?,
        })
    }

    /// The shape of `elements` of the GEMMs as one 1x1 convolution: one image per
    /// element, a row of all the batch's tiles.
    pub fn gemm_shape(&self, elements: usize) -> ConvShape {
        ConvShape {
            n: elements,
            h: 1,
            w: self.row,
            k: 1,
            ..self.s
        }
    }

    fn params(&self) -> Params {
        Params {
            batch: self.s.n as u32,
            cin: self.s.cin as u32,
            cout: self.s.cout as u32,
            height: self.s.h as u32,
            width: self.s.w as u32,
            tiles_w: self.tiles_w as u32,
            tiles: self.tiles as u32,
            ..Default::default()
        }
    }

    /// M from V and U for elements `first..first + count`, whose U rows `staged` holds
    /// (a uniform buffer) from element `first` on.
    pub fn gemm(
        &self,
        gpu: &Gpu,
        kind: &'static str,
        staged: &Tensor,
        first: usize,
        count: usize,
    ) -> Result<Dispatch> {
        let params = Params {
            first: first as u32,
            elements: count as u32,
            ..self.params()
        };
        let blocks = self.row.div_ceil(8) * self.s.cout.div_ceil(16);
        Ok(gpu
            .dispatch(
                &SHADER,
                "winograd_gemm",
                &params,
                &[
                    Bind::read(11, &self.v),
                    Bind::uniform(12, staged),
                    Bind::write(13, &self.m),
                ],
                grid(count * blocks, WG),
            )?
            .with_kind(kind))
    }

    /// U from the weight read as `layout` says.
    pub fn weight(
        &self,
        gpu: &Gpu,
        kind: &'static str,
        weight: &Tensor,
        layout: WeightLayout,
    ) -> Result<Dispatch> {
        let params = Params {
            o_stride: layout.o_stride,
            i_stride: layout.i_stride,
            flip: layout.flip as u32,
            ..self.params()
        };
        Ok(gpu
            .dispatch(
                &SHADER,
                self.tile.entries()[1],
                &params,
                &[Bind::read(2, weight), Bind::write(6, &self.u)],
                grid(self.s.cout * self.s.cin, WG),
            )?
            .with_kind(kind))
    }

    /// V from the input.
    pub fn input(&self, gpu: &Gpu, kind: &'static str, inp: &Tensor) -> Result<Dispatch> {
        Ok(gpu
            .dispatch(
                &SHADER,
                self.tile.entries()[0],
                &self.params(),
                &[Bind::read(1, inp), Bind::write(5, &self.v)],
                grid(self.s.n * self.s.cin * self.tiles, WG),
            )?
            .with_kind(kind))
    }

    /// The output from M, plus the bias if any, written or added into `out`.
    pub fn output(
        &self,
        gpu: &Gpu,
        kind: &'static str,
        bias: Option<&Tensor>,
        out: &Tensor,
        accumulate: bool,
    ) -> Result<Dispatch> {
        let params = Params {
            use_bias: bias.is_some() as u32,
            accumulate: accumulate as u32,
            ..self.params()
        };
        Ok(gpu
            .dispatch(
                &SHADER,
                self.tile.entries()[2],
                &params,
                &[
                    Bind::read(7, &self.m),
                    // Without a bias, M stands in (never read: use_bias = 0).
                    Bind::read(3, bias.unwrap_or(&self.m)),
                    Bind::write(4, out),
                ],
                grid(self.s.n * self.s.cout * self.tiles, WG),
            )?
            .with_kind(kind))
    }
}

/// The fewest (image, tile) pairs one partial sum of the Winograd grad weight reduces.
const MIN_PAIRS: usize = 64;

/// Grad weight through F(4x4, 3x3) for the forward convolution of shape `s`, added into
/// `dweight`: V of x and dM of dy, the 36 GEMMs reducing over chunks of (image, tile)
/// pairs into partial sums, then one pass that adds the chunks, transforms back and adds
/// into dweight.
pub(super) fn weight_grad(
    gpu: &Gpu,
    kind: &'static str,
    s: ConvShape,
    x: &Tensor,
    dy: &Tensor,
    dweight: &Tensor,
) -> Result<Vec<Dispatch>> {
    let t = Transforms::new(gpu, Tile::F4, s)?;
    let elements = Tile::F4.elements();
    let pairs = s.n * t.tiles;
    // Enough invocations to fill the adapter (as the direct grad weight does), each
    // reducing over at least MIN_PAIRS pairs: shorter chunks spend more on partial sums
    // than they gain, which at the tuner's small proxy batches ranked this variant below
    // the direct one that beats it at the full batch.
    let per_chunk = elements * s.cout.div_ceil(16) * s.cin.div_ceil(8);
    let wanted = 8192usize
        .div_ceil(per_chunk)
        .clamp(1, pairs.div_ceil(MIN_PAIRS));
    let pairs_per_chunk = pairs.div_ceil(wanted);
    let chunks = pairs.div_ceil(pairs_per_chunk);
    let partial = gpu.scratch(
        "winograd grad weight partial sums",
        [chunks, elements, s.cout, s.cin],
    )?;
    let params = Params {
        o_stride: chunks as u32,
        i_stride: pairs_per_chunk as u32,
        ..t.params()
    };
    // dM has M's shape: its scratch serves.
    let dm = &t.m;
    Ok(vec![
        t.input(gpu, kind, x)?,
        gpu.dispatch(
            &SHADER,
            "winograd4_grad_output",
            &params,
            &[Bind::read(1, dy), Bind::write(8, dm)],
            grid(s.n * s.cout * t.tiles, WG),
        )?
        .with_kind(kind),
        gpu.dispatch(
            &SHADER,
            "winograd4_grad_gemm",
            &params,
            &[
                Bind::write(5, &t.v),
                Bind::write(8, dm),
                Bind::write(9, &partial),
            ],
            grid(chunks * per_chunk, WG),
        )?
        .with_kind(kind),
        gpu.dispatch(
            &SHADER,
            "winograd4_weight_grad",
            &params,
            &[Bind::write(9, &partial), Bind::write(10, dweight)],
            grid(s.cout * s.cin, WG),
        )?
        .with_kind(kind),
    ])
}
