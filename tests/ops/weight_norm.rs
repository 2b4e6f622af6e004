use realnvp::check::{assert_close, assert_gradient, dot, narrow};
use realnvp::cpu::weight_norm as cpu;
use realnvp::ops::weight_norm;
use realnvp::runtime::VIEW_ALIGN;
use realnvp::{Gpu, Tensor};

use crate::common::*;

/// Conv weight shapes [O, I, kh, kw]: a single weight, odd sizes, 1x1 kernels, and rows
/// longer than the model's longest (64 * 3 * 3 = 576).
const SHAPES: &[[usize; 4]] = &[[1, 1, 1, 1], [5, 3, 3, 3], [13, 7, 1, 1], [8, 67, 3, 3]];

/// v and g as views into one arena, v at a nonzero offset, as parameters live in training.
fn arena_views(gpu: &Gpu, shape: [usize; 4], v: &[f64], g: &[f64]) -> (Tensor, Tensor) {
    let g_start = (VIEW_ALIGN + v.len()).div_ceil(VIEW_ALIGN) * VIEW_ALIGN;
    let arena = gpu.empty([g_start + g.len()]).unwrap();
    let vt = arena.view(VIEW_ALIGN, shape).unwrap();
    let gt = arena.view(g_start, [g.len()]).unwrap();
    gpu.write(&vt, &narrow(v)).unwrap();
    gpu.write(&gt, &narrow(g)).unwrap();
    (vt, gt)
}

fn plus(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(p, q)| p + q).collect()
}

#[test]
fn weight_norm_forward_backward_match_cpu() {
    let gpu = gpu();
    let mut r = rng(30);
    for &shape in SHAPES {
        let (o, numel) = (shape[0], shape.iter().product());
        let v = f32_exact(uniform(&mut r, numel, 1.0));
        let g = f32_exact(uniform(&mut r, o, 2.0));
        let dw = f32_exact(uniform(&mut r, numel, 1.0));
        let dv_prior = f32_exact(uniform(&mut r, numel, 1.0));
        let dg_prior = f32_exact(uniform(&mut r, o, 1.0));
        let (vt, gt) = arena_views(&gpu, shape, &v, &g);
        let (dvt, dgt) = arena_views(&gpu, shape, &dv_prior, &dg_prior);
        let (w, dwt) = (gpu.empty(shape).unwrap(), upload(&gpu, shape, &dw));
        let fwd = weight_norm::forward(&gpu, &vt, &gt, &w).unwrap();
        let bwd = weight_norm::backward(&gpu, &vt, &gt, &dwt, &dvt, &dgt).unwrap();
        gpu.run(|p| {
            fwd.encode(p);
            bwd.encode(p);
        });
        // f32 sums over rows of up to 603 terms.
        assert_close(
            &format!("weight_norm {shape:?} w"),
            &download(&gpu, &w),
            &cpu::forward(&v, &g),
            1e-6,
            1e-5,
        );
        let (want_dv, want_dg) = cpu::backward(&v, &g, &dw);
        assert_close(
            &format!("weight_norm {shape:?} dv (added)"),
            &download(&gpu, &dvt),
            &plus(&dv_prior, &want_dv),
            1e-6,
            1e-5,
        );
        assert_close(
            &format!("weight_norm {shape:?} dg (added)"),
            &download(&gpu, &dgt),
            &plus(&dg_prior, &want_dg),
            1e-6,
            1e-5,
        );
    }
}

#[test]
fn weight_norm_cpu_backward_matches_finite_differences() {
    let mut r = rng(31);
    for shape in [[1, 1, 1, 1], [4, 3, 3, 3]] {
        let (o, numel) = (shape[0], shape.iter().product());
        let v = uniform(&mut r, numel, 1.0);
        let g = uniform(&mut r, o, 2.0);
        let dw = uniform(&mut r, numel, 1.0);
        let (dv, dg) = cpu::backward(&v, &g, &dw);
        assert_gradient(
            "weight_norm dv",
            &|v| dot(&cpu::forward(v, &g), &dw),
            &v,
            &dv,
            None,
        );
        assert_gradient(
            "weight_norm dg",
            &|g| dot(&cpu::forward(&v, g), &dw),
            &g,
            &dg,
            None,
        );
    }
}

#[test]
fn weight_norm_wrong_shapes_are_errors_naming_the_op() {
    let gpu = gpu();
    let v = gpu.zeros([4, 3, 3, 3]).unwrap();
    let g = gpu.zeros([4]).unwrap();
    let w = gpu.zeros([4, 3, 3, 3]).unwrap();
    let err = |r: realnvp::Result<realnvp::ops::Op>| r.err().expect("must fail").to_string();

    let flat = gpu.zeros([4, 27]).unwrap();
    let e = err(weight_norm::forward(&gpu, &flat, &g, &w));
    assert!(e.contains("weight_norm") && e.contains("[4, 27]"), "{e}");
    let g5 = gpu.zeros([5]).unwrap();
    let e = err(weight_norm::forward(&gpu, &v, &g5, &w));
    assert!(e.contains("weight_norm") && e.contains("[5]"), "{e}");
    let w_bad = gpu.zeros([4, 3, 3, 1]).unwrap();
    let e = err(weight_norm::forward(&gpu, &v, &g, &w_bad));
    assert!(
        e.contains("weight_norm") && e.contains("[4, 3, 3, 1]"),
        "{e}"
    );

    let dg = gpu.zeros([4]).unwrap();
    let e = err(weight_norm::backward(&gpu, &v, &g, &w_bad, &w, &dg));
    assert!(
        e.contains("weight_norm_backward") && e.contains("[4, 3, 3, 1]"),
        "{e}"
    );
    let e = err(weight_norm::backward(&gpu, &v, &g, &w, &v, &dg));
    assert!(
        e.contains("weight_norm_backward") && e.contains("shares its buffer"),
        "{e}"
    );
    // Disjoint views of one arena, read (dw) and written (dv) by one dispatch: wgpu
    // would abort, so the builder refuses.
    let arena = gpu.zeros([3 * VIEW_ALIGN]).unwrap();
    let dw_view = arena.view(0, [4, 3, 3, 1]).unwrap();
    let dv_view = arena.view(VIEW_ALIGN, [4, 3, 3, 1]).unwrap();
    let v_small = gpu.zeros([4, 3, 3, 1]).unwrap();
    let e = err(weight_norm::backward(
        &gpu, &v_small, &g, &dw_view, &dv_view, &dg,
    ));
    assert!(
        e.contains("weight_norm_backward") && e.contains("shares its buffer"),
        "{e}"
    );
}
