//! Writing images (NCHW floats in [0, 1]) as one PNG grid.

use std::path::Path;

use image::{GrayImage, RgbImage};

use crate::checkpoint::replace_file;
use crate::error::{Error, Result};

/// Columns of a near-square grid of `n` images: ceil(sqrt(n)).
pub fn grid_columns(n: usize) -> usize {
    (n as f64).sqrt().ceil() as usize
}

/// Saves `n` images of `channels x height x width` (values in [0, 1], NCHW) as a grid
/// with `columns` per row and a 1-pixel gap. Grayscale for 1 channel, RGB for 3. The
/// file is replaced atomically: a failed write leaves an existing file as it was.
pub fn save_grid(
    path: &Path,
    images: &[f32],
    n: usize,
    [c, h, w]: [usize; 3],
    columns: usize,
) -> Result<()> {
    let err = |detail: String| Error::Data {
        path: path.to_owned(),
        detail,
    };
    if images.len() != n * c * h * w || n == 0 || !(c == 1 || c == 3) {
        return Err(err(format!(
            "cannot make a grid of {n} images of {c}x{h}x{w} from {} values (1 or 3 channels)",
            images.len()
        )));
    }
    let columns = columns.clamp(1, n);
    let rows = n.div_ceil(columns);
    let (gw, gh) = ((columns * (w + 1) + 1) as u32, (rows * (h + 1) + 1) as u32);
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let value = |i: usize, ch: usize, y: usize, x: usize| images[((i * c + ch) * h + y) * w + x];
    let cell = |i: usize| ((i % columns) * (w + 1) + 1, (i / columns) * (h + 1) + 1);
    let grid: image::DynamicImage = if c == 1 {
        let mut grid = GrayImage::new(gw, gh);
        for i in 0..n {
            let (x0, y0) = cell(i);
            for y in 0..h {
                for x in 0..w {
                    grid.put_pixel(
                        (x0 + x) as u32,
                        (y0 + y) as u32,
                        image::Luma([byte(value(i, 0, y, x))]),
                    );
                }
            }
        }
        grid.into()
    } else {
        let mut grid = RgbImage::new(gw, gh);
        for i in 0..n {
            let (x0, y0) = cell(i);
            for y in 0..h {
                for x in 0..w {
                    let px = [0, 1, 2].map(|ch| byte(value(i, ch, y, x)));
                    grid.put_pixel((x0 + x) as u32, (y0 + y) as u32, image::Rgb(px));
                }
            }
        }
        grid.into()
    };
    let mut png = Vec::new();
    grid.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| err(format!("cannot encode PNG: {e}")))?;
    replace_file(path, &png).map_err(|e| err(format!("cannot write PNG: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_places_each_image_in_its_cell() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.png");
        // Three 2x2 grayscale images: all 0, all 0.5, all 1.
        let mut data = vec![0.0; 4];
        data.extend([0.5; 4]);
        data.extend([1.0; 4]);
        save_grid(&path, &data, 3, [1, 2, 2], 2).unwrap();
        let img = image::open(&path).unwrap().to_luma8();
        assert_eq!(img.dimensions(), (7, 7));
        assert_eq!(img.get_pixel(1, 1)[0], 0);
        assert_eq!(img.get_pixel(4, 1)[0], 128);
        assert_eq!(img.get_pixel(1, 4)[0], 255);
        assert!(save_grid(&path, &data, 4, [1, 2, 2], 2).is_err());
    }
}
