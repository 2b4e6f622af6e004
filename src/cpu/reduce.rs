//! CPU twin of ops/reduce.rs.

/// Sum of each sample's values: x holds `samples` equal consecutive blocks.
pub fn sum_per_sample(x: &[f64], samples: usize) -> Vec<f64> {
    x.chunks(x.len() / samples)
        .map(|s| s.iter().sum())
        .collect()
}
