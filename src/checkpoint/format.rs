//! The metadata keys and values that mark a realnvp checkpoint, and its checksum.

/// Value of the `format` metadata key.
pub const FORMAT: &str = "realnvp-checkpoint";
/// Value of the `version` metadata key written by this build, the only one it reads.
pub const VERSION: &str = "1";

pub(super) const FORMAT_KEY: &str = "format";
pub(super) const VERSION_KEY: &str = "version";
pub(super) const CONFIG_KEY: &str = "config";
pub(super) const CRC32_KEY: &str = "crc32";

/// Keys this module writes itself; the caller's metadata may not use them.
pub(super) const RESERVED_KEYS: [&str; 4] = [FORMAT_KEY, VERSION_KEY, CONFIG_KEY, CRC32_KEY];

/// CRC-32 over `(name, shape, little-endian bytes)` of every tensor, which must come
/// in name order. Names and shapes are included, with lengths in front so that no two
/// different layouts hash the same stream, because a flipped byte there can also
/// yield a valid header that describes different tensors.
pub(super) fn checksum<'a>(
    tensors: impl IntoIterator<Item = (&'a str, &'a [usize], &'a [u8])>,
) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for (name, shape, bytes) in tensors {
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update(&(shape.len() as u64).to_le_bytes());
        for &dim in shape {
            hasher.update(&(dim as u64).to_le_bytes());
        }
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    hasher.finalize()
}

/// The checksum as stored in the metadata: 8 lowercase hex digits.
pub(super) fn checksum_text(crc: u32) -> String {
    format!("{crc:08x}")
}
