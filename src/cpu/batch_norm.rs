//! CPU twin of ops/batch_norm.rs. x is flat NCHW with `shape` = [N, C, H, W]; per-channel
//! values are [C]. "Fixed" statistics (`Some`) are evaluation mode; `None` means
//! training, where the batch's own statistics are computed and returned.

pub const EPS: f64 = 1e-5;
pub const MOMENTUM: f64 = 0.1;

/// Per-channel mean and biased variance.
#[derive(Clone, Debug)]
pub struct Stats {
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
}

/// Gradients of a batch norm: dscale is dweight (plain) or dlog_gamma (flow), dshift
/// is dbias or dbeta.
#[derive(Clone, Debug)]
pub struct Grads {
    pub dx: Vec<f64>,
    pub dscale: Vec<f64>,
    pub dshift: Vec<f64>,
}

/// NCHW indices of channel c's N*H*W elements.
fn channel(shape: [usize; 4], c: usize) -> impl Iterator<Item = usize> {
    let [n, channels, h, w] = shape;
    (0..n).flat_map(move |b| {
        let start = (b * channels + c) * h * w;
        start..start + h * w
    })
}

fn count(shape: [usize; 4]) -> f64 {
    (shape[0] * shape[2] * shape[3]) as f64
}

pub fn batch_stats(x: &[f64], shape: [usize; 4]) -> Stats {
    let m = count(shape);
    let mean: Vec<f64> = (0..shape[1])
        .map(|c| channel(shape, c).map(|i| x[i]).sum::<f64>() / m)
        .collect();
    let var = (0..shape[1])
        .map(|c| {
            channel(shape, c)
                .map(|i| (x[i] - mean[c]).powi(2))
                .sum::<f64>()
                / m
        })
        .collect();
    Stats { mean, var }
}

/// (x - mean) / sqrt(var + eps) * gamma[c] + shift[c].
fn normalize(x: &[f64], shape: [usize; 4], s: &Stats, gamma: &[f64], shift: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for c in 0..shape[1] {
        let rstd = 1.0 / (s.var[c] + EPS).sqrt();
        for i in channel(shape, c) {
            y[i] = (x[i] - s.mean[c]) * rstd * gamma[c] + shift[c];
        }
    }
    y
}

fn exp(v: &[f64]) -> Vec<f64> {
    v.iter().map(|x| x.exp()).collect()
}

/// The stats that normalize: the fixed ones, or the batch's own.
fn stats_for(x: &[f64], shape: [usize; 4], fixed: Option<&Stats>) -> Stats {
    fixed.cloned().unwrap_or_else(|| batch_stats(x, shape))
}

/// Plain batch norm: y and the stats used.
pub fn forward(
    x: &[f64],
    shape: [usize; 4],
    weight: &[f64],
    bias: &[f64],
    fixed: Option<&Stats>,
) -> (Vec<f64>, Stats) {
    let s = stats_for(x, shape, fixed);
    (normalize(x, shape, &s, weight, bias), s)
}

/// Flow batch norm: y, the log-det of every sample, and the stats used.
pub fn flow_forward(
    x: &[f64],
    shape: [usize; 4],
    log_gamma: &[f64],
    beta: &[f64],
    fixed: Option<&Stats>,
) -> (Vec<f64>, f64, Stats) {
    let s = stats_for(x, shape, fixed);
    let y = normalize(x, shape, &s, &exp(log_gamma), beta);
    (y, log_det(shape, log_gamma, &s.var), s)
}

/// H*W * sum_c (log_gamma[c] - 0.5 * log(var[c] + eps)).
pub fn log_det(shape: [usize; 4], log_gamma: &[f64], var: &[f64]) -> f64 {
    let per_pixel: f64 = log_gamma
        .iter()
        .zip(var)
        .map(|(lg, v)| lg - 0.5 * (v + EPS).ln())
        .sum();
    (shape[2] * shape[3]) as f64 * per_pixel
}

/// x = (y - beta) * exp(-log_gamma) * sqrt(var + eps) + mean.
pub fn flow_inverse(
    y: &[f64],
    shape: [usize; 4],
    log_gamma: &[f64],
    beta: &[f64],
    s: &Stats,
) -> Vec<f64> {
    let mut x = vec![0.0; y.len()];
    for c in 0..shape[1] {
        let factor = (-log_gamma[c]).exp() * (s.var[c] + EPS).sqrt();
        for i in channel(shape, c) {
            x[i] = (y[i] - beta[c]) * factor + s.mean[c];
        }
    }
    x
}

