//! CPU twin of ops/conv2d/: the textbook loops, f64.

use crate::ops::conv2d::ConvShape;

/// Input value at (n, c, h + dh, w + dw), zero outside the image.
fn padded(x: &[f64], s: &ConvShape, ch: usize, n: usize, c: usize, h: isize, w: isize) -> f64 {
    if h < 0 || w < 0 || h >= s.h as isize || w >= s.w as isize {
        return 0.0;
    }
    x[((n * ch + c) * s.h + h as usize) * s.w + w as usize]
}

/// y[n, o, h, w] = bias[o] + sum_{i, kh, kw} weight[o, i, kh, kw] x[n, i, h + kh - pad, w + kw - pad].
pub fn forward(x: &[f64], weight: &[f64], bias: Option<&[f64]>, s: &ConvShape) -> Vec<f64> {
    let pad = (s.k / 2) as isize;
    let mut y = vec![0.0; s.n * s.cout * s.h * s.w];
    for n in 0..s.n {
        for o in 0..s.cout {
            for h in 0..s.h {
                for w in 0..s.w {
                    let mut acc = bias.map_or(0.0, |b| b[o]);
                    for i in 0..s.cin {
                        for kh in 0..s.k {
                            for kw in 0..s.k {
                                let xv = padded(
                                    x,
                                    s,
                                    s.cin,
                                    n,
                                    i,
                                    (h + kh) as isize - pad,
                                    (w + kw) as isize - pad,
                                );
                                acc += weight[((o * s.cin + i) * s.k + kh) * s.k + kw] * xv;
                            }
                        }
                    }
                    y[((n * s.cout + o) * s.h + h) * s.w + w] = acc;
                }
            }
        }
    }
    y
}

/// (dx, dweight, dbias) of [`forward`] for output gradient dy.
pub fn backward(
    x: &[f64],
    weight: &[f64],
    dy: &[f64],
    s: &ConvShape,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let pad = (s.k / 2) as isize;
    let mut dx = vec![0.0; x.len()];
    let mut dw = vec![0.0; weight.len()];
    let mut db = vec![0.0; s.cout];
    for n in 0..s.n {
        for o in 0..s.cout {
            for h in 0..s.h {
                for w in 0..s.w {
                    let g = dy[((n * s.cout + o) * s.h + h) * s.w + w];
                    db[o] += g;
                    for i in 0..s.cin {
                        for kh in 0..s.k {
                            for kw in 0..s.k {
                                let (hi, wi) = ((h + kh) as isize - pad, (w + kw) as isize - pad);
                                if hi < 0 || wi < 0 || hi >= s.h as isize || wi >= s.w as isize {
                                    continue;
                                }
                                let xi = ((n * s.cin + i) * s.h + hi as usize) * s.w + wi as usize;
                                let wi_ = ((o * s.cin + i) * s.k + kh) * s.k + kw;
                                dw[wi_] += g * x[xi];
                                dx[xi] += g * weight[wi_];
                            }
                        }
                    }
                }
            }
        }
    }
    (dx, dw, db)
}
