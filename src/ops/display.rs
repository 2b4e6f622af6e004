//! Pictures for the screen (shaders/display.wgsl): images in [0, 1] drawn as a grid of
//! tiles into an `Rgba8Unorm` storage texture that the desktop app hands to egui, so
//! samples reach the screen with no readback to the CPU.

use bytemuck::{Pod, Zeroable};

use super::{Op, nchw};
use crate::error::{Result, shape_err};
use crate::runtime::{Bind, Gpu, Tensor, WG, Wgsl, grid};
use crate::wgsl;

static SHADER: Wgsl = wgsl!("display");

/// How a grid lays out its tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Tiles per row.
    pub columns: usize,
    /// Tiles in all.
    pub tiles: usize,
    /// [height, width] of one tile (the image size).
    pub tile: [usize; 2],
    /// Pixels between tiles and around the grid.
    pub gap: usize,
}

impl Layout {
    /// [width, height] of the texture that holds the grid.
    pub fn size(&self) -> [u32; 2] {
        let rows = self.tiles.div_ceil(self.columns.max(1));
        let [h, w] = self.tile;
        [
            (self.columns * (w + self.gap) + self.gap) as u32,
            (rows * (h + self.gap) + self.gap) as u32,
        ]
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    images: u32,
    channels: u32,
    height: u32,
    width: u32,
    columns: u32,
    first: u32,
    gap: u32,
    _pad: u32,
    background: [f32; 4],
}

/// A texture for a grid of `layout`: `Rgba8Unorm`, writable by compute, sampled by the
/// renderer, copyable (for tests and screenshots).
pub fn texture(gpu: &Gpu, layout: &Layout) -> wgpu::Texture {
    let [width, height] = layout.size();
    gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some("display grid"),
        size: wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8Unorm,
        usage: wgpu::TextureUsages::STORAGE_BINDING
            | wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    })
}

/// Draws the first `count` images of `images` [N, C, H, W] (values in [0, 1], C = 1 or
/// 3) into tiles `first ..` of the grid `layout` on `texture`.
pub fn tiles(
    gpu: &Gpu,
    images: &Tensor,
    count: usize,
    first: usize,
    layout: &Layout,
    texture: &wgpu::Texture,
) -> Result<Op> {
    const OP: &str = "display_tiles";
    let (n, c, h, w) = nchw(OP, "images", images)?;
    if !(c == 1 || c == 3) || [h, w] != layout.tile {
        return shape_err(
            OP,
            format!(
                "images {} do not fit tiles of {:?} (1 or 3 channels)",
                images.shape(),
                layout.tile
            ),
        );
    }
    if count > n || first + count > layout.tiles || count == 0 {
        return shape_err(
            OP,
            format!(
                "{count} images from tile {first} do not fit {n} images and {} tiles",
                layout.tiles
            ),
        );
    }
    check_texture(OP, layout, texture)?;
    let params = Params {
        images: count as u32,
        channels: c as u32,
        height: h as u32,
        width: w as u32,
        columns: layout.columns as u32,
        first: first as u32,
        gap: layout.gap as u32,
        _pad: 0,
        background: [0.0; 4],
    };
    let view = texture.create_view(&Default::default());
    let d = gpu.dispatch(
        &SHADER,
        "display_tiles",
        &params,
        &[Bind::read(1, images), Bind::texture(2, &view)],
        grid(count * h * w, WG),
    )?;
    Ok(Op::new(vec![d]))
}

/// Fills the whole texture with `background` (RGBA in [0, 1]).
pub fn clear(
    gpu: &Gpu,
    layout: &Layout,
    texture: &wgpu::Texture,
    background: [f32; 4],
) -> Result<Op> {
    check_texture("display_clear", layout, texture)?;
    let params = Params {
        background,
        ..Params::zeroed()
    };
    let [width, height] = layout.size();
    let view = texture.create_view(&Default::default());
    let d = gpu.dispatch(
        &SHADER,
        "display_clear",
        &params,
        &[Bind::texture(2, &view)],
        [width.div_ceil(8), height.div_ceil(8), 1],
    )?;
    Ok(Op::new(vec![d]))
}

fn check_texture(op: &'static str, layout: &Layout, texture: &wgpu::Texture) -> Result<()> {
    let size = [texture.width(), texture.height()];
    if texture.format() != wgpu::TextureFormat::Rgba8Unorm || size != layout.size() {
        return shape_err(
            op,
            format!(
                "the texture is {size:?} {:?}; the grid needs {:?} Rgba8Unorm",
                texture.format(),
                layout.size()
            ),
        );
    }
    Ok(())
}
