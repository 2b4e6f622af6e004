//! CPU twin of ops/weight_norm.rs. v is flat [rows, cols] with rows = g.len().

fn norm(row: &[f64]) -> f64 {
    row.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// w[o, k] = g[o] * v[o, k] / |v_o|.
pub fn forward(v: &[f64], g: &[f64]) -> Vec<f64> {
    let cols = v.len() / g.len();
    v.chunks(cols)
        .zip(g)
        .flat_map(|(row, &go)| {
            let n = norm(row);
            row.iter().map(move |&x| go * x / n)
        })
        .collect()
}

/// (dv, dg) of [`forward`] given dw: with d = sum_k dw[o, k] v[o, k],
/// dg[o] = d / |v_o| and dv[o, k] = g[o] / |v_o| * (dw[o, k] - d v[o, k] / |v_o|^2).
pub fn backward(v: &[f64], g: &[f64], dw: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let cols = v.len() / g.len();
    let mut dv = Vec::with_capacity(v.len());
    let mut dg = Vec::with_capacity(g.len());
    for ((row, drow), &go) in v.chunks(cols).zip(dw.chunks(cols)).zip(g) {
        let n = norm(row);
        let d: f64 = row.iter().zip(drow).map(|(x, dx)| x * dx).sum();
        dg.push(d / n);
        dv.extend(
            row.iter()
                .zip(drow)
                .map(|(&x, &dx)| go / n * (dx - d * x / (n * n))),
        );
    }
    (dv, dg)
}