/// (1 - momentum) * running + momentum * batch, elementwise.
pub fn update_running(running: &[f64], batch: &[f64]) -> Vec<f64> {
    running
        .iter()
        .zip(batch)
        .map(|(r, b)| (1.0 - MOMENTUM) * r + MOMENTUM * b)
        .collect()
}

/// Gradients of `normalize` with factor gamma given dy; in training (`train`) the stats
/// are x's own and dx goes through them too. dscale is d/dgamma.
fn normalize_backward(
    x: &[f64],
    shape: [usize; 4],
    dy: &[f64],
    gamma: &[f64],
    s: &Stats,
    train: bool,
) -> Grads {
    let m = count(shape);
    let channels = shape[1];
    let mut g = Grads {
        dx: vec![0.0; x.len()],
        dscale: vec![0.0; channels],
        dshift: vec![0.0; channels],
    };
    for (c, &gc) in gamma.iter().enumerate() {
        let rstd = 1.0 / (s.var[c] + EPS).sqrt();
        let xhat = |i: usize| (x[i] - s.mean[c]) * rstd;
        let sum_dy: f64 = channel(shape, c).map(|i| dy[i]).sum();
        let sum_dy_xhat: f64 = channel(shape, c).map(|i| dy[i] * xhat(i)).sum();
        g.dscale[c] = sum_dy_xhat;
        g.dshift[c] = sum_dy;
        for i in channel(shape, c) {
            g.dx[i] = if train {
                gc * rstd / m * (m * dy[i] - sum_dy - xhat(i) * sum_dy_xhat)
            } else {
                gc * rstd * dy[i]
            };
        }
    }
    g
}

/// relu([`forward`]): the fused op's output and the stats used.
pub fn forward_relu(
    x: &[f64],
    shape: [usize; 4],
    weight: &[f64],
    bias: &[f64],
    fixed: Option<&Stats>,
) -> (Vec<f64>, Stats) {
    let (y, s) = forward(x, shape, weight, bias, fixed);
    (super::activation::relu(&y), s)
}

/// Gradients of [`forward`] given dy, or, when `relu_output` is given, of
/// [`forward_relu`] given dr (wrt its output r): dr through the ReLU's mask r > 0 (where
/// the normalized value is positive), then the batch norm's backward. `fixed` as in the
/// forward.
pub fn backward(
    x: &[f64],
    shape: [usize; 4],
    relu_output: Option<&[f64]>,
    dy: &[f64],
    weight: &[f64],
    fixed: Option<&Stats>,
) -> Grads {
    let masked;
    let dy = match relu_output {
        Some(r) => {
            masked = super::activation::relu_backward(r, dy);
            &masked
        }
        None => dy,
    };
    let s = stats_for(x, shape, fixed);
    normalize_backward(x, shape, dy, weight, &s, fixed.is_none())
}

/// Gradients of [`flow_forward`] given dy and dlogdet (the loss gradient wrt each
/// sample's log-det), with S = sum dlogdet: the log-det adds S*H*W to dlog_gamma and,
/// in training, -S*H*W * (x - mean) / ((var + eps) * M) to dx through the variance.
pub fn flow_backward(
    x: &[f64],
    shape: [usize; 4],
    dy: &[f64],
    dlogdet: &[f64],
    log_gamma: &[f64],
    fixed: Option<&Stats>,
) -> Grads {
    let s = stats_for(x, shape, fixed);
    let gamma = exp(log_gamma);
    let mut g = normalize_backward(x, shape, dy, &gamma, &s, fixed.is_none());
    let per_log_gamma = dlogdet.iter().sum::<f64>() * (shape[2] * shape[3]) as f64;
    for (c, &gc) in gamma.iter().enumerate() {
        g.dscale[c] = g.dscale[c] * gc + per_log_gamma;
        if fixed.is_none() {
            let coeff = -per_log_gamma / ((s.var[c] + EPS) * count(shape));
            for i in channel(shape, c) {
                g.dx[i] += coeff * (x[i] - s.mean[c]);
            }
        }
    }
    g
}
