//! Telling images a model has never seen from images like its training data, from what a
//! forward pass already gives: each image's bits/dim and their split over the model's
//! parts ([`ImageScore`]).
//!
//! Raw bits/dim fails one way round: a flow trained on Fashion-MNIST gives MNIST digits,
//! which are simpler, fewer bits/dim than its own test images (Nalisnick et al., ICLR
//! 2019). The other scores correct for what an image costs any model. Every score is
//! "higher = less like the training data", and [`auroc`] measures how well one separates
//! two sets of images.

use std::io::Cursor;

use crate::data::Dataset;
use crate::error::Result;
use crate::model::EvalNoise;
use crate::model::densities::ImageScore;
use crate::model::plan::Plan;

/// The out-of-distribution scores, each computed from one image's [`ImageScore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OodScore {
    /// The image's bits/dim itself.
    BitsPerDim,
    /// Bits/dim minus the image's lossless PNG size in bits per dimension (input
    /// complexity, Serra et al., ICLR 2020): what the model pays beyond what a generic
    /// compressor pays for the same image.
    Complexity,
    /// The bits/dim of the scales after the first (their latents and log-dets): the
    /// first scale models the local smoothness that every natural image shares
    /// (Schirrmeister et al., NeurIPS 2020).
    LaterScales,
    /// How far the bits/dim lie from the typical bits/dim of the model's own test images,
    /// either way (Nalisnick et al.'s typicality test, per image).
    Typicality,
}

impl OodScore {
    pub const ALL: [OodScore; 4] = [
        OodScore::BitsPerDim,
        OodScore::Complexity,
        OodScore::LaterScales,
        OodScore::Typicality,
    ];

    /// The name `realnvp ood` prints.
    pub fn name(self) -> &'static str {
        match self {
            OodScore::BitsPerDim => "bits_per_dim",
            OodScore::Complexity => "complexity",
            OodScore::LaterScales => "later_scales",
            OodScore::Typicality => "typicality",
        }
    }

    /// This score of an image with model score `s`, lossless size `png_bits_per_dim`,
    /// against the typical bits/dim `typical` of the model's own test images.
    pub fn of(self, s: &ImageScore, png_bits_per_dim: f64, typical: f64) -> f64 {
        match self {
            OodScore::BitsPerDim => s.bits_per_dim,
            OodScore::Complexity => s.bits_per_dim - png_bits_per_dim,
            OodScore::LaterScales => {
                s.latent.iter().skip(1).sum::<f64>() + s.logdet.iter().skip(1).sum::<f64>()
            }
            OodScore::Typicality => (s.bits_per_dim - typical).abs(),
        }
    }
}

/// The size of `pixels` (8-bit, `channels` x `height` x `width`, CHW) as a PNG at the
/// best compression, in bits per dimension: the input complexity of [`OodScore::Complexity`].
pub fn png_bits_per_dim(pixels: &[u8], channels: usize, height: usize, width: usize) -> f64 {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let dim = channels * height * width;
    assert_eq!(
        pixels.len(),
        dim,
        "pixels must be channels x height x width"
    );
    // CHW to interleaved HWC, as PNG stores it.
    let mut hwc = vec![0u8; dim];
    for c in 0..channels {
        for i in 0..height * width {
            hwc[i * channels + c] = pixels[c * height * width + i];
        }
    }
    let color = match channels {
        1 => image::ExtendedColorType::L8,
        3 => image::ExtendedColorType::Rgb8,
        n => panic!("PNG holds 1 or 3 channels, not {n}"),
    };
    let mut bytes = Vec::new();
    PngEncoder::new_with_quality(
        Cursor::new(&mut bytes),
        CompressionType::Best,
        FilterType::Adaptive,
    )
    .write_image(&hwc, width as u32, height as u32, color)
    .expect("encoding to memory cannot fail");
    8.0 * bytes.len() as f64 / dim as f64
}

/// What every score needs of one image: the model's score and the image's lossless size.
pub struct Measured {
    pub score: ImageScore,
    pub png_bits_per_dim: f64,
}

/// [`Measured`] for images `indices` of `data`, through `plan` in evaluation mode.
pub fn measure(
    plan: &Plan,
    data: &Dataset,
    indices: &[usize],
    noise: EvalNoise,
) -> Result<Vec<Measured>> {
    let scores = plan.score(data, indices, noise)?;
    Ok(scores
        .into_iter()
        .zip(indices)
        .map(|(score, &i)| Measured {
            score,
            png_bits_per_dim: png_bits_per_dim(
                data.image(i),
                data.channels,
                data.height,
                data.width,
            ),
        })
        .collect())
}

