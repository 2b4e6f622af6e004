//! Telling images a model has never seen from images like its training data, from what a
//! forward pass already gives: each image's bits/dim and their split over the model's
//! parts ([`ImageScore`]).
//!
//! Raw bits/dim fails one way round: a flow trained on Fashion-MNIST gives MNIST digits,
//! which are simpler, fewer bits/dim than its own test images (Nalisnick et al., ICLR
//! 2019). The other scores correct for what an image costs any model. Every score is
//! "higher = less like the training data", and [`auroc`] measures how well one separates
//! two sets of images.

use std::io::Write;

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
    /// Bits/dim minus the image's losslessly compressed size in bits per dimension
    /// (input complexity, Serra et al., ICLR 2020): what the model pays beyond what a
    /// generic compressor pays for the same image.
    Complexity,
    /// The bits/dim of the scales after the first (their latents and log-dets): the
    /// first scale models the local smoothness that every natural image shares
    /// (Schirrmeister et al., NeurIPS 2020).
    LaterScales,
    /// How far the bits/dim lie from the typical bits/dim of the model's own test images,
    /// either way (Nalisnick et al.'s typicality test, per image).
    Typicality,
    /// The larger of typicality and complexity, each in standard deviations of the
    /// model's own test images (typicality either way, complexity above theirs only):
    /// typicality catches images that cost the model too many bits, complexity the
    /// simple ones that cost it too few.
    Combined,
}

/// The statistics of the model's own test images that the scores compare with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reference {
    pub bits_per_dim_mean: f64,
    pub bits_per_dim_std: f64,
    pub complexity_mean: f64,
    pub complexity_std: f64,
}

impl Reference {
    /// The statistics of `own`, the model's test images (at least two).
    pub fn of(own: &[Measured]) -> Reference {
        let bpd: Vec<f64> = own.iter().map(|m| m.score.bits_per_dim).collect();
        let complexity: Vec<f64> = own
            .iter()
            .map(|m| m.score.bits_per_dim - m.compressed_bits_per_dim)
            .collect();
        let (bits_per_dim_mean, bits_per_dim_std) = mean_std(&bpd);
        let (complexity_mean, complexity_std) = mean_std(&complexity);
        Reference {
            bits_per_dim_mean,
            bits_per_dim_std,
            complexity_mean,
            complexity_std,
        }
    }
}

impl OodScore {
    pub const ALL: [OodScore; 5] = [
        OodScore::BitsPerDim,
        OodScore::Complexity,
        OodScore::LaterScales,
        OodScore::Typicality,
        OodScore::Combined,
    ];

    /// The name `realnvp ood` prints.
    pub fn name(self) -> &'static str {
        match self {
            OodScore::BitsPerDim => "bits_per_dim",
            OodScore::Complexity => "complexity",
            OodScore::LaterScales => "later_scales",
            OodScore::Typicality => "typicality",
            OodScore::Combined => "combined",
        }
    }

    /// This score of an image with model score `s` and compressed size `compressed`
    /// ([`compressed_bits_per_dim`]), against the model's own test images `own`.
    pub fn of(self, s: &ImageScore, compressed: f64, own: &Reference) -> f64 {
        match self {
            OodScore::BitsPerDim => s.bits_per_dim,
            OodScore::Complexity => s.bits_per_dim - compressed,
            OodScore::LaterScales => {
                s.latent.iter().skip(1).sum::<f64>() + s.logdet.iter().skip(1).sum::<f64>()
            }
            OodScore::Typicality => (s.bits_per_dim - own.bits_per_dim_mean).abs(),
            OodScore::Combined => {
                let typicality =
                    (s.bits_per_dim - own.bits_per_dim_mean).abs() / own.bits_per_dim_std;
                let complexity =
                    (s.bits_per_dim - compressed - own.complexity_mean) / own.complexity_std;
                typicality.max(complexity)
            }
        }
    }
}

