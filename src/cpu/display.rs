//! CPU twin of ops/display.rs: the grid texture's RGBA bytes.

use crate::ops::display::Layout;

/// `images` [count, C, H, W] in [0, 1] drawn into tiles `first ..` of `texture` (RGBA
/// bytes, row-major, `layout.size()`): values clamped, times 255, rounded to nearest.
pub fn tiles(
    texture: &mut [u8],
    images: &[f64],
    [count, c, h, w]: [usize; 4],
    first: usize,
    layout: &Layout,
) {
    let [width, _] = layout.size();
    let byte = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    for n in 0..count {
        let tile = first + n;
        let x0 = (tile % layout.columns) * (w + layout.gap) + layout.gap;
        let y0 = (tile / layout.columns) * (h + layout.gap) + layout.gap;
        for y in 0..h {
            for x in 0..w {
                let value = |ch: usize| images[((n * c + ch) * h + y) * w + x];
                let rgb = if c == 1 {
                    [value(0); 3]
                } else {
                    [value(0), value(1), value(2)]
                };
                let at = ((y0 + y) * width as usize + x0 + x) * 4;
                texture[at..at + 3].copy_from_slice(&rgb.map(byte));
                texture[at + 3] = 255;
            }
        }
    }
}

/// Every texel = `background`.
pub fn clear(texture: &mut [u8], background: [f64; 4]) {
    let rgba = background.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8);
    texture
        .chunks_exact_mut(4)
        .for_each(|t| t.copy_from_slice(&rgba));
}
