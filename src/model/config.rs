//! The model's shape: input size, scales, s,t network width and depth. Presets follow
//! the spec's table; a JSON file with the same fields gives custom shapes.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
        let text = std::fs::read_to_string(path).map_err(|e| in_file(e.to_string()))?;
        let config: ModelConfig =
            serde_json::from_str(&text).map_err(|e| in_file(e.to_string()))?;
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
    /// and W must be divisible by 2^(L-1).
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(Error::Config(format!("model config: {m}")));
        if self.channels == 0 || self.height == 0 || self.width == 0 {
            return fail(format!(
                "input shape {}x{}x{} must be non-empty",
                self.channels, self.height, self.width
            ));
        }
        if self.scales == 0 || self.features == 0 || self.batch == 0 {
            return fail("scales, features and batch must be at least 1".into());
        }
        if self.scales > MAX_SCALES {
            return fail(format!("{} scales is more than {MAX_SCALES}", self.scales));
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
    fn json_round_trips_and_unknown_fields_are_refused() {
        let c = ModelConfig::preset("mnist").unwrap();
        let back: ModelConfig = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(back, c);
        let bad = c.to_json().replace("\"blocks\"", "\"blox\"");
        assert!(serde_json::from_str::<ModelConfig>(&bad).is_err());
    }
}
