//! CPU twin of ops/activation.rs, and the ReLU that the GPU fuses into its batch norm
//! (`cpu/batch_norm.rs` builds the fused op's twin from `relu` and `relu_backward`).

/// max(x, 0).
pub fn relu(x: &[f64]) -> Vec<f64> {
    x.iter().map(|&v| v.max(0.0)).collect()
}

/// dy where x > 0, else 0: the ReLU's gradient given x, or given its output (the same
/// mask).
pub fn relu_backward(x: &[f64], dy: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(dy)
        .map(|(&v, &g)| if v > 0.0 { g } else { 0.0 })
        .collect()
}

/// y[n, c, i] = scale[c] * tanh(x[n, c, i]) with `inner` = H * W.
pub fn scale_tanh(x: &[f64], scale: &[f64], inner: usize) -> Vec<f64> {
    let c = scale.len();
    x.iter()
        .enumerate()
        .map(|(i, &v)| scale[(i / inner) % c] * v.tanh())
        .collect()
}

/// (dx, dscale) of [`scale_tanh`].
pub fn scale_tanh_backward(
    x: &[f64],
    scale: &[f64],
    inner: usize,
    dy: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let c = scale.len();
    let mut dscale = vec![0.0; c];
    let dx = x
        .iter()
        .zip(dy)
        .enumerate()
        .map(|(i, (&v, &g))| {
            let ch = (i / inner) % c;
            dscale[ch] += g * v.tanh();
            g * scale[ch] * (1.0 - v.tanh().powi(2))
        })
        .collect();
    (dx, dscale)
}

pub fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}
