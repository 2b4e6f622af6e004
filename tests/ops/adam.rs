use realnvp::check::{assert_close, narrow};
use realnvp::cpu::adam::{self as cpu, AdamState};
use realnvp::ops::adam::{self, AdamConfig, OptimState, STATE_LEN};
use realnvp::runtime::VIEW_ALIGN;
use realnvp::{Gpu, Tensor};

use crate::common::*;

/// The trainer's tensors, the written ones as views into one buffer (so none starts at
/// offset 0; l2, read-only, may not share their buffer), and their CPU twins.
struct Arenas {
    gpu_params: Tensor,
    gpu_grads: Tensor,
    gpu_m: Tensor,
    gpu_v: Tensor,
    gpu_l2: Tensor,
    state: Tensor,
    params: Vec<f64>,
    m: Vec<f64>,
    v: Vec<f64>,
    l2: Vec<f64>,
    twin: AdamState,
}

impl Arenas {
    fn new(gpu: &Gpu, n: usize, seed: u64) -> Arenas {
        let mut r = rng(seed);
        let params = f32_exact(uniform(&mut r, n, 1.0));
        // The spec's L2: 5e-5 on some parameters (weight-norm and coupling scales), 0 on
        // the rest.
        let l2: Vec<f64> = (0..n)
            .map(|i| if i % 3 == 0 { 5e-5f32 as f64 } else { 0.0 })
            .collect();
        let segment = n.div_ceil(VIEW_ALIGN) * VIEW_ALIGN;
        let buffer = gpu.zeros([VIEW_ALIGN + 4 * segment]).unwrap();
        let view = |k: usize| buffer.view(VIEW_ALIGN + k * segment, [n]).unwrap();
        let a = Arenas {
            gpu_params: view(0),
            gpu_grads: view(1),
            gpu_m: view(2),
            gpu_v: view(3),
            gpu_l2: gpu.zeros([n]).unwrap(),
            state: gpu.zeros([STATE_LEN]).unwrap(),
            m: vec![0.0; n],
            v: vec![0.0; n],
            params,
            l2,
            twin: AdamState::default(),
        };
        gpu.write(&a.gpu_params, &narrow(&a.params)).unwrap();
        gpu.write(&a.gpu_l2, &narrow(&a.l2)).unwrap();
        a
    }

    fn op(&self, gpu: &Gpu, config: &AdamConfig) -> realnvp::ops::Op {
        adam::l2_clip_adam_step(
            gpu,
            &self.gpu_params,
            &self.gpu_grads,
            &self.gpu_m,
            &self.gpu_v,
            &self.gpu_l2,
            &self.state,
            config,
        )
        .unwrap()
    }

    /// One step on both sides with the same gradient, comparing the gradient (now with
    /// the L2 term) and the state.
    fn step(&mut self, gpu: &Gpu, op: &realnvp::ops::Op, config: &AdamConfig, grads: &[f64]) {
        gpu.write(&self.gpu_grads, &narrow(grads)).unwrap();
        gpu.run(|p| op.encode(p));
        let mut g = grads.to_vec();
        cpu::l2_clip_adam_step(
            &mut self.params,
            &mut g,
            &mut self.m,
            &mut self.v,
            &self.l2,
            &mut self.twin,
            config,
        );
        let what = format!("step {}", self.twin.step);
        assert_close(
            &format!("{what} grads with L2 term"),
            &download(gpu, &self.gpu_grads),
            &g,
            1e-9,
            1e-6,
        );
        self.check_state(gpu, &what);
    }

    fn check_state(&self, gpu: &Gpu, what: &str) {
        let got = OptimState::from_words(&gpu.read(&self.state).unwrap()).unwrap();
        let t = &self.twin;
        assert_eq!(got.step, t.step, "{what}: step count");
        let scalars = [
            ("grad norm", got.grad_norm, t.grad_norm, 1e-5),
            ("clip factor", got.clip, t.clip, 1e-5),
            ("bias correction 1", got.bias1, t.bias1, 1e-6),
            ("bias correction 2", got.bias2, t.bias2, 1e-6),
        ];
        for (name, g, w, rtol) in scalars {
            assert_close(&format!("{what}: {name}"), &[g as f64], &[w], 0.0, rtol);
        }
    }

    /// Parameters within 1e-5 relative (1e-7 absolute near 0, where the f32 rounding of
    /// a 1e-3 update is ~1e-10). The moments are sums of terms of either sign, so near 0
    /// they carry f32 rounding of their largest terms: 1e-6 of the largest moment.
    fn check_tensors(&self, gpu: &Gpu, what: &str) {
        let largest = |x: &[f64]| x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let tensors = [
            ("params", &self.gpu_params, &self.params, 1e-7),
            ("m", &self.gpu_m, &self.m, 1e-6 * largest(&self.m)),
            ("v", &self.gpu_v, &self.v, 1e-6 * largest(&self.v)),
        ];
        for (name, t, want, atol) in tensors {
            assert_close(
                &format!("{what}: {name}"),
                &download(gpu, t),
                want,
                atol,
                1e-5,
            );
        }
    }
}

#[test]
fn steps_without_clipping_match_cpu() {
    let gpu = gpu();
    let config = AdamConfig::default();
    // 70001 needs more workgroups than the first reduction stage has (1024 x 64).
    for n in [1, 63, 65, 1000, 5003, 70001] {
        let mut a = Arenas::new(&gpu, n, n as u64);
        let op = a.op(&gpu, &config);
        let mut r = rng(100 + n as u64);
        for _ in 0..4 {
            let grads = f32_exact(uniform(&mut r, n, 0.3));
            a.step(&gpu, &op, &config, &grads);
            assert_eq!(
                a.twin.clip, 1.0,
                "n={n}: norm {} must not clip",
                a.twin.grad_norm
            );
        }
        a.check_tensors(&gpu, &format!("n={n}"));
    }
}

