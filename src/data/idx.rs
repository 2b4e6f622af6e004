//! MNIST's IDX files: a big-endian header (magic 0x000008dd: unsigned bytes in dd
//! dimensions, then dd u32 sizes) followed by exactly the values the sizes promise.
//! Files may be gzipped; that is detected by content, not by name. A file is read no
//! further than its header promises.

use std::cmp::Ordering;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::Dataset;
use super::fs::{file_name, io_err, open_file};
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
    let ([n, height, width], pixels) = read::<3>(path, "image")?;
    if n == 0 || height == 0 || width == 0 {
        return data_err(
            path,
            format!("holds no pixels: {n} images of {height}x{width}"),
        );
    }
    Ok(Dataset {
        images: pixels,
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
    let (_, labels) = read::<1>(path, "label")?;
    Ok(labels)
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

/// The most bytes an IDX file may hold, decompressed (MNIST's training images are 47
/// MB): what a header can make the loader inflate and hold is bounded before any value
/// is read.
const MAX_IDX_BYTES: u64 = 4 << 30;

/// The sizes and values of the IDX file at `path` (gzipped or not), which must hold
/// unsigned bytes in `DIMS` dimensions. The header is read first (inflating only its
/// own bytes), and the values no further than its sizes promise, plus one byte to
/// catch trailing data: a small gzip of a huge stream is never inflated whole.
fn read<const DIMS: usize>(path: &Path, kind: &str) -> Result<([usize; DIMS], Vec<u8>)> {
    let (file, len) = open_file(path)?;
    let mut file = BufReader::new(file);
    let gzipped = file
        .fill_buf()
        .map_err(io_err(path))?
        .starts_with(&GZIP_MAGIC);
    let source = Source { path, gzipped };
    let mut stream: Box<dyn Read> = if gzipped {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };

    let header_len = 4 + 4 * DIMS;
    let mut header = Vec::with_capacity(header_len);
    source.read(&mut stream, header_len as u64, &mut header)?;
    // The magic's low byte is the dimension count, so matching it checks that count.
    let magic = UNSIGNED_BYTES_MAGIC | DIMS as u32;
    let found = match header.first_chunk::<4>() {
        Some(word) => u32::from_be_bytes(*word),
        None => return source.cut_short("an IDX magic number", 4, header.len()),
    };
    if found != magic {
        return data_err(
            path,
            format!("not an IDX {kind} file: magic 0x{found:08x} (expected 0x{magic:08x})"),
        );
    }
    if header.len() < header_len {
        return source.cut_short("the header", header_len, header.len());
    }
    let mut sizes = [0usize; DIMS];
    for (size, word) in sizes.iter_mut().zip(header[4..].chunks_exact(4)) {
        *size = u32::from_be_bytes(word.try_into().expect("chunks of 4")) as usize;
    }
    let sizes_text = sizes.map(|s| s.to_string()).join("x");
    let Some(total) = sizes
        .iter()
        .try_fold(1u64, |acc, &size| acc.checked_mul(size as u64))
        .and_then(|values| values.checked_add(header_len as u64))
    else {
        return data_err(path, format!("header sizes {sizes_text} overflow"));
    };
    if total > MAX_IDX_BYTES {
        return data_err(
            path,
            format!(
                "header sizes {sizes_text} promise {total} bytes, more than the \
                 {MAX_IDX_BYTES} an IDX file may hold"
            ),
        );
    }
    let promise = |actual: &str, longer: bool| {
        let problem = if longer { "trailing data" } else { "truncated" };
        data_err(
            path,
            format!(
                "{problem}: header promises {total} bytes ({sizes_text} values after a \
                 {header_len}-byte header), {} has {actual}",
                source.what()
            ),
        )
    };
    if !gzipped && len != total {
        return promise(&len.to_string(), len > total);
    }
    let values_len = total - header_len as u64;
    let mut values = Vec::new();
    if !gzipped {
        // The file's length is the header's promise, checked above.
        values.reserve_exact(values_len as usize);
    }
    source.read(&mut stream, values_len + 1, &mut values)?;
    match (values.len() as u64).cmp(&values_len) {
        Ordering::Equal => Ok((sizes, values)),
        Ordering::Less => promise(&(header_len + values.len()).to_string(), false),
        Ordering::Greater => promise("more", true),
    }
}

/// The file being read: its path and whether its bytes are inflated, for messages.
struct Source<'a> {
    path: &'a Path,
    gzipped: bool,
}

impl Source<'_> {
    fn what(&self) -> &'static str {
        if self.gzipped {
            "the decompressed file"
        } else {
            "the file"
        }
    }

    /// Appends at most `count` bytes of `stream` to `out`.
    fn read(&self, stream: &mut dyn Read, count: u64, out: &mut Vec<u8>) -> Result<()> {
        match stream.take(count).read_to_end(out) {
            Ok(_) => Ok(()),
            Err(e) if self.gzipped => data_err(self.path, format!("corrupt gzip data: {e}")),
            Err(e) => Err(io_err(self.path)(e)),
        }
    }

    fn cut_short<T>(&self, wanted: &str, needed: usize, has: usize) -> Result<T> {
        data_err(
            self.path,
            format!(
                "truncated: {wanted} needs {needed} bytes, {} has {has}",
                self.what()
            ),
        )
    }
}
