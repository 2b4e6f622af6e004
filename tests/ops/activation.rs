use realnvp::check::{assert_close, assert_gradient, dot};
use realnvp::cpu::activation as cpu;
use realnvp::ops::{GradMode, activation};

use crate::common::*;

/// The ReLU's twin (the GPU's ReLU is fused into the batch norm, whose tests compare
/// with these): its backward against finite differences.
#[test]
fn cpu_relu_backward_matches_finite_differences() {
    let mut r = rng(1);
    for &shape in ODD_SHAPES {
        let n = shape.iter().product();
        let x = f32_exact(uniform(&mut r, n, 2.0));
        let dy = f32_exact(uniform(&mut r, n, 1.0));
        let grad = cpu::relu_backward(&x, &dy);
        assert_gradient("relu", &|x| dot(&cpu::relu(x), &dy), &x, &grad, None);
    }
}

#[test]
fn scale_tanh_matches_cpu_and_finite_differences() {
    let gpu = gpu();
    let mut r = rng(2);
    for &shape @ [_, c, h, w] in ODD_SHAPES {
        let n = shape.iter().product();
        let x = f32_exact(uniform(&mut r, n, 2.0));
        let s = f32_exact(uniform(&mut r, c, 1.5));
        let dy = f32_exact(uniform(&mut r, n, 1.0));
        let ds_prior = f32_exact(uniform(&mut r, c, 1.0));
        let (xt, st, dyt) = (
            upload(&gpu, shape, &x),
            upload(&gpu, [c], &s),
            upload(&gpu, shape, &dy),
        );
        let (y, dx, ds) = (
            gpu.empty(shape).unwrap(),
            gpu.empty(shape).unwrap(),
            upload(&gpu, [c], &ds_prior),
        );
        let fwd = activation::scale_tanh(&gpu, &xt, &st, &y).unwrap();
        let bwd = activation::scale_tanh_backward(&gpu, &xt, &st, &dyt, &dx, &ds, GradMode::Write)
            .unwrap();
        gpu.run(|p| {
            fwd.encode(p);
            bwd.encode(p);
        });
        let inner = h * w;
        assert_close(
            "scale_tanh forward",
            &download(&gpu, &y),
            &cpu::scale_tanh(&x, &s, inner),
            1e-6,
            1e-5,
        );
        let (want_dx, want_ds) = cpu::scale_tanh_backward(&x, &s, inner, &dy);
        assert_close("scale_tanh dx", &download(&gpu, &dx), &want_dx, 1e-6, 1e-5);
        let want_ds: Vec<f64> = want_ds.iter().zip(&ds_prior).map(|(a, b)| a + b).collect();
        assert_close(
            "scale_tanh dscale (accumulated)",
            &download(&gpu, &ds),
            &want_ds,
            1e-5,
            1e-5,
        );
        let (gx, gs) = cpu::scale_tanh_backward(&x, &s, inner, &dy);
        assert_gradient(
            "scale_tanh dx",
            &|x| dot(&cpu::scale_tanh(x, &s, inner), &dy),
            &x,
            &gx,
            None,
        );
        assert_gradient(
            "scale_tanh dscale",
            &|s| dot(&cpu::scale_tanh(&x, s, inner), &dy),
            &s,
            &gs,
            None,
        );
    }
}

#[test]
fn add_matches_cpu() {
    let gpu = gpu();
    let mut r = rng(3);
    // Sizes that are multiples of 4 take the vec4 kernel, the others the scalar one.
    let shapes = ODD_SHAPES.iter().copied().chain([[3, 4, 10, 10]]);
    for shape in shapes {
        let n = shape.iter().product();
        let (a, b) = (uniform(&mut r, n, 1.0), uniform(&mut r, n, 1.0));
        let (at, bt, y) = (
            upload(&gpu, shape, &a),
            upload(&gpu, shape, &b),
            gpu.empty(shape).unwrap(),
        );
        let op = activation::add(&gpu, &at, &bt, &y).unwrap();
        gpu.run(|p| op.encode(p));
        assert_close(
            &format!("add {shape:?}"),
            &download(&gpu, &y),
            &cpu::add(&f32_exact(a), &f32_exact(b)),
            1e-6,
            1e-6,
        );
    }
}

#[test]
fn wrong_shapes_are_errors_naming_the_op() {
    let gpu = gpu();
    let x = gpu.zeros([2, 3, 4, 4]).unwrap();
    let y = gpu.zeros([2, 3, 4, 5]).unwrap();
    let err = activation::add(&gpu, &x, &x, &y)
        .err()
        .expect("shape mismatch must fail")
        .to_string();
    assert!(err.contains("add") && err.contains("[2, 3, 4, 5]"), "{err}");
    let s = gpu.zeros([4]).unwrap();
    let err = activation::scale_tanh(&gpu, &x, &s, &x)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("scale_tanh") && err.contains("[3]"), "{err}");
    let (s3, ds3) = (gpu.zeros([3]).unwrap(), gpu.zeros([3]).unwrap());
    let err = activation::scale_tanh_backward(&gpu, &x, &s3, &x, &x, &ds3, GradMode::Write)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("scale_tanh_backward") && err.contains("shares its buffer"),
        "{err}"
    );
}