/// Gradients far above and below the clipping norm in turn: the clipped steps scale
/// the moments, which the comparison of m and v sees directly.
#[test]
fn steps_with_and_without_clipping_match_cpu() {
    let gpu = gpu();
    let config = AdamConfig::default();
    let n = 1000;
    let mut a = Arenas::new(&gpu, n, 7);
    let op = a.op(&gpu, &config);
    let mut r = rng(8);
    for scale in [30.0, 0.5, 60.0, 2.0, 100.0] {
        let grads = f32_exact(uniform(&mut r, n, scale));
        a.step(&gpu, &op, &config, &grads);
        let clipped = a.twin.grad_norm > config.max_grad_norm as f64;
        assert_eq!(clipped, scale >= 30.0, "norm {}", a.twin.grad_norm);
        if clipped {
            assert!(a.twin.clip < 0.5, "clip {}", a.twin.clip);
        }
        a.check_tensors(&gpu, &format!("gradient scale {scale}"));
    }
}

/// A checkpoint restores the state's words; the step count and the bias corrections
/// continue from there, accurate even where 1 - beta^t is nearly 0 or nearly 1.
#[test]
fn restored_state_continues_the_step_count() {
    let gpu = gpu();
    let config = AdamConfig::default();
    let n = 65;
    for start in [0, 9, 999, 99_999] {
        let mut a = Arenas::new(&gpu, n, 3);
        // The words as documented on OptimState: step (u32 bits), grad_norm, clip,
        // bias1, bias2, then zeros.
        let mut restored = [0.0; STATE_LEN];
        restored[..3].copy_from_slice(&[f32::from_bits(start), 1.0, 1.0]);
        gpu.write(&a.state, &restored).unwrap();
        a.twin.step = start;
        let op = a.op(&gpu, &config);
        let grads = f32_exact(uniform(&mut rng(4), n, 1.0));
        a.step(&gpu, &op, &config, &grads);
        a.check_tensors(&gpu, &format!("resumed at step {start}"));
    }
}

#[test]
fn wrong_lengths_and_aliasing_are_errors_naming_the_op() {
    let gpu = gpu();
    let config = AdamConfig::default();
    let t = |n: usize| gpu.zeros([n]).unwrap();
    let (p, g, m, v, l2, s) = (t(101), t(101), t(101), t(101), t(101), t(STATE_LEN));
    let short = t(100);
    let err = |r: realnvp::Result<realnvp::ops::Op>| r.err().expect("must fail").to_string();

    let e = err(adam::l2_clip_adam_step(
        &gpu, &p, &short, &m, &v, &l2, &s, &config,
    ));
    assert!(
        e.contains("l2_clip_adam_step") && e.contains("[100]") && e.contains("[101]"),
        "{e}"
    );
    let e = err(adam::l2_clip_adam_step(
        &gpu, &p, &g, &m, &v, &short, &s, &config,
    ));
    assert!(
        e.contains("l2_clip_adam_step") && e.contains("l2") && e.contains("[100]"),
        "{e}"
    );
    let e = err(adam::l2_clip_adam_step(
        &gpu,
        &p,
        &g,
        &m,
        &v,
        &l2,
        &t(7),
        &config,
    ));
    assert!(
        e.contains("l2_clip_adam_step") && e.contains("state") && e.contains("[7]"),
        "{e}"
    );
    let e = err(adam::l2_clip_adam_step(
        &gpu, &p, &g, &m, &m, &l2, &s, &config,
    ));
    assert!(
        e.contains("l2_clip_adam_step") && e.contains("overlap"),
        "{e}"
    );
    let e = err(adam::l2_clip_adam_step(
        &gpu, &p, &g, &m, &v, &p, &s, &config,
    ));
    assert!(
        e.contains("l2_clip_adam_step") && e.contains("shares its buffer"),
        "{e}"
    );
    let arena = t(2 * 128);
    let (low, high) = (
        arena.view(0, [101]).unwrap(),
        arena.view(128, [101]).unwrap(),
    );
    let e = err(adam::l2_clip_adam_step(
        &gpu, &p, &g, &low, &v, &high, &s, &config,
    ));
    assert!(
        e.contains("l2_clip_adam_step") && e.contains("l2") && e.contains("output m "),
        "{e}"
    );
    assert!(OptimState::from_words(&[0.0; 3]).is_err());
}

#[test]
fn a_non_finite_gradient_leaves_the_parameters_finite_and_reports_the_norm() {
    let gpu = gpu();
    let config = AdamConfig::default();
    let mut a = Arenas::new(&gpu, 65, 9);
    let op = a.op(&gpu, &config);
    a.step(&gpu, &op, &config, &vec![0.5; 65]);
    let before = download(&gpu, &a.gpu_params);
    let mut poisoned = vec![0.5; 65];
    poisoned[7] = f64::NAN;
    gpu.write(&a.gpu_grads, &narrow(&poisoned)).unwrap();
    gpu.run(|p| op.encode(p));
    let state = OptimState::from_words(&gpu.read(&a.state).unwrap()).unwrap();
    assert!(state.grad_norm.is_nan() && state.clip == 0.0, "{state:?}");
    let after = download(&gpu, &a.gpu_params);
    assert!(
        after.iter().all(|p| p.is_finite()),
        "a NaN gradient reached the parameters"
    );
    // With the gradient skipped, only the moments' momentum moves the parameters.
    assert!(after.iter().zip(&before).all(|(x, y)| (x - y).abs() < 2e-3));
}