/// How well one score tells `outliers` from `inliers` (the model's own test images).
pub struct Separation {
    pub score: OodScore,
    pub auroc: f64,
    pub inlier_mean: f64,
    pub outlier_mean: f64,
}

/// Every score's [`Separation`]; typicality is measured from the inliers' mean bits/dim.
pub fn separate(inliers: &[Measured], outliers: &[Measured]) -> Vec<Separation> {
    let typical = mean(inliers.iter().map(|m| m.score.bits_per_dim));
    OodScore::ALL
        .into_iter()
        .map(|score| {
            let values = |set: &[Measured]| -> Vec<f64> {
                set.iter()
                    .map(|m| score.of(&m.score, m.png_bits_per_dim, typical))
                    .collect()
            };
            let (i, o) = (values(inliers), values(outliers));
            Separation {
                score,
                auroc: auroc(&i, &o),
                inlier_mean: mean(i.iter().copied()),
                outlier_mean: mean(o.iter().copied()),
            }
        })
        .collect()
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

/// The area under the ROC curve of a score that should be higher on `outliers` than on
/// `inliers`: the probability that a random outlier scores above a random inlier, ties
/// counting half. 1 separates them perfectly, 0.5 not at all, 0 perfectly the wrong way.
pub fn auroc(inliers: &[f64], outliers: &[f64]) -> f64 {
    assert!(
        !inliers.is_empty() && !outliers.is_empty(),
        "AUROC needs images of both kinds"
    );
    // Rank-sum (Mann-Whitney U), with tied values given their mean rank.
    let mut all: Vec<(f64, bool)> = inliers
        .iter()
        .map(|&v| (v, false))
        .chain(outliers.iter().map(|&v| (v, true)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut outlier_rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        // Ranks i + 1 ..= j share their mean.
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        outlier_rank_sum += mean_rank * all[i..j].iter().filter(|(_, out)| *out).count() as f64;
        i = j;
    }
    let (n_in, n_out) = (inliers.len() as f64, outliers.len() as f64);
    (outlier_rank_sum - n_out * (n_out + 1.0) / 2.0) / (n_in * n_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Hand-counted: of the 3 x 2 (inlier, outlier) pairs, outlier 4 beats all three
    /// inliers, outlier 2 beats inlier 1, ties inlier 2 and loses to 3: (3 + 1 + 0.5) / 6.
    #[test]
    fn auroc_counts_pairs_with_ties_as_half() {
        assert!(close(auroc(&[1.0, 2.0, 3.0], &[4.0, 2.0]), 4.5 / 6.0));
        assert!(close(auroc(&[1.0, 2.0], &[3.0, 4.0]), 1.0));
        assert!(close(auroc(&[3.0, 4.0], &[1.0, 2.0]), 0.0));
        assert!(close(auroc(&[5.0, 5.0], &[5.0]), 0.5));
    }

    fn two_scales() -> ImageScore {
        ImageScore {
            nats: 0.0,
            bits_per_dim: 2.0,
            preprocessing: 0.5,
            latent: vec![0.75, 0.5],
            logdet: vec![0.125, 0.125],
        }
    }

    /// Each score of a fixed image, by hand: 2.0 bits/dim, of which 0.5 preprocessing,
    /// 0.75 + 0.125 the first scale and 0.5 + 0.125 the second.
    #[test]
    fn scores_of_a_fixed_image_match_a_hand_computation() {
        let s = two_scales();
        assert!(close(OodScore::BitsPerDim.of(&s, 1.5, 1.8), 2.0));
        assert!(close(OodScore::Complexity.of(&s, 1.5, 1.8), 0.5));
        assert!(close(OodScore::LaterScales.of(&s, 1.5, 1.8), 0.625));
        assert!(close(OodScore::Typicality.of(&s, 1.5, 1.8), 0.2));
        assert!(close(OodScore::Typicality.of(&s, 1.5, 2.25), 0.25));
    }

    /// A flat image compresses to a few bits per pixel at most; noise to about 8.
    #[test]
    fn png_size_tracks_how_complex_an_image_is() {
        let flat = vec![17u8; 28 * 28];
        let mut state = 1u32;
        let noise: Vec<u8> = (0..28 * 28)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect();
        let (f, n) = (
            png_bits_per_dim(&flat, 1, 28, 28),
            png_bits_per_dim(&noise, 1, 28, 28),
        );
        assert!(f < 1.0, "flat image: {f} bits/dim");
        assert!(n > 7.5, "noise: {n} bits/dim");
    }
}
