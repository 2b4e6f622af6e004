use realnvp::check::{assert_close, assert_gradient, dot};
use realnvp::cpu::split as cpu;
use realnvp::ops::split;

use crate::common::*;

/// Each shape with the channels of the first part: the factor-out half, and uneven cuts.
fn cases() -> Vec<([usize; 4], usize)> {
    let mut cases: Vec<([usize; 4], usize)> = ODD_SHAPES.iter().map(|&s| (s, 1)).collect();
    cases.extend([([2, 4, 8, 8], 2), ([2, 5, 13, 13], 4), ([1, 8, 3, 3], 4)]);
    cases
}

#[test]
fn split_and_concat_match_cpu_and_invert_each_other() {
    let gpu = gpu();
    let mut r = rng(50);
    for ([n, c, h, w], c1) in cases() {
        let shape = [n, c, h, w];
        let x = f32_exact(uniform(&mut r, shape.iter().product(), 1.0));
        let xt = upload(&gpu, shape, &x);
        let (a, b) = (
            gpu.empty([n, c1, h, w]).unwrap(),
            gpu.empty([n, c - c1, h, w]).unwrap(),
        );
        let back = gpu.empty(shape).unwrap();
        let ops = [
            split::split(&gpu, &xt, &a, &b).unwrap(),
            split::concat(&gpu, &a, &b, &back).unwrap(),
        ];
        gpu.run(|p| ops.iter().for_each(|op| op.encode(p)));
        let (want_a, want_b) = cpu::split(&x, shape, c1);
        assert_close(
            &format!("split a {shape:?}/{c1}"),
            &download(&gpu, &a),
            &want_a,
            0.0,
            0.0,
        );
        assert_close(
            &format!("split b {shape:?}/{c1}"),
            &download(&gpu, &b),
            &want_b,
            0.0,
            0.0,
        );
        assert_close(
            &format!("concat(split(x)) {shape:?}/{c1}"),
            &download(&gpu, &back),
            &x,
            0.0,
            0.0,
        );
        assert_close(
            &format!("cpu concat(split(x)) {shape:?}/{c1}"),
            &cpu::concat(&want_a, &want_b, shape, c1),
            &x,
            0.0,
            0.0,
        );
    }
}

/// The backward of split is concat of the parts' gradients, and the other way round.
#[test]
fn each_direction_is_the_others_backward() {
    let gpu = gpu();
    let mut r = rng(51);
    let (shape, c1) = ([2, 5, 3, 4], 2);
    let (a_shape, b_shape) = ([2, 2, 3, 4], [2, 3, 3, 4]);
    let (a_len, len) = (2 * 2 * 3 * 4, 2 * 5 * 3 * 4);
    // Both maps are linear, so any point will do; g_* are the gradients at the outputs.
    let point = uniform(&mut r, len, 1.0);
    let g_a = f32_exact(uniform(&mut r, a_len, 1.0));
    let g_b = f32_exact(uniform(&mut r, len - a_len, 1.0));
    let g_x = f32_exact(uniform(&mut r, len, 1.0));
    let (g_at, g_bt) = (upload(&gpu, a_shape, &g_a), upload(&gpu, b_shape, &g_b));
    let g_xt = upload(&gpu, shape, &g_x);
    let dx = gpu.empty(shape).unwrap();
    let (da, db) = (gpu.empty(a_shape).unwrap(), gpu.empty(b_shape).unwrap());
    let ops = [
        split::concat(&gpu, &g_at, &g_bt, &dx).unwrap(),
        split::split(&gpu, &g_xt, &da, &db).unwrap(),
    ];
    gpu.run(|p| ops.iter().for_each(|op| op.encode(p)));
    let split_loss = |x: &[f64]| {
        let (a, b) = cpu::split(x, shape, c1);
        dot(&a, &g_a) + dot(&b, &g_b)
    };
    assert_gradient(
        "split's backward = concat",
        &split_loss,
        &point,
        &download(&gpu, &dx),
        None,
    );
    // concat as a function of a and b laid end to end.
    let concat_loss = |ab: &[f64]| dot(&cpu::concat(&ab[..a_len], &ab[a_len..], shape, c1), &g_x);
    let mut d_ab = download(&gpu, &da);
    d_ab.extend(download(&gpu, &db));
    assert_gradient(
        "concat's backward = split",
        &concat_loss,
        &point,
        &d_ab,
        None,
    );
}

#[test]
fn split_rejects_parts_that_do_not_fit() {
    let gpu = gpu();
    let x = gpu.zeros([2, 4, 5, 5]).unwrap();
    let a = gpu.zeros([2, 2, 5, 5]).unwrap();
    let b = gpu.zeros([2, 3, 5, 5]).unwrap();
    let err = split::split(&gpu, &x, &a, &b)
        .err()
        .expect("channel counts that do not add up must fail")
        .to_string();
    assert!(
        err.contains("split") && err.contains("[2, 4, 5, 5]") && err.contains("[2, 3, 5, 5]"),
        "{err}"
    );
    let empty_b = gpu.zeros([2, 4, 5, 5]).unwrap();
    let whole_a = gpu.zeros([2, 4, 5, 5]).unwrap();
    let err = split::concat(&gpu, &whole_a, &empty_b, &x)
        .err()
        .expect("C1 = C must fail")
        .to_string();
    assert!(err.contains("concat"), "{err}");
}
