//! A loaded image set in memory: uint8 pixels in NCHW order, optional labels, and the
//! two things a training loop asks of it (an epoch's order and a batch of floats).

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// `n * channels * height * width` pixel values in [0, 255], NCHW.
    pub images: Vec<u8>,
    pub n: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// One class label per image where the format has them (MNIST, CIFAR).
    pub labels: Option<Vec<u8>>,
    /// Where the images came from, for logs and error messages.
    pub source: String,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// `[channels, height, width]` of every image.
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    pub fn pixels_per_image(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The pixels of image `i`, CHW.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        let size = self.pixels_per_image();
        &self.images[i * size..(i + 1) * size]
    }

    /// Replaces `out` with the images at `indices`, NCHW, as f32 pixel values in
    /// [0, 255]. Dequantisation (noise, division by 256) is left to the GPU so that a
    /// batch is uploaded exactly as stored.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn batch(&self, indices: &[usize], out: &mut Vec<f32>) {
        out.clear();
        out.reserve(indices.len() * self.pixels_per_image());
        for &i in indices {
            out.extend(self.image(i).iter().map(|&p| f32::from(p)));
        }
    }

    /// A permutation of `0..len()` that depends only on `(seed, epoch)`, so a run
    /// resumed at some epoch sees exactly the order the interrupted run would have
    /// (StdRng's algorithm is fixed by the `rand` version that Cargo.lock pins).
    pub fn epoch_order(&self, seed: u64, epoch: u64) -> Vec<usize> {
        // Seed and epoch fill separate halves of the RNG seed, so no two (seed, epoch)
        // pairs share a stream (mixing them into one u64 could collide).
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&epoch.to_le_bytes());
        let mut order: Vec<usize> = (0..self.n).collect();
        order.shuffle(&mut StdRng::from_seed(key));
        order
    }
}
