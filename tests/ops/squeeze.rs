use realnvp::check::{assert_close, assert_gradient, dot};
use realnvp::cpu::squeeze as cpu;
use realnvp::ops::squeeze;

use crate::common::*;

/// ODD_SHAPES with H and W doubled (squeeze needs them even), plus H != W.
fn shapes() -> Vec<[usize; 4]> {
    let mut shapes: Vec<[usize; 4]> = ODD_SHAPES
        .iter()
        .map(|&[n, c, h, w]| [n, c, 2 * h, 2 * w])
        .collect();
    shapes.push([2, 1, 6, 10]);
    shapes
}

fn squeezed([n, c, h, w]: [usize; 4]) -> [usize; 4] {
    [n, 4 * c, h / 2, w / 2]
}

/// torch.nn.functional.pixel_unshuffle(torch.arange(16.).reshape(1, 1, 4, 4), 2).
#[test]
fn squeeze_is_pytorch_pixel_unshuffle() {
    let gpu = gpu();
    let x: Vec<f64> = (0..16).map(f64::from).collect();
    let want = [
        0., 2., 8., 10., 1., 3., 9., 11., 4., 6., 12., 14., 5., 7., 13., 15.,
    ];
    assert_close(
        "cpu squeeze vs pytorch",
        &cpu::squeeze(&x, [1, 1, 4, 4]),
        &want,
        0.0,
        0.0,
    );
    let (xt, y) = (
        upload(&gpu, [1, 1, 4, 4], &x),
        gpu.empty([1, 4, 2, 2]).unwrap(),
    );
    let op = squeeze::squeeze(&gpu, &xt, &y).unwrap();
    gpu.run(|p| op.encode(p));
    assert_close(
        "gpu squeeze vs pytorch",
        &download(&gpu, &y),
        &want,
        0.0,
        0.0,
    );
}

#[test]
fn squeeze_and_unsqueeze_match_cpu_and_invert_each_other() {
    let gpu = gpu();
    let mut r = rng(40);
    for shape in shapes() {
        let x = f32_exact(uniform(&mut r, shape.iter().product(), 1.0));
        let xt = upload(&gpu, shape, &x);
        let (y, back) = (
            gpu.empty(squeezed(shape)).unwrap(),
            gpu.empty(shape).unwrap(),
        );
        let fwd = squeeze::squeeze(&gpu, &xt, &y).unwrap();
        let inv = squeeze::unsqueeze(&gpu, &y, &back).unwrap();
        gpu.run(|p| {
            fwd.encode(p);
            inv.encode(p);
        });
        let want = cpu::squeeze(&x, shape);
        assert_close(
            &format!("squeeze {shape:?}"),
            &download(&gpu, &y),
            &want,
            0.0,
            0.0,
        );
        assert_close(
            &format!("unsqueeze(squeeze(x)) {shape:?}"),
            &download(&gpu, &back),
            &x,
            0.0,
            0.0,
        );
        assert_close(
            &format!("cpu unsqueeze(squeeze(x)) {shape:?}"),
            &cpu::unsqueeze(&want, shape),
            &x,
            0.0,
            0.0,
        );
    }
}

/// The backward of squeeze is unsqueeze of the gradient, and the other way round.
#[test]
fn each_direction_is_the_others_backward() {
    let gpu = gpu();
    let mut r = rng(41);
    let shape = [2, 3, 6, 4];
    let len = shape.iter().product();
    // Both maps are linear, so any point will do; g is the gradient at the output.
    let point = uniform(&mut r, len, 1.0);
    let g = f32_exact(uniform(&mut r, len, 1.0));
    let (g_squeezed, g_plain) = (upload(&gpu, squeezed(shape), &g), upload(&gpu, shape, &g));
    let (dx, dy) = (
        gpu.empty(shape).unwrap(),
        gpu.empty(squeezed(shape)).unwrap(),
    );
    let ops = [
        squeeze::unsqueeze(&gpu, &g_squeezed, &dx).unwrap(),
        squeeze::squeeze(&gpu, &g_plain, &dy).unwrap(),
    ];
    gpu.run(|p| ops.iter().for_each(|op| op.encode(p)));
    assert_gradient(
        "squeeze's backward = unsqueeze",
        &|x| dot(&cpu::squeeze(x, shape), &g),
        &point,
        &download(&gpu, &dx),
        None,
    );
    assert_gradient(
        "unsqueeze's backward = squeeze",
        &|y| dot(&cpu::unsqueeze(y, shape), &g),
        &point,
        &download(&gpu, &dy),
        None,
    );
}

#[test]
fn squeeze_rejects_odd_sizes_and_wrong_outputs() {
    let gpu = gpu();
    let x = gpu.zeros([2, 3, 7, 8]).unwrap();
    let y = gpu.zeros([2, 12, 3, 4]).unwrap();
    let err = squeeze::squeeze(&gpu, &x, &y)
        .err()
        .expect("odd H must fail")
        .to_string();
    assert!(
        err.contains("squeeze") && err.contains("[2, 3, 7, 8]") && err.contains("even"),
        "{err}"
    );
    let x = gpu.zeros([2, 3, 8, 8]).unwrap();
    let err = squeeze::unsqueeze(&gpu, &y, &x)
        .err()
        .expect("y shape mismatch must fail")
        .to_string();
    assert!(
        err.contains("unsqueeze") && err.contains("[2, 12, 4, 4]") && err.contains("[2, 12, 3, 4]"),
        "{err}"
    );
}
