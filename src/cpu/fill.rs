//! CPU twin of ops/fill.rs.

pub fn fill(n: usize, value: f64) -> Vec<f64> {
    vec![value; n]
}
