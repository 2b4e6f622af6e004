use realnvp::check::assert_close;
use realnvp::cpu::reduce as cpu;
use realnvp::ops::reduce;
use realnvp::runtime::VIEW_ALIGN;

use crate::common::*;

/// Each shape with its per-sample size: one element, fewer than a workgroup, the odd
/// shapes, and more than a workgroup's worth of strides (816 elements).
fn shapes() -> Vec<Vec<usize>> {
    let mut shapes: Vec<Vec<usize>> = ODD_SHAPES.iter().map(|s| s.to_vec()).collect();
    shapes.extend([vec![5], vec![4, 37], vec![2, 3, 16, 17]]);
    shapes
}

#[test]
fn sum_per_sample_adds_each_samples_sum() {
    let gpu = gpu();
    let mut r = rng(10);
    for shape in shapes() {
        let (samples, len) = (shape[0], shape.iter().product());
        let x = f32_exact(uniform(&mut r, len, 1.0));
        let prior = f32_exact(uniform(&mut r, samples, 1.0));
        // x sits at an offset inside a bigger buffer, as parameter views do.
        let arena = gpu.zeros([VIEW_ALIGN + len]).unwrap();
        let xt = arena.view(VIEW_ALIGN, shape.as_slice()).unwrap();
        gpu.write(&xt, &realnvp::check::narrow(&x)).unwrap();
        let out = upload(&gpu, [samples], &prior);
        let op = reduce::sum_per_sample(&gpu, &xt, &out).unwrap();
        gpu.run(|p| op.encode(p));
        let want: Vec<f64> = cpu::sum_per_sample(&x, samples)
            .iter()
            .zip(&prior)
            .map(|(s, p)| s + p)
            .collect();
        assert_close(
            &format!("sum_per_sample {shape:?}"),
            &download(&gpu, &out),
            &want,
            1e-5,
            1e-5,
        );
    }
}

/// More samples than one grid dimension holds (65535 workgroups) folds into y.
#[test]
fn sum_per_sample_covers_samples_past_the_grid_limit() {
    let gpu = gpu();
    let samples = 65535 + 9;
    let x: Vec<f64> = (0..samples * 2).map(|i| (i % 7) as f64).collect();
    let (xt, out) = (
        upload(&gpu, [samples, 2], &x),
        gpu.zeros([samples]).unwrap(),
    );
    let op = reduce::sum_per_sample(&gpu, &xt, &out).unwrap();
    gpu.run(|p| op.encode(p));
    assert_close(
        "sum_per_sample, folded grid",
        &download(&gpu, &out),
        &cpu::sum_per_sample(&x, samples),
        0.0,
        0.0,
    );
}

#[test]
fn sum_per_sample_rejects_a_wrong_output_shape() {
    let gpu = gpu();
    let x = gpu.zeros([3, 2, 5, 5]).unwrap();
    let out = gpu.zeros([4]).unwrap();
    let err = reduce::sum_per_sample(&gpu, &x, &out)
        .err()
        .expect("N mismatch must fail")
        .to_string();
    assert!(
        err.contains("sum_per_sample") && err.contains("[3, 2, 5, 5]") && err.contains("[4]"),
        "{err}"
    );
}
