//! Comparing a GPU result with its CPU twin, and finite-difference gradients.
//! One helper for every op test and for the benchmark's self-check.

/// Outcome of [`compare`]: the largest differences and the first mismatches.
#[derive(Debug)]
pub struct Comparison {
    pub max_abs: f64,
    pub max_rel: f64,
    pub mismatches: usize,
    pub report: String,
}

/// Compares `got` with `want` elementwise: an element passes when
/// |got - want| <= atol + rtol * |want|. The report names `what`, the max
/// differences and up to 8 first mismatches with their indices.
pub fn compare(what: &str, got: &[f64], want: &[f64], atol: f64, rtol: f64) -> Comparison {
    let mut max_abs = 0f64;
    let mut max_rel = 0f64;
    let mut mismatches = 0;
    let mut first = Vec::new();
    if got.len() != want.len() {
        return Comparison {
            max_abs: f64::INFINITY,
            max_rel: f64::INFINITY,
            mismatches: got.len().max(want.len()),
            report: format!("{what}: length {} != expected {}", got.len(), want.len()),
        };
    }
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let d = (g - w).abs();
        let ok = d <= atol + rtol * w.abs();
        if d.is_finite() {
            max_abs = max_abs.max(d);
            max_rel = max_rel.max(d / w.abs().max(1e-30));
        } else {
            max_abs = f64::INFINITY;
        }
        if !ok || !g.is_finite() {
            mismatches += 1;
            if first.len() < 8 {
                first.push(format!("  [{i}] got {g:.9e} want {w:.9e} diff {d:.3e}"));
            }
        }
    }
    let report = format!(
        "{what}: {} values, {mismatches} mismatches (atol {atol:e}, rtol {rtol:e}), max abs diff {max_abs:.3e}, max rel diff {max_rel:.3e}{}{}",
        got.len(),
        if first.is_empty() { "" } else { "\n" },
        first.join("\n")
    );
    Comparison {
        max_abs,
        max_rel,
        mismatches,
        report,
    }
}

/// Panics with the report unless every element is within tolerance; prints the
/// report either way so a test log shows the margins.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], atol: f64, rtol: f64) {
    let c = compare(what, got, want, atol, rtol);
    println!("{}", c.report);
    assert!(c.mismatches == 0, "{}", c.report);
}

pub fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

pub fn narrow(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// Central finite differences of a scalar function at `x`, step `eps`, for the
/// coordinates in `indices` (all when `None`).
pub fn finite_difference(
    f: &dyn Fn(&[f64]) -> f64,
    x: &[f64],
    eps: f64,
    indices: Option<&[usize]>,
) -> Vec<(usize, f64)> {
    let all: Vec<usize>;
    let idx = match indices {
        Some(i) => i,
        None => {
            all = (0..x.len()).collect();
            &all
        }
    };
    let mut probe = x.to_vec();
    idx.iter()
        .map(|&i| {
            let orig = probe[i];
            probe[i] = orig + eps;
            let plus = f(&probe);
            probe[i] = orig - eps;
            let minus = f(&probe);
            probe[i] = orig;
            (i, (plus - minus) / (2.0 * eps))
        })
        .collect()
}

/// Checks an analytic gradient against central differences of `f` at `x`
/// (f64 throughout). Relative tolerance `rtol` against the larger magnitude, `atol`
/// for values near zero.
pub fn assert_gradient(
    what: &str,
    f: &dyn Fn(&[f64]) -> f64,
    x: &[f64],
    analytic: &[f64],
    indices: Option<&[usize]>,
) {
    let fd = finite_difference(f, x, 1e-6, indices);
    let got: Vec<f64> = fd.iter().map(|&(i, _)| analytic[i]).collect();
    let want: Vec<f64> = fd.iter().map(|&(_, g)| g).collect();
    assert_close(
        &format!("{what} (analytic vs finite differences)"),
        &got,
        &want,
        1e-6,
        1e-5,
    );
}

/// sum_i a_i * b_i, the scalar a gradient check differentiates: with `b` random, its
/// gradient with respect to the op's output is `b`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// log |det A| of an n x n row-major matrix, by LU decomposition with partial pivoting
/// in f64.
pub fn log_abs_det(n: usize, mut a: Vec<f64>) -> f64 {
    assert_eq!(a.len(), n * n, "log_abs_det needs an n x n matrix");
    let mut log_det = 0.0;
    for k in 0..n {
        let pivot = (k..n)
            .max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs()))
            .expect("k < n");
        if pivot != k {
            for j in 0..n {
                a.swap(k * n + j, pivot * n + j);
            }
        }
        let p = a[k * n + k];
        log_det += p.abs().ln();
        for i in k + 1..n {
            let f = a[i * n + k] / p;
            for j in k..n {
                a[i * n + j] -= f * a[k * n + j];
            }
        }
    }
    log_det
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_abs_det_of_known_matrices() {
        // det [[0, 2], [3, 1]] = -6: needs a pivot swap.
        assert!((log_abs_det(2, vec![0.0, 2.0, 3.0, 1.0]) - 6f64.ln()).abs() < 1e-12);
        let diag = vec![2.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, -4.0];
        assert!((log_abs_det(3, diag) - 4f64.ln()).abs() < 1e-12);
    }
}
