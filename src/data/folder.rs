//! A folder of PNG and JPEG images, each converted to the requested channel count,
//! scaled so that it covers the requested size (for a square target: its shorter side
//! matches), and center-cropped to it.

use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{ImageBuffer, ImageReader, Pixel};

use super::Dataset;
use super::fs::{io_err, sorted_files};
use crate::Result;
use crate::error::data_err;

const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Every PNG or JPEG directly inside `dir`, in file-name order, as
/// `channels` (1: grayscale, 3: RGB) x `height` x `width`. Files with other extensions
/// are skipped; a listed file that does not decode is an error.
pub fn load(dir: &Path, channels: usize, height: usize, width: usize) -> Result<Dataset> {
    if !matches!(channels, 1 | 3) {
        return data_err(
            dir,
            format!("images can be loaded with 1 (grayscale) or 3 (RGB) channels, not {channels}"),
        );
    }
    let files: Vec<PathBuf> = sorted_files(dir)?
        .into_iter()
        .filter(|f| has_image_extension(f))
        .collect();
    if files.is_empty() {
        return data_err(
            dir,
            "no PNG or JPEG images (.png, .jpg, .jpeg) in this folder",
        );
    }
    let mut set = load_files(&files, channels, height, width)?;
    // "N image files (k resized ...)" becomes "image folder DIR: N image files (...)".
    set.source = format!("image folder {}: {}", dir.display(), set.source);
    Ok(set)
}

/// The given PNG or JPEG files, in order, each converted and fitted as [`load`] does.
pub fn load_files(
    files: &[PathBuf],
    channels: usize,
    height: usize,
    width: usize,
) -> Result<Dataset> {
    let what = files.first().map_or(Path::new("."), |f| f.as_path());
    if !matches!(channels, 1 | 3) {
        return data_err(
            what,
            format!("images can be loaded with 1 (grayscale) or 3 (RGB) channels, not {channels}"),
        );
    }
    let (Ok(h @ 1..), Ok(w @ 1..)) = (u32::try_from(height), u32::try_from(width)) else {
        return data_err(what, format!("cannot resize images to {height}x{width}"));
    };
    let mut images = Vec::with_capacity(files.len() * channels * height * width);
    let (mut resized, mut converted) = (0, 0);
    for file in files {
        // Decoding by content, so a JPEG saved as .png still loads.
        let decoded = ImageReader::open(file)
            .and_then(ImageReader::with_guessed_format)
            .map_err(io_err(file))?
            .decode();
        let decoded = match decoded {
            Ok(image) => image,
            Err(e) => return data_err(file, format!("cannot decode image: {e}")),
        };
        resized += usize::from((decoded.width(), decoded.height()) != (w, h));
        // Colour to gray or gray to RGB; an alpha channel is dropped either way.
        converted += usize::from(usize::from(decoded.color().channel_count()) != channels);
        if channels == 1 {
            push_planes(&cover_and_crop(&decoded.to_luma8(), w, h), &mut images);
        } else {
            push_planes(&cover_and_crop(&decoded.to_rgb8(), w, h), &mut images);
        }
    }
    Ok(Dataset {
        images,
        n: files.len(),
        channels,
        height,
        width,
        labels: None,
        source: format!(
            "{} image file{}{}",
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            adapted_note(resized, converted, channels, [height, width])
        ),
    })
}

/// What loading did to fit the images, for the dataset's description (empty if nothing).
fn adapted_note(resized: usize, converted: usize, channels: usize, [h, w]: [usize; 2]) -> String {
    let mut parts = Vec::new();
    if resized > 0 {
        parts.push(format!("{resized} resized to {h}x{w}"));
    }
    if converted > 0 {
        let to = if channels == 1 { "grayscale" } else { "RGB" };
        parts.push(format!("{converted} converted to {to}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn has_image_extension(file: &Path) -> bool {
    file.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

type Image<P> = ImageBuffer<P, Vec<u8>>;

/// Scales `image` by the smallest factor that makes it at least `width x height`, then
/// keeps the centered `width x height` window.
pub(super) fn cover_and_crop<P: Pixel<Subpixel = u8> + 'static>(
    image: &Image<P>,
    width: u32,
    height: u32,
) -> Image<P> {
    let (scaled_w, scaled_h) = cover_size(image.dimensions(), (width, height));
    let scaled = imageops::resize(image, scaled_w, scaled_h, FilterType::Triangle);
    let x = (scaled_w - width) / 2;
    let y = (scaled_h - height) / 2;
    imageops::crop_imm(&scaled, x, y, width, height).to_image()
}

/// The size of `(w, h)` scaled so that it covers `(target_w, target_h)` with one side
/// matching exactly; the other side is rounded to the nearest pixel.
fn cover_size((w, h): (u32, u32), (target_w, target_h): (u32, u32)) -> (u32, u32) {
    let (w, h, tw, th) = (w as u64, h as u64, target_w as u64, target_h as u64);
    // Compare the scale factors tw / w and th / h without dividing.
    if tw * h >= th * w {
        // Width decides; the height is then at least th because h * tw / w >= th.
        (target_w, ((h * tw + w / 2) / w) as u32)
    } else {
        (((w * th + h / 2) / h) as u32, target_h)
    }
}

/// Appends the image's channels one plane after another (CHW), the layout of a `Dataset`.
fn push_planes<P: Pixel<Subpixel = u8>>(image: &Image<P>, out: &mut Vec<u8>) {
    for channel in 0..usize::from(P::CHANNEL_COUNT) {
        out.extend(image.pixels().map(|p| p.channels()[channel]));
    }
}

#[cfg(test)]
mod tests {
    use super::cover_size;

    #[test]
    fn cover_size_matches_the_side_that_needs_the_larger_scale() {
        assert_eq!(cover_size((16, 8), (8, 8)), (16, 8));
        assert_eq!(cover_size((8, 24), (8, 8)), (8, 24));
        assert_eq!(cover_size((30, 20), (8, 8)), (12, 8));
        assert_eq!(cover_size((4, 4), (8, 8)), (8, 8));
        assert_eq!(cover_size((100, 50), (10, 20)), (40, 20));
        assert_eq!(cover_size((3, 1000), (32, 32)), (32, 10667));
    }
}
