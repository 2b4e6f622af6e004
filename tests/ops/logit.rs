use realnvp::check::assert_close;
use realnvp::cpu::logit as cpu;
use realnvp::ops::logit;

use crate::common::*;

/// Integer pixel values 0..=255 (as f32 holds them) and noise u in [0, 1), rounded to f32.
fn pixels_and_noise(r: &mut rand::rngs::StdRng, len: usize) -> (Vec<f64>, Vec<f64>) {
    let pixels = uniform(r, len, 1.0)
        .iter()
        .map(|v| ((v + 1.0) * 128.0).floor().min(255.0))
        .collect();
    let noise = f32_exact(uniform(r, len, 0.5).iter().map(|v| v + 0.5).collect());
    (pixels, noise)
}

fn plus(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

#[test]
fn forward_matches_cpu_and_inverse_recovers_x() {
    let gpu = gpu();
    let mut r = rng(30);
    for &shape in ODD_SHAPES {
        let (samples, len) = (shape[0], shape.iter().product());
        let (pixels, noise) = pixels_and_noise(&mut r, len);
        let logdet_prior = f32_exact(uniform(&mut r, samples, 10.0));
        let (pt, ut) = (upload(&gpu, shape, &pixels), upload(&gpu, shape, &noise));
        let (y, back) = (gpu.empty(shape).unwrap(), gpu.empty(shape).unwrap());
        let logdet = upload(&gpu, [samples], &logdet_prior);
        let fwd = logit::forward(&gpu, &pt, &ut, &y, &logdet).unwrap();
        let inv = logit::inverse(&gpu, &y, &back).unwrap();
        gpu.run(|p| {
            fwd.encode(p);
            inv.encode(p);
        });
        let x = cpu::dequantize(&pixels, &noise);
        let (want_y, want_logdet) = cpu::forward(&x, samples);
        assert_close(
            &format!("logit y {shape:?}"),
            &download(&gpu, &y),
            &want_y,
            1e-5,
            1e-5,
        );
        assert_close(
            &format!("logit logdet {shape:?} (added)"),
            &download(&gpu, &logdet),
            &plus(&want_logdet, &logdet_prior),
            1e-5,
            1e-5,
        );
        assert_close(
            &format!("logit inverse(forward(x)) {shape:?}"),
            &download(&gpu, &back),
            &x,
            1e-5,
            0.0,
        );
    }
}

#[test]
fn inverse_matches_cpu_and_clamps_to_unit_interval() {
    let gpu = gpu();
    let mut r = rng(31);
    let shape = [2, 3, 7, 7];
    let mut y = f32_exact(uniform(&mut r, 2 * 3 * 7 * 7, 5.0));
    // Latents far out in either tail, as sampling at high temperature produces.
    y[..4].copy_from_slice(&[-60.0, -3.5, 3.5, 60.0]);
    let (yt, x) = (upload(&gpu, shape, &y), gpu.empty(shape).unwrap());
    let op = logit::inverse(&gpu, &yt, &x).unwrap();
    gpu.run(|p| op.encode(p));
    let got = download(&gpu, &x);
    assert_close("logit inverse", &got, &cpu::inverse(&y), 1e-6, 1e-5);
    assert_eq!(&got[..4], &[0.0, 0.0, 1.0, 1.0], "tails clamp to 0 and 1");
}

#[test]
fn logit_rejects_wrong_shapes() {
    let gpu = gpu();
    let pixels = gpu.zeros([2, 1, 8, 8]).unwrap();
    let noise = gpu.zeros([2, 1, 8, 7]).unwrap();
    let y = gpu.zeros([2, 1, 8, 8]).unwrap();
    let logdet = gpu.zeros([2]).unwrap();
    let err = logit::forward(&gpu, &pixels, &noise, &y, &logdet)
        .err()
        .expect("noise shape mismatch must fail")
        .to_string();
    assert!(
        err.contains("logit_forward") && err.contains("[2, 1, 8, 7]"),
        "{err}"
    );
    let wrong_n = gpu.zeros([3]).unwrap();
    let err = logit::forward(&gpu, &pixels, &pixels, &y, &wrong_n)
        .err()
        .expect("logdet N mismatch must fail")
        .to_string();
    assert!(
        err.contains("logit_forward") && err.contains("[3]") && err.contains("[2, 1, 8, 8]"),
        "{err}"
    );
    let err = logit::inverse(&gpu, &y, &noise)
        .err()
        .expect("x shape mismatch must fail")
        .to_string();
    assert!(err.contains("logit_inverse"), "{err}");
}