/// The size of an image's 8-bit `pixels` compressed by DEFLATE at its best level (zlib,
/// the compressor inside PNG, without PNG's row filters and container), in bits per
/// pixel value: the input complexity of [`OodScore::Complexity`].
pub fn compressed_bits_per_dim(pixels: &[u8]) -> f64 {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(pixels)
        .expect("compressing to memory cannot fail");
    let bytes = z.finish().expect("compressing to memory cannot fail");
    8.0 * bytes.len() as f64 / pixels.len() as f64
}

/// What every score needs of one image: the model's score and the image's compressed
/// size.
pub struct Measured {
    pub score: ImageScore,
    pub compressed_bits_per_dim: f64,
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
            compressed_bits_per_dim: compressed_bits_per_dim(data.image(i)),
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

/// Every score's [`Separation`], the inliers giving the [`Reference`].
pub fn separate(inliers: &[Measured], outliers: &[Measured]) -> Vec<Separation> {
    let own = Reference::of(inliers);
    OodScore::ALL
        .into_iter()
        .map(|score| {
            let values = |set: &[Measured]| -> Vec<f64> {
                set.iter()
                    .map(|m| score.of(&m.score, m.compressed_bits_per_dim, &own))
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

/// The mean and the sample standard deviation.
fn mean_std(values: &[f64]) -> (f64, f64) {
    assert!(values.len() >= 2, "a spread needs two values at least");
    let m = mean(values.iter().copied());
    let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
    (m, var.sqrt())
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

    fn reference(bits_per_dim_mean: f64) -> Reference {
        Reference {
            bits_per_dim_mean,
            bits_per_dim_std: 0.5,
            complexity_mean: -0.5,
            complexity_std: 0.25,
        }
    }

    /// Each score of a fixed image, by hand: 2.0 bits/dim, of which 0.5 preprocessing,
    /// 0.75 + 0.125 the first scale and 0.5 + 0.125 the second, compressed to 1.5.
    #[test]
    fn scores_of_a_fixed_image_match_a_hand_computation() {
        let s = two_scales();
        let own = reference(1.8);
        assert!(close(OodScore::BitsPerDim.of(&s, 1.5, &own), 2.0));
        assert!(close(OodScore::Complexity.of(&s, 1.5, &own), 0.5));
        assert!(close(OodScore::LaterScales.of(&s, 1.5, &own), 0.625));
        assert!(close(OodScore::Typicality.of(&s, 1.5, &own), 0.2));
        assert!(close(
            OodScore::Typicality.of(&s, 1.5, &reference(2.25)),
            0.25
        ));
        // Typicality |2.0 - 1.8| / 0.5 = 0.4, complexity (0.5 + 0.5) / 0.25 = 4: the larger.
        assert!(close(OodScore::Combined.of(&s, 1.5, &own), 4.0));
        // Compressed to 2.75: complexity (-0.75 + 0.5) / 0.25 = -1, typicality 0.4.
        assert!(close(OodScore::Combined.of(&s, 2.75, &own), 0.4));
    }

    /// The reference of two images: means and sample standard deviations by hand.
    #[test]
    fn the_reference_is_the_mean_and_spread_of_the_own_test_images() {
        let image = |bits_per_dim: f64, compressed: f64| Measured {
            score: ImageScore {
                bits_per_dim,
                ..two_scales()
            },
            compressed_bits_per_dim: compressed,
        };
        let own = Reference::of(&[image(1.0, 2.0), image(2.0, 2.0)]);
        let half_sqrt2 = 0.5f64.sqrt();
        assert!(close(own.bits_per_dim_mean, 1.5) && close(own.bits_per_dim_std, half_sqrt2));
        assert!(close(own.complexity_mean, -0.5) && close(own.complexity_std, half_sqrt2));
    }

    /// A flat image compresses to a fraction of a bit per pixel; noise to no less than 8.
    #[test]
    fn compressed_size_tracks_how_complex_an_image_is() {
        let flat = vec![17u8; 28 * 28];
        let mut state = 1u32;
        let noise: Vec<u8> = (0..28 * 28)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect();
        let (f, n) = (
            compressed_bits_per_dim(&flat),
            compressed_bits_per_dim(&noise),
        );
        assert!(f < 0.5, "flat image: {f} bits/dim");
        assert!(n >= 8.0, "noise: {n} bits/dim");
    }
}
