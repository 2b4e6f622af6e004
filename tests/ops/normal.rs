use realnvp::check::{assert_close, assert_gradient, dot};
use realnvp::cpu::normal as cpu;
use realnvp::ops::{GradMode, normal};

use crate::common::*;

fn plus(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

/// More samples than one grid dimension holds (65535 workgroups) fold into y
/// (`per_sample::sample_grid`, shared by every per-sample sum).
#[test]
fn log_density_covers_samples_past_the_grid_limit() {
    let gpu = gpu();
    let samples = 65535 + 9;
    let z: Vec<f64> = (0..samples * 2).map(|i| (i % 7) as f64 * 0.5).collect();
    let (zt, logp) = (
        upload(&gpu, [samples, 2], &z),
        gpu.zeros([samples]).unwrap(),
    );
    let op = normal::log_density(&gpu, &zt, &logp).unwrap();
    gpu.run(|p| op.encode(p));
    assert_close(
        "normal log_density, folded grid",
        &download(&gpu, &logp),
        &cpu::log_density(&z, samples),
        1e-5,
        1e-6,
    );
}

#[test]
fn log_density_and_backward_match_cpu_and_finite_differences() {
    let gpu = gpu();
    let mut r = rng(20);
    for (k, &shape) in ODD_SHAPES.iter().enumerate() {
        let (samples, len) = (shape[0], shape.iter().product());
        let z = f32_exact(uniform(&mut r, len, 3.0));
        let logp_prior = f32_exact(uniform(&mut r, samples, 10.0));
        let dlogp = f32_exact(uniform(&mut r, samples, 1.0));
        let dz_prior = f32_exact(uniform(&mut r, len, 1.0));
        let mode = [GradMode::Write, GradMode::Accumulate][k % 2];
        let (zt, dlogpt) = (upload(&gpu, shape, &z), upload(&gpu, [samples], &dlogp));
        let logp = upload(&gpu, [samples], &logp_prior);
        let dz = upload(&gpu, shape, &dz_prior);
        let fwd = normal::log_density(&gpu, &zt, &logp).unwrap();
        let bwd = normal::log_density_backward(&gpu, &zt, &dlogpt, &dz, mode).unwrap();
        gpu.run(|p| {
            fwd.encode(p);
            bwd.encode(p);
        });
        assert_close(
            &format!("normal log_density {shape:?} (added)"),
            &download(&gpu, &logp),
            &plus(&cpu::log_density(&z, samples), &logp_prior),
            1e-5,
            1e-5,
        );
        let grad = cpu::log_density_backward(&z, samples, &dlogp);
        let want = match mode {
            GradMode::Write => grad.clone(),
            GradMode::Accumulate => plus(&grad, &dz_prior),
        };
        assert_close(
            &format!("normal backward {shape:?} {mode:?}"),
            &download(&gpu, &dz),
            &want,
            1e-6,
            1e-6,
        );
        assert_gradient(
            "normal log_density dz",
            &|z| dot(&cpu::log_density(z, samples), &dlogp),
            &z,
            &grad,
            None,
        );
    }
}

/// The prior of a multi-scale flow: latents of several scales add into one logp.
#[test]
fn latents_of_several_scales_add_into_one_logp() {
    let gpu = gpu();
    let mut r = rng(21);
    let (z1, z2) = (
        f32_exact(uniform(&mut r, 2 * 2 * 6 * 6, 2.0)),
        f32_exact(uniform(&mut r, 2 * 8 * 3 * 3, 2.0)),
    );
    let logp = gpu.zeros([2]).unwrap();
    let (z1t, z2t) = (
        upload(&gpu, [2, 2, 6, 6], &z1),
        upload(&gpu, [2, 8, 3, 3], &z2),
    );
    let ops = [
        normal::log_density(&gpu, &z1t, &logp).unwrap(),
        normal::log_density(&gpu, &z2t, &logp).unwrap(),
    ];
    gpu.run(|p| ops.iter().for_each(|op| op.encode(p)));
    let want = plus(&cpu::log_density(&z1, 2), &cpu::log_density(&z2, 2));
    assert_close(
        "logp of two scales",
        &download(&gpu, &logp),
        &want,
        1e-5,
        1e-5,
    );
}

#[test]
fn normal_rejects_wrong_shapes() {
    let gpu = gpu();
    let z = gpu.zeros([2, 3, 4, 4]).unwrap();
    let logp = gpu.zeros([3]).unwrap();
    let err = normal::log_density(&gpu, &z, &logp)
        .err()
        .expect("N mismatch must fail")
        .to_string();
    assert!(
        err.contains("normal_log_density") && err.contains("[2, 3, 4, 4]") && err.contains("[3]"),
        "{err}"
    );
    let dlogp = gpu.zeros([2]).unwrap();
    let dz = gpu.zeros([2, 3, 4, 5]).unwrap();
    let err = normal::log_density_backward(&gpu, &z, &dlogp, &dz, GradMode::Write)
        .err()
        .expect("dz shape mismatch must fail")
        .to_string();
    assert!(
        err.contains("normal_backward") && err.contains("[2, 3, 4, 5]"),
        "{err}"
    );
}
