//! MNIST's IDX files: a big-endian header (magic 0x000008dd: unsigned bytes in dd
//! dimensions, then dd u32 sizes) followed by exactly the values the sizes promise.
//! Files may be gzipped; that is detected by content, not by name.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::Dataset;
use super::fs::{file_name, read_bytes};
use crate::Result;
use crate::error::data_err;

/// An IDX magic number without its dimension count: two zero bytes, then type 0x08.
const UNSIGNED_BYTES_MAGIC: u32 = 0x0000_0800;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The images of `images` with the labels of `labels`, which must count the same.
pub fn load(images: &Path, labels: Option<&Path>) -> Result<Dataset> {
    let mut dataset = read_images(images)?;
    if let Some(labels) = labels {
        let values = read_labels(labels)?;
        if values.len() != dataset.n {
            return data_err(
                labels,
                format!(
                    "holds {} labels but {} holds {} images",
                    values.len(),
                    images.display(),
                    dataset.n
                ),
            );
        }
        dataset.labels = Some(values);
    }
    Ok(dataset)
}

/// An idx3-ubyte file of `n` images of `height x width` pixels, without labels.
pub fn read_images(path: &Path) -> Result<Dataset> {
    let contents = Contents::read(path)?;
    let ([n, height, width], pixels) = contents.parse::<3>("image")?;
    if n == 0 || height == 0 || width == 0 {
        return data_err(
            path,
            format!("holds no pixels: {n} images of {height}x{width}"),
        );
    }
    Ok(Dataset {
        images: pixels.to_vec(),
        n,
        channels: 1,
        height,
        width,
        labels: None,
        source: format!("MNIST IDX {}", path.display()),
    })
}

/// An idx1-ubyte file of one label byte per image.
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    let contents = Contents::read(path)?;
    let (_, labels) = contents.parse::<1>("label")?;
    Ok(labels.to_vec())
}

/// The labels file that MNIST's naming puts beside an images file
/// (`…train-images-idx3-ubyte[.gz]` -> `…train-labels-idx1-ubyte[.gz]`), if it exists;
/// the same compression as the images is preferred.
pub fn labels_beside(images: &Path) -> Option<PathBuf> {
    let name = file_name(images);
    let (prefix, compression) = name.split_once("images-idx3-ubyte")?;
    let other_compression = if compression == ".gz" { "" } else { ".gz" };
    [compression, other_compression]
        .into_iter()
        .map(|suffix| images.with_file_name(format!("{prefix}labels-idx1-ubyte{suffix}")))
        .find(|candidate| candidate.is_file())
}

/// A file's bytes, gunzipped if they were compressed.
struct Contents<'a> {
    path: &'a Path,
    bytes: Vec<u8>,
    gzipped: bool,
}

impl<'a> Contents<'a> {
    fn read(path: &'a Path) -> Result<Self> {
        let raw = read_bytes(path)?;
        if !raw.starts_with(&GZIP_MAGIC) {
            return Ok(Self {
                path,
                bytes: raw,
                gzipped: false,
            });
        }
        let mut bytes = Vec::new();
        if let Err(e) = MultiGzDecoder::new(&raw[..]).read_to_end(&mut bytes) {
            return data_err(path, format!("corrupt gzip data: {e}"));
        }
        Ok(Self {
            path,
            bytes,
            gzipped: true,
        })
    }

    /// Checks that the header announces unsigned bytes in `DIMS` dimensions and that the
    /// length is what its sizes promise; returns the sizes and the values after it.
    fn parse<const DIMS: usize>(&self, kind: &str) -> Result<([usize; DIMS], &[u8])> {
        // The magic's low byte is the dimension count, so matching it checks that count.
        let magic = UNSIGNED_BYTES_MAGIC | DIMS as u32;
        let found = match self.bytes.first_chunk::<4>() {
            Some(word) => u32::from_be_bytes(*word),
            None => return self.length_err("an IDX magic number", 4),
        };
        if found != magic {
            return data_err(
                self.path,
                format!("not an IDX {kind} file: magic 0x{found:08x} (expected 0x{magic:08x})"),
            );
        }
        let header_len = 4 + 4 * DIMS;
        let Some(header) = self.bytes.get(4..header_len) else {
            return self.length_err("the header", header_len);
        };
        let mut sizes = [0usize; DIMS];
        for (size, word) in sizes.iter_mut().zip(header.chunks_exact(4)) {
            *size = u32::from_be_bytes(word.try_into().expect("chunks of 4")) as usize;
        }
        let sizes_text = sizes.map(|s| s.to_string()).join("x");
        let Some(total) = sizes
            .iter()
            .try_fold(1usize, |acc, &size| acc.checked_mul(size))
            .and_then(|values| values.checked_add(header_len))
        else {
            return data_err(self.path, format!("header sizes {sizes_text} overflow"));
        };
        if self.bytes.len() != total {
            let problem = if self.bytes.len() < total {
                "truncated"
            } else {
                "trailing data"
            };
            return data_err(
                self.path,
                format!(
                    "{problem}: header promises {total} bytes ({sizes_text} values after a \
                     {header_len}-byte header), {} has {}",
                    self.described(),
                    self.bytes.len()
                ),
            );
        }
        Ok((sizes, &self.bytes[header_len..]))
    }

    fn length_err<T>(&self, wanted: &str, needed: usize) -> Result<T> {
        data_err(
            self.path,
            format!(
                "truncated: {wanted} needs {needed} bytes, {} has {}",
                self.described(),
                self.bytes.len()
            ),
        )
    }

    fn described(&self) -> &'static str {
        if self.gzipped {
            "the decompressed file"
        } else {
            "the file"
        }
    }
}
