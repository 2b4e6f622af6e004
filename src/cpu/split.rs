//! CPU twin of ops/split.rs.

/// (x[:, :c1], x[:, c1:]) for x of dims [N, C, H, W].
pub fn split(x: &[f64], [n, c, h, w]: [usize; 4], c1: usize) -> (Vec<f64>, Vec<f64>) {
    let plane = h * w;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for sample in x.chunks(c * plane).take(n) {
        a.extend_from_slice(&sample[..c1 * plane]);
        b.extend_from_slice(&sample[c1 * plane..]);
    }
    (a, b)
}

/// x = (a, b) along channels; `dims` are those of x.
pub fn concat(a: &[f64], b: &[f64], [n, c, h, w]: [usize; 4], c1: usize) -> Vec<f64> {
    let plane = h * w;
    let a_chunks = a.chunks(c1 * plane);
    let b_chunks = b.chunks((c - c1) * plane);
    let mut x = Vec::with_capacity(n * c * plane);
    for (sa, sb) in a_chunks.zip(b_chunks) {
        x.extend_from_slice(sa);
        x.extend_from_slice(sb);
    }
    x
}
