//! CPU twin of ops/coupling.rs.

use crate::ops::coupling::Mask;

/// Calls `f(sample, i, kept, j)` for every element of x of dims [N, C, H, W]: its sample,
/// its flat index i in x, whether the mask keeps it, and its flat index j in the tensors
/// of its part (s and t when transformed, the network input when kept).
fn each_element(
    mask: Mask,
    [n, c, h, w]: [usize; 4],
    mut f: impl FnMut(usize, usize, bool, usize),
) {
    let part_channels = mask.st_shape((n, c, h, w))[1];
    for sample in 0..n {
        for ci in 0..c {
            for hi in 0..h {
                for wi in 0..w {
                    let (kept, part_channel) = match mask {
                        Mask::Checkerboard { parity } => ((hi + wi) % 2 == parity as usize, ci),
                        // Channels c/2.. form the second half (half 1); the other is kept.
                        Mask::Channel { half } => ((ci >= c / 2) as u32 != half, ci % (c / 2)),
                    };
                    let i = ((sample * c + ci) * h + hi) * w + wi;
                    let j = ((sample * part_channels + part_channel) * h + hi) * w + wi;
                    f(sample, i, kept, j);
                }
            }
        }
    }
}

fn st_len(mask: Mask, [n, c, h, w]: [usize; 4]) -> usize {
    mask.st_shape((n, c, h, w)).iter().product()
}

/// (y, logdet): y = x where kept, x * exp(s) + t where transformed; logdet per sample is
/// the sum of s over the transformed elements.
pub fn forward(
    mask: Mask,
    dims: [usize; 4],
    x: &[f64],
    s: &[f64],
    t: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let mut y = vec![0.0; x.len()];
    let mut logdet = vec![0.0; dims[0]];
    each_element(mask, dims, |sample, i, kept, j| {
        if kept {
            y[i] = x[i];
        } else {
            y[i] = x[i] * s[j].exp() + t[j];
            logdet[sample] += s[j];
        }
    });
    (y, logdet)
}

/// x = y where kept, (y - t) * exp(-s) where transformed.
pub fn inverse(mask: Mask, dims: [usize; 4], y: &[f64], s: &[f64], t: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; y.len()];
    each_element(mask, dims, |_, i, kept, j| {
        x[i] = if kept {
            y[i]
        } else {
            (y[i] - t[j]) * (-s[j]).exp()
        };
    });
    x
}

/// (dx, ds, dt) of [`forward`] for the loss dot(y, dy) + dot(logdet, dlogdet), holding
/// the network's input fixed (its path is [`masked_input_backward`]).
pub fn backward(
    mask: Mask,
    dims: [usize; 4],
    x: &[f64],
    s: &[f64],
    dy: &[f64],
    dlogdet: &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut dx = vec![0.0; x.len()];
    let mut ds = vec![0.0; st_len(mask, dims)];
    let mut dt = vec![0.0; st_len(mask, dims)];
    each_element(mask, dims, |sample, i, kept, j| {
        if kept {
            dx[i] = dy[i];
        } else {
            dx[i] = dy[i] * s[j].exp();
            ds[j] = dy[i] * x[i] * s[j].exp() + dlogdet[sample];
            dt[j] = dy[i];
        }
    });
    (dx, ds, dt)
}

/// The network's input: b * x (checkerboard) or the kept channel half (channel).
pub fn masked_input(mask: Mask, dims: [usize; 4], x: &[f64]) -> Vec<f64> {
    let mut net_in = vec![0.0; st_len(mask, dims)];
    each_element(mask, dims, |_, i, kept, j| {
        if kept {
            net_in[j] = x[i];
        }
    });
    net_in
}

/// Gradient with respect to x of dot(masked_input(x), d_net_in).
pub fn masked_input_backward(mask: Mask, dims: [usize; 4], d_net_in: &[f64]) -> Vec<f64> {
    let mut dx = vec![0.0; dims.iter().product()];
    each_element(mask, dims, |_, i, kept, j| {
        if kept {
            dx[i] = d_net_in[j];
        }
    });
    dx
}
