//! A folder of PNG and JPEG images, each converted to the requested channel count,
//! scaled so that it covers the requested size (for a square target: its shorter side
//! matches), and center-cropped to it. An image's file size, pixel count and aspect
//! ratio are checked before it is decoded, so that what it costs is bounded.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageBuffer, ImageDecoder, ImageError, ImageFormat, ImageReader, Pixel};

use super::Dataset;
use super::fs::{io_err, open_file, sorted_files};
use crate::error::data_err;
use crate::{Error, Result};

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
    let Some(bytes) = [channels, height, width]
        .into_iter()
        .try_fold(files.len(), usize::checked_mul)
    else {
        return data_err(
            what,
            format!(
                "{} images of {channels}x{height}x{width} pixels overflow a memory size",
                files.len()
            ),
        );
    };
    let mut images = Vec::with_capacity(bytes);
    let (mut resized, mut converted) = (0, 0);
    for file in files {
        let decoded = decode(file)?;
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

/// The most bytes an image file may have: far past any photo's, and a bound on what a
/// decoder that reads its whole input (JPEG's) holds.
const MAX_FILE_BYTES: u64 = 512 << 20;
/// The most pixels an image may have: a 128-megapixel photo decodes into 384 MB.
const MAX_PIXELS: u64 = 128_000_000;
/// How many times longer than the other one side may be. Scaling an image to cover the
/// model's shape holds up to this many times the model's pixels, so the ratio bounds
/// what a tiny file of 1 x 1000000 pixels costs; no photo is that narrow.
const MAX_ASPECT_RATIO: u64 = 64;

/// The image in `file`, decoded by content (a JPEG saved as .png still loads) once its
/// length and then its dimensions, read from its header, are within the limits above.
fn decode(file: &Path) -> Result<DynamicImage> {
    let (opened, len) = open_file(file)?;
    if len > MAX_FILE_BYTES {
        return data_err(
            file,
            format!("is {len} bytes, more than the {MAX_FILE_BYTES} an image file may have"),
        );
    }
    let mut reader = ImageReader::new(BufReader::new(opened));
    if let Ok(format) = ImageFormat::from_path(file) {
        reader.set_format(format);
    }
    let cannot_decode = |e: ImageError| Error::Data {
        path: file.to_owned(),
        detail: format!("cannot decode image: {e}"),
    };
    let decoder = reader
        .with_guessed_format()
        .map_err(io_err(file))?
        .into_decoder()
        .map_err(cannot_decode)?;
    check_dimensions(file, decoder.dimensions())?;
    DynamicImage::from_decoder(decoder).map_err(cannot_decode)
}

/// Refuses an image of more than [`MAX_PIXELS`] pixels, or one side more than
/// [`MAX_ASPECT_RATIO`] times the other, naming its size.
fn check_dimensions(file: &Path, (w, h): (u32, u32)) -> Result<()> {
    let (long, short) = (u64::from(w.max(h)), u64::from(w.min(h)));
    let problem = if short == 0 {
        "no pixels".to_string()
    } else if long * short > MAX_PIXELS {
        format!("more than {} megapixels", MAX_PIXELS / 1_000_000)
    } else if long > MAX_ASPECT_RATIO * short {
        let ratio = if long % short == 0 {
            (long / short).to_string()
        } else {
            format!("{:.1}", long as f64 / short as f64)
        };
        let [ratio, limit] = [ratio, MAX_ASPECT_RATIO.to_string()].map(|r| {
            if w >= h {
                format!("{r}:1")
            } else {
                format!("1:{r}")
            }
        });
        format!("its aspect ratio {ratio} is past {limit}")
    } else {
        return Ok(());
    };
    data_err(
        file,
        format!("is {w} x {h} pixels (width x height): {problem}"),
    )
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
