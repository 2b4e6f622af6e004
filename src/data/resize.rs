//! Fitting a loaded dataset to a model's image size (the `tiny` preset trains on the
//! bundled MNIST scaled to 8x8): each channel plane is scaled to cover the target and
//! center-cropped, like the image-folder loader does.

use image::GrayImage;

use super::Dataset;
use super::folder::cover_and_crop;

impl Dataset {
    /// The same images at `height x width` (channels unchanged).
    pub fn resized(&self, height: usize, width: usize) -> Dataset {
        if (height, width) == (self.height, self.width) {
            return self.clone();
        }
        let plane = self.height * self.width;
        let mut images = Vec::with_capacity(self.n * self.channels * height * width);
        for source in self.images.chunks_exact(plane) {
            let gray = GrayImage::from_raw(self.width as u32, self.height as u32, source.to_vec())
                .expect("a plane holds height * width bytes");
            images.extend(cover_and_crop(&gray, width as u32, height as u32).into_raw());
        }
        Dataset {
            images,
            height,
            width,
            source: format!("{} (resized to {height}x{width})", self.source),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resizing_keeps_count_labels_and_a_flat_image_flat() {
        let d = Dataset {
            images: vec![200; 2 * 28 * 28],
            n: 2,
            channels: 1,
            height: 28,
            width: 28,
            labels: Some(vec![3, 4]),
            source: "test".into(),
        };
        let r = d.resized(8, 8);
        assert_eq!((r.n, r.height, r.width, r.images.len()), (2, 8, 8, 128));
        assert!(r.images.iter().all(|&p| p == 200));
        assert_eq!(r.labels, d.labels);
    }
}
