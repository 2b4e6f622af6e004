//! CPU twin of ops/squeeze.rs, written from PyTorch's definition of pixel_unshuffle.

/// y[n, c*4 + 2*i + j, h, w] = x[n, c, 2*h + i, 2*w + j] for x of dims [N, C, H, W].
pub fn squeeze(x: &[f64], [n, c, h, w]: [usize; 4]) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for (x_index, y_index) in squeeze_pairs([n, c, h, w]) {
        y[y_index] = x[x_index];
    }
    y
}

/// The inverse of [`squeeze`]; `dims` are those of x.
pub fn unsqueeze(y: &[f64], dims: [usize; 4]) -> Vec<f64> {
    let mut x = vec![0.0; y.len()];
    for (x_index, y_index) in squeeze_pairs(dims) {
        x[x_index] = y[y_index];
    }
    x
}

/// (flat index in x, flat index in y) for every element, walking y's coordinates.
fn squeeze_pairs([n, c, h, w]: [usize; 4]) -> Vec<(usize, usize)> {
    let (ho, wo) = (h / 2, w / 2);
    let mut pairs = Vec::with_capacity(n * c * h * w);
    for ni in 0..n {
        for ci in 0..c {
            for i in 0..2 {
                for j in 0..2 {
                    let co = ci * 4 + 2 * i + j;
                    for hi in 0..ho {
                        for wi in 0..wo {
                            let x_index = ((ni * c + ci) * h + 2 * hi + i) * w + 2 * wi + j;
                            let y_index = ((ni * 4 * c + co) * ho + hi) * wo + wi;
                            pairs.push((x_index, y_index));
                        }
                    }
                }
            }
        }
    }
    pairs
}
