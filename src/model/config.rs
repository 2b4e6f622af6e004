//! The model's shape: input size, scales, s,t network width and depth. Presets follow
//! the spec's table; a JSON file with the same fields gives custom shapes.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::open_regular;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Input channels (1 grayscale, 3 RGB).
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// Number of scales L: L - 1 squeeze-and-factor-out scales, then a final one.
    pub scales: usize,
    /// Feature channels F of the s,t networks.
    pub features: usize,
    /// Residual blocks B of the s,t networks.
    pub blocks: usize,
    /// Training batch size.
    pub batch: usize,
}

pub const PRESETS: &[&str] = &["tiny", "mnist", "cifar10"];

/// Each scale but the last halves the image, so more than this cannot fit any image.
const MAX_SCALES: usize = 16;
/// Caps far past any sensible model that keep every size computed from a config
/// within u64 and building its layout cheap; the adapter's limits come after
/// ([`super::state::check_fits`]).
const MAX_CHANNELS: usize = 64;
const MAX_SIDE: usize = 4096;
const MAX_FEATURES: usize = 1 << 20;
const MAX_BLOCKS: usize = 256;
/// The most images in one batch, a training config's or a plan's.
pub const MAX_BATCH: usize = 1 << 16;
/// A config file is a few lines of JSON; this bounds what reading one can cost.
const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

impl ModelConfig {
    pub fn preset(name: &str) -> Result<ModelConfig> {
        let c = |channels, side, scales, features, blocks, batch| ModelConfig {
            channels,
            height: side,
            width: side,
            scales,
            features,
            blocks,
            batch,
        };
        match name {
            "tiny" => Ok(c(1, 8, 2, 8, 1, 16)),
            "mnist" => Ok(c(1, 28, 2, 32, 4, 64)),
            "cifar10" => Ok(c(3, 32, 3, 64, 8, 64)),
            _ => Err(Error::Config(format!(
                "unknown preset '{name}' (choose one of {})",
                PRESETS.join(", ")
            ))),
        }
    }

    /// Reads a JSON config file with exactly this struct's fields.
    pub fn from_file(path: &Path) -> Result<ModelConfig> {
        let in_file = |e: String| Error::Config(format!("model config {}: {e}", path.display()));
        let (file, len) = open_regular(path).map_err(|e| in_file(e.to_string()))?;
        let too_long = |len: u64| {
            in_file(format!(
                "is {len} bytes; a model config file is at most {MAX_CONFIG_FILE_BYTES} bytes"
            ))
        };
        if len > MAX_CONFIG_FILE_BYTES {
            return Err(too_long(len));
        }
        let mut text = Vec::new();
        // One byte past the cap: a file longer than its length said (one that grows) is
        // caught too.
        file.take(MAX_CONFIG_FILE_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(|e| in_file(format!("cannot read: {e}")))?;
        if text.len() as u64 > MAX_CONFIG_FILE_BYTES {
            return Err(too_long(text.len() as u64));
        }
        let config: ModelConfig =
            serde_json::from_slice(&text).map_err(|e| in_file(e.to_string()))?;
        config.validate().map_err(|e| match e {
            // One "model config" prefix, not two.
            Error::Config(detail) => in_file(
                detail
                    .strip_prefix("model config: ")
                    .unwrap_or(&detail)
                    .to_owned(),
            ),
            e => e,
        })?;
        Ok(config)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a config always serializes")
    }

    /// Checks the sizes fit the architecture: every scale but the last squeezes, so H
    /// and W must be divisible by 2^(L-1); and that none is past its cap.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(Error::Config(format!("model config: {m}")));
        for (field, value, cap) in [
            ("channels", self.channels, MAX_CHANNELS),
            ("height", self.height, MAX_SIDE),
            ("width", self.width, MAX_SIDE),
            ("scales", self.scales, MAX_SCALES),
            ("features", self.features, MAX_FEATURES),
            ("blocks", self.blocks, MAX_BLOCKS),
            ("batch", self.batch, MAX_BATCH),
        ] {
            if value > cap {
                return fail(format!("{field} {value} is more than {cap}"));
            }
        }
        if self.channels == 0 || self.height == 0 || self.width == 0 {
            return fail(format!(
                "input shape {}x{}x{} must be non-empty",
                self.channels, self.height, self.width
            ));
        }
        if self.scales == 0 || self.features == 0 || self.batch == 0 {
            return fail("scales, features and batch must be at least 1".into());
        }
        let div = 1usize << (self.scales - 1);
        if !self.height.is_multiple_of(div) || !self.width.is_multiple_of(div) {
            return fail(format!(
                "{} scales squeeze {} times, so height and width must be divisible by {div}; got {}x{}",
                self.scales,
                self.scales - 1,
                self.height,
                self.width
            ));
        }
        Ok(())
    }

    /// [channels, height, width] of one image.
    pub fn chw(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    /// D = C * H * W, the dimension bits/dim divides by.
    pub fn dim(&self) -> usize {
        self.channels * self.height * self.width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_unknown_names_are_errors() {
        for name in PRESETS {
            ModelConfig::preset(name).unwrap().validate().unwrap();
        }
        let e = ModelConfig::preset("huge").unwrap_err().to_string();
        assert!(e.contains("huge") && e.contains("mnist"), "{e}");
    }

    #[test]
    fn sizes_that_cannot_squeeze_are_refused() {
        let mut c = ModelConfig::preset("cifar10").unwrap();
        c.height = 30;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("divisible by 4") && e.contains("30x32"), "{e}");
    }

    #[test]
    fn values_past_their_caps_are_refused_naming_the_field() {
        let tiny = ModelConfig::preset("tiny").unwrap();
        let with = |set: fn(&mut ModelConfig)| {
            let mut c = tiny.clone();
            set(&mut c);
            c
        };
        let cases = [
            (with(|c| c.channels = 65), "channels 65"),
            (with(|c| c.height = 1 << 31), "height 2147483648"),
            (with(|c| c.width = 1 << 40), "width 1099511627776"),
            (with(|c| c.scales = 17), "scales 17"),
            (
                with(|c| c.features = 1 << 62),
                "features 4611686018427387904",
            ),
            (with(|c| c.blocks = 100_000), "blocks 100000"),
            (with(|c| c.batch = usize::MAX), "batch 18446744073709551615"),
        ];
        for (config, field) in cases {
            let e = config.validate().unwrap_err().to_string();
            assert!(e.contains(&format!("{field} is more than")), "{e}");
        }
    }

    #[test]
    fn json_round_trips_and_unknown_fields_are_refused() {
        let c = ModelConfig::preset("mnist").unwrap();
        let back: ModelConfig = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(back, c);
        let bad = c.to_json().replace("\"blocks\"", "\"blox\"");
        assert!(serde_json::from_str::<ModelConfig>(&bad).is_err());
    }
}
