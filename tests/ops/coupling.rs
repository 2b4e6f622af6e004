use realnvp::check::{assert_close, assert_gradient, dot};
use realnvp::cpu::coupling as cpu;
use realnvp::ops::GradMode;
use realnvp::ops::coupling::{self, Mask};

use crate::common::*;

/// Every mask on ODD_SHAPES (odd H and W for the checkerboard; channels doubled for the
/// channel mask, which needs an even count).
fn cases() -> Vec<(Mask, [usize; 4])> {
    let mut cases = Vec::new();
    for &[n, c, h, w] in ODD_SHAPES {
        for arg in 0..2 {
            cases.push((Mask::Checkerboard { parity: arg }, [n, c, h, w]));
            cases.push((Mask::Channel { half: arg }, [n, 2 * c, h, w]));
        }
    }
    cases
}

fn st_shape(mask: Mask, [n, c, h, w]: [usize; 4]) -> [usize; 4] {
    mask.st_shape((n, c, h, w))
}

fn plus(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// Random x, and s, t as the network gives them (s bounded, as scale * tanh makes it).
fn inputs(r: &mut rand::rngs::StdRng, mask: Mask, shape: [usize; 4]) -> [Vec<f64>; 3] {
    let st_len = st_shape(mask, shape).iter().product();
    [
        f32_exact(uniform(r, shape.iter().product(), 2.0)),
        f32_exact(uniform(r, st_len, 1.5)),
        f32_exact(uniform(r, st_len, 1.0)),
    ]
}

#[test]
fn forward_matches_cpu_and_inverse_recovers_x() {
    let gpu = gpu();
    let mut r = rng(60);
    for (mask, shape) in cases() {
        let [x, s, t] = inputs(&mut r, mask, shape);
        let logdet_prior = f32_exact(uniform(&mut r, shape[0], 5.0));
        let st = st_shape(mask, shape);
        let (xt, stt, tt) = (
            upload(&gpu, shape, &x),
            upload(&gpu, st, &s),
            upload(&gpu, st, &t),
        );
        let (y, back) = (gpu.empty(shape).unwrap(), gpu.empty(shape).unwrap());
        let logdet = upload(&gpu, [shape[0]], &logdet_prior);
        let ops = [
            coupling::forward(&gpu, mask, &xt, &stt, &tt, &y, &logdet).unwrap(),
            coupling::inverse(&gpu, mask, &y, &stt, &tt, &back).unwrap(),
        ];
        gpu.run(|p| ops.iter().for_each(|op| op.encode(p)));
        let (want_y, want_logdet) = cpu::forward(mask, shape, &x, &s, &t);
        let case = format!("{mask:?} {shape:?}");
        assert_close(
            &format!("coupling y {case}"),
            &download(&gpu, &y),
            &want_y,
            1e-5,
            1e-5,
        );
        assert_close(
            &format!("coupling logdet {case} (added)"),
            &download(&gpu, &logdet),
            &plus(&want_logdet, &logdet_prior),
            1e-5,
            1e-5,
        );
        assert_close(
            &format!("coupling inverse(forward(x)) {case}"),
            &download(&gpu, &back),
            &x,
            1e-5,
            0.0,
        );
        assert_close(
            &format!("cpu coupling inverse(forward(x)) {case}"),
            &cpu::inverse(mask, shape, &want_y, &s, &t),
            &x,
            1e-12,
            0.0,
        );
    }
}

/// The trainer's order: the coupling's backward (dx written or added), then the network
/// input's gradient added into dx.
#[test]
fn backward_and_masked_input_match_cpu() {
    let gpu = gpu();
    let mut r = rng(61);
    for (k, (mask, shape)) in cases().into_iter().enumerate() {
        let [x, s, _] = inputs(&mut r, mask, shape);
        let st = st_shape(mask, shape);
        let (len, st_len) = (x.len(), s.len());
        let dy = f32_exact(uniform(&mut r, len, 1.0));
        let dlogdet = f32_exact(uniform(&mut r, shape[0], 1.0));
        let d_net_in = f32_exact(uniform(&mut r, st_len, 1.0));
        let dx_prior = f32_exact(uniform(&mut r, len, 1.0));
        // Stale values the kernels must overwrite (with zeros where nothing flows).
        let stale = vec![7.0; st_len];
        let mode = [GradMode::Write, GradMode::Accumulate][k % 2];
        let (xt, stt) = (upload(&gpu, shape, &x), upload(&gpu, st, &s));
        let (dyt, dlt) = (upload(&gpu, shape, &dy), upload(&gpu, [shape[0]], &dlogdet));
        let d_net_in_t = upload(&gpu, st, &d_net_in);
        let dx = upload(&gpu, shape, &dx_prior);
        let (ds, dt) = (upload(&gpu, st, &stale), upload(&gpu, st, &stale));
        let net_in = upload(&gpu, st, &stale);
        let ops = [
            coupling::masked_input(&gpu, mask, &xt, &net_in).unwrap(),
            coupling::backward(&gpu, mask, &xt, &stt, &dyt, &dlt, &dx, &ds, &dt, mode).unwrap(),
            coupling::masked_input_backward(&gpu, mask, &d_net_in_t, &dx).unwrap(),
        ];
        gpu.run(|p| ops.iter().for_each(|op| op.encode(p)));
        let case = format!("{mask:?} {shape:?} {mode:?}");
        assert_close(
            &format!("masked_input {case}"),
            &download(&gpu, &net_in),
            &cpu::masked_input(mask, shape, &x),
            0.0,
            0.0,
        );
        let (want_dx, want_ds, want_dt) = cpu::backward(mask, shape, &x, &s, &dy, &dlogdet);
        let mut want_dx = plus(
            &want_dx,
            &cpu::masked_input_backward(mask, shape, &d_net_in),
        );
        if mode == GradMode::Accumulate {
            want_dx = plus(&want_dx, &dx_prior);
        }
        assert_close(
            &format!("coupling dx {case}"),
            &download(&gpu, &dx),
            &want_dx,
            1e-5,
            1e-5,
        );
        assert_close(
            &format!("coupling ds {case}"),
            &download(&gpu, &ds),
            &want_ds,
            1e-5,
            1e-5,
        );
        assert_close(
            &format!("coupling dt {case}"),
            &download(&gpu, &dt),
            &want_dt,
            0.0,
            0.0,
        );
    }
}

#[test]
fn cpu_backward_matches_finite_differences() {
    let mut r = rng(62);
    let cases = [
        (Mask::Checkerboard { parity: 0 }, [2, 3, 3, 5]),
        (Mask::Checkerboard { parity: 1 }, [2, 3, 3, 5]),
        (Mask::Channel { half: 0 }, [2, 4, 3, 3]),
        (Mask::Channel { half: 1 }, [2, 4, 3, 3]),
    ];
    for (mask, shape) in cases {
        let [x, s, t] = inputs(&mut r, mask, shape);
        let dy = uniform(&mut r, x.len(), 1.0);
        let dlogdet = uniform(&mut r, shape[0], 1.0);
        let loss = |x: &[f64], s: &[f64], t: &[f64]| {
            let (y, logdet) = cpu::forward(mask, shape, x, s, t);
            dot(&y, &dy) + dot(&logdet, &dlogdet)
        };
        let (dx, ds, dt) = cpu::backward(mask, shape, &x, &s, &dy, &dlogdet);
        let case = format!("{mask:?} {shape:?}");
        assert_gradient(
            &format!("coupling dx {case}"),
            &|x| loss(x, &s, &t),
            &x,
            &dx,
            None,
        );
        assert_gradient(
            &format!("coupling ds {case}"),
            &|s| loss(&x, s, &t),
            &s,
            &ds,
            None,
        );
        assert_gradient(
            &format!("coupling dt {case}"),
            &|t| loss(&x, &s, t),
            &t,
            &dt,
            None,
        );
        let d_net_in = uniform(&mut r, s.len(), 1.0);
        assert_gradient(
            &format!("masked_input dx {case}"),
            &|x| dot(&cpu::masked_input(mask, shape, x), &d_net_in),
            &x,
            &cpu::masked_input_backward(mask, shape, &d_net_in),
            None,
        );
    }
}

fn error_of(result: realnvp::Result<realnvp::ops::Op>) -> String {
    result.err().expect("must be rejected").to_string()
}

#[test]
fn coupling_rejects_shapes_that_do_not_fit_the_mask() {
    let gpu = gpu();
    let z = |shape: [usize; 4]| gpu.zeros(shape).unwrap();
    let (x, y, logdet) = (z([2, 3, 4, 4]), z([2, 3, 4, 4]), gpu.zeros([2]).unwrap());
    let board = Mask::Checkerboard { parity: 0 };

    let s = z([2, 2, 4, 4]);
    let err = error_of(coupling::forward(&gpu, board, &x, &s, &s, &y, &logdet));
    assert!(
        err.contains("coupling_forward")
            && err.contains("[2, 2, 4, 4]")
            && err.contains("[2, 3, 4, 4]"),
        "{err}"
    );

    let full = z([2, 3, 4, 4]);
    let wrong_n = gpu.zeros([3]).unwrap();
    let err = error_of(coupling::forward(
        &gpu, board, &x, &full, &full, &y, &wrong_n,
    ));
    assert!(
        err.contains("coupling_forward") && err.contains("[3]"),
        "{err}"
    );

    let err = error_of(coupling::forward(
        &gpu,
        Mask::Channel { half: 1 },
        &x,
        &full,
        &full,
        &y,
        &logdet,
    ));
    assert!(
        err.contains("coupling_forward") && err.contains("even"),
        "{err}"
    );

    let (x4, y4, s4) = (z([2, 4, 4, 4]), z([2, 4, 4, 4]), z([2, 4, 4, 4]));
    let err = error_of(coupling::inverse(
        &gpu,
        Mask::Channel { half: 0 },
        &y4,
        &s4,
        &s4,
        &x4,
    ));
    assert!(
        err.contains("coupling_inverse")
            && err.contains("[2, 2, 4, 4]")
            && err.contains("[2, 4, 4, 4]"),
        "{err}"
    );

    let err = error_of(coupling::forward(
        &gpu,
        Mask::Checkerboard { parity: 2 },
        &x,
        &full,
        &full,
        &y,
        &logdet,
    ));
    assert!(
        err.contains("coupling_forward") && err.contains("parity: 2"),
        "{err}"
    );

    let (dy, dx, ds, dt) = (
        z([2, 3, 4, 4]),
        z([2, 3, 4, 4]),
        z([2, 3, 4, 4]),
        z([2, 3, 4, 4]),
    );
    let err = error_of(coupling::backward(
        &gpu,
        board,
        &x,
        &full,
        &dy,
        &wrong_n,
        &dx,
        &ds,
        &dt,
        GradMode::Write,
    ));
    assert!(
        err.contains("coupling_backward") && err.contains("dlogdet"),
        "{err}"
    );

    let half = z([2, 2, 4, 4]);
    let err = error_of(coupling::masked_input(
        &gpu,
        Mask::Channel { half: 1 },
        &x4,
        &s4,
    ));
    assert!(
        err.contains("masked_input") && err.contains("[2, 4, 4, 4]"),
        "{err}"
    );
    let err = error_of(coupling::masked_input_backward(&gpu, board, &half, &dx));
    assert!(
        err.contains("masked_input_backward") && err.contains("[2, 2, 4, 4]"),
        "{err}"
    );
}
