use realnvp::check::{assert_close, assert_gradient, dot, narrow};
use realnvp::cpu::batch_norm::{self as cpu, Stats};
use realnvp::ops::batch_norm::{self, Affine, After, FlowAffine, NormGrads, Statistics};
use realnvp::ops::{GradMode, Op};
use realnvp::runtime::VIEW_ALIGN;
use realnvp::{Gpu, Tensor};

use crate::common::*;

/// Tolerance of f32 GPU results against the f64 twin: |got - want| <= ATOL + RTOL * |want|.
const ATOL: f64 = 1e-5;
const RTOL: f64 = 1e-4;

fn assert_twin(what: &str, got: &[f64], want: &[f64]) {
    assert_close(what, got, want, ATOL, RTOL);
}

/// ODD_SHAPES plus one whose N*H*W (1152) spans several strides of the 256-wide
/// per-channel workgroups, and planes of 289 scalars, 324 vec4s (both past the 256
/// invocations of a channel's workgroup, so a step of `Walk` stays in one image) and
/// exactly 256 vec4s (a step moves one image on).
fn shapes() -> Vec<[usize; 4]> {
    ODD_SHAPES
        .iter()
        .copied()
        .chain([
            [8, 3, 12, 12],
            [2, 3, 17, 17],
            [2, 3, 36, 36],
            [2, 2, 32, 32],
        ])
        .collect()
}

/// x with its own mean and spread per channel, so that channel mix-ups show.
fn channel_data(r: &mut rand::rngs::StdRng, [n, c, h, w]: [usize; 4]) -> Vec<f64> {
    let offset = uniform(r, c, 2.0);
    let spread = uniform(r, c, 1.0);
    let u = uniform(r, n * c * h * w, 1.0);
    let x = u.iter().enumerate().map(|(i, v)| {
        let ch = (i / (h * w)) % c;
        offset[ch] + (1.5 + spread[ch]) * v
    });
    f32_exact(x.collect())
}

/// Running averages a trained layer could hold: means in [-1, 1), variances in [0.5, 1.5).
fn running_stats(r: &mut rand::rngs::StdRng, c: usize) -> Stats {
    Stats {
        mean: f32_exact(uniform(r, c, 1.0)),
        var: f32_exact(uniform(r, c, 0.5).iter().map(|v| 1.0 + v).collect()),
    }
}

/// Two [C] tensors as views into one arena at nonzero offsets, as parameters live.
fn arena_pair(gpu: &Gpu, a: &[f64], b: &[f64]) -> (Tensor, Tensor) {
    let arena = gpu.empty([3 * VIEW_ALIGN]).unwrap();
    let first = arena.view(VIEW_ALIGN, [a.len()]).unwrap();
    let second = arena.view(2 * VIEW_ALIGN, [b.len()]).unwrap();
    gpu.write(&first, &narrow(a)).unwrap();
    gpu.write(&second, &narrow(b)).unwrap();
    (first, second)
}

fn upload_stats(gpu: &Gpu, s: &Stats) -> (Tensor, Tensor) {
    let c = s.mean.len();
    (upload(gpu, [c], &s.mean), upload(gpu, [c], &s.var))
}

fn gpu_stats<'a>((mean, var): &'a (Tensor, Tensor)) -> batch_norm::Stats<'a> {
    batch_norm::Stats { mean, var }
}

fn plus(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(p, q)| p + q).collect()
}

/// The plain (weight, bias) or flow (log_gamma, beta, log-det) forward.
fn gpu_forward(
    gpu: &Gpu,
    flow: bool,
    x: &Tensor,
    (scale, shift): &(Tensor, Tensor),
    (statistics, stats): (Statistics, batch_norm::Stats<'_>),
    y: &Tensor,
    logdet: &Tensor,
) -> Op {
    if flow {
        let affine = FlowAffine {
            log_gamma: scale,
            beta: shift,
        };
        batch_norm::flow_forward(gpu, x, affine, statistics, stats, y, logdet).unwrap()
    } else {
        let affine = Affine {
            weight: scale,
            bias: shift,
        };
        batch_norm::forward(gpu, x, affine, statistics, stats, y, After::Nothing).unwrap()
    }
}

#[test]
fn batch_norm_forward_matches_cpu_in_training_and_evaluation() {
    let gpu = gpu();
    let mut r = rng(20);
    for shape @ [n, c, _, _] in shapes() {
        let x = channel_data(&mut r, shape);
        // weight or log_gamma, bias or beta
        let scale = f32_exact(uniform(&mut r, c, 1.0));
        let shift = f32_exact(uniform(&mut r, c, 1.0));
        let running = running_stats(&mut r, c);
        let logdet_prior = f32_exact(uniform(&mut r, n, 1.0));
        for flow in [false, true] {
            for train in [true, false] {
                let what = format!(
                    "{} {} {shape:?}",
                    if flow {
                        "flow_batch_norm"
                    } else {
                        "batch_norm"
                    },
                    if train { "train" } else { "eval" }
                );
                let xt = upload(&gpu, shape, &x);
                let params = arena_pair(&gpu, &scale, &shift);
                let running_t = upload_stats(&gpu, &running);
                let saved_t = (gpu.empty([c]).unwrap(), gpu.empty([c]).unwrap());
                let (y, logdet) = (gpu.empty(shape).unwrap(), upload(&gpu, [n], &logdet_prior));
                let (saved, run) = (gpu_stats(&saved_t), gpu_stats(&running_t));
                let mode = if train {
                    (Statistics::Batch, saved)
                } else {
                    (Statistics::Running, run)
                };
                let fwd = gpu_forward(&gpu, flow, &xt, &params, mode, &y, &logdet);
                let update = batch_norm::update_running(&gpu, saved, run).unwrap();
                // Recorded twice (as the trainer recomputes a layer), updated once.
                gpu.run(|p| {
                    fwd.encode(p);
                    fwd.encode(p);
                    if train {
                        update.encode(p);
                    }
                });

                let fixed = (!train).then_some(&running);
                let (want_y, want_logdet, used) = if flow {
                    cpu::flow_forward(&x, shape, &scale, &shift, fixed)
                } else {
                    let (y, s) = cpu::forward(&x, shape, &scale, &shift, fixed);
                    (y, 0.0, s)
                };
                assert_twin(&format!("{what} y"), &download(&gpu, &y), &want_y);
                if flow {
                    let twice: Vec<f64> =
                        logdet_prior.iter().map(|p| p + 2.0 * want_logdet).collect();
                    let got = download(&gpu, &logdet);
                    assert_twin(
                        &format!("{what} logdet (added per recording)"),
                        &got,
                        &twice,
                    );
                }
                if train {
                    let got = |t: &Tensor| download(&gpu, t);
                    assert_twin(&format!("{what} saved mean"), &got(&saved_t.0), &used.mean);
                    assert_twin(&format!("{what} saved var"), &got(&saved_t.1), &used.var);
                    let want_mean = cpu::update_running(&running.mean, &used.mean);
                    let want_var = cpu::update_running(&running.var, &used.var);
                    assert_twin(
                        &format!("{what} running mean"),
                        &got(&running_t.0),
                        &want_mean,
                    );
                    assert_twin(
                        &format!("{what} running var"),
                        &got(&running_t.1),
                        &want_var,
                    );
                }
            }
        }
    }
}

#[test]
fn flow_batch_norm_inverse_recovers_x_with_saved_and_running_stats() {
    let gpu = gpu();
    let mut r = rng(21);
    for shape @ [n, c, _, _] in shapes() {
        let x = channel_data(&mut r, shape);
        let log_gamma = f32_exact(uniform(&mut r, c, 1.0));
        let beta = f32_exact(uniform(&mut r, c, 1.0));
        let running = running_stats(&mut r, c);
        let xt = upload(&gpu, shape, &x);
        let params = arena_pair(&gpu, &log_gamma, &beta);
        let affine = FlowAffine {
            log_gamma: &params.0,
            beta: &params.1,
        };
        let running_t = upload_stats(&gpu, &running);
        let saved_t = (gpu.empty([c]).unwrap(), gpu.empty([c]).unwrap());
        let (saved, run) = (gpu_stats(&saved_t), gpu_stats(&running_t));
        let [y_train, y_eval, x_train, x_eval] = [(); 4].map(|_| gpu.empty(shape).unwrap());
        let logdet = gpu.zeros([n]).unwrap();
        let inverse_logdet = gpu.zeros([n]).unwrap();
        let ops = [
            batch_norm::flow_forward(
                &gpu,
                &xt,
                affine,
                Statistics::Batch,
                saved,
                &y_train,
                &logdet,
            ),
            batch_norm::flow_inverse(
                &gpu,
                &y_train,
                affine,
                saved,
                &x_train,
                Some(&inverse_logdet),
            ),
            batch_norm::flow_forward(
                &gpu,
                &xt,
                affine,
                Statistics::Running,
                run,
                &y_eval,
                &logdet,
            ),
            batch_norm::flow_inverse(&gpu, &y_eval, affine, run, &x_eval, None),
        ]
        .map(Result::unwrap);
        gpu.run(|p| ops.iter().for_each(|op| op.encode(p)));

        let what = format!("flow_batch_norm_inverse {shape:?}");
        assert_twin(
            &format!("{what} saved stats round trip"),
            &download(&gpu, &x_train),
            &x,
        );
        assert_twin(
            &format!("{what} running stats round trip"),
            &download(&gpu, &x_eval),
            &x,
        );
        let want_x =
            cpu::flow_inverse(&download(&gpu, &y_eval), shape, &log_gamma, &beta, &running);
        assert_twin(&format!("{what} vs cpu"), &download(&gpu, &x_eval), &want_x);
        let saved_var = download(&gpu, &saved_t.1);
        let want_logdet = vec![cpu::log_det(shape, &log_gamma, &saved_var); n];
        assert_twin(
            &format!("{what} logdet (the forward's, added)"),
            &download(&gpu, &inverse_logdet),
            &want_logdet,
        );
    }
}

#[test]
fn batch_norm_backward_matches_cpu_in_training_and_evaluation() {
    let gpu = gpu();
    let mut r = rng(22);
    for shape @ [n, c, _, _] in shapes() {
        let x = channel_data(&mut r, shape);
        let scale = f32_exact(uniform(&mut r, c, 1.0));
        let shift = f32_exact(uniform(&mut r, c, 1.0));
        let running = running_stats(&mut r, c);
        let dy = f32_exact(uniform(&mut r, x.len(), 1.0));
        let dlogdet = f32_exact(uniform(&mut r, n, 1.0));
        let dx_prior = f32_exact(uniform(&mut r, x.len(), 1.0));
        let dscale_prior = f32_exact(uniform(&mut r, c, 1.0));
        let dshift_prior = f32_exact(uniform(&mut r, c, 1.0));
        for flow in [false, true] {
            for (train, dx_mode) in [
                (true, GradMode::Write),
                (true, GradMode::Accumulate),
                (false, GradMode::Write),
                (false, GradMode::Accumulate),
            ] {
                let what = format!(
                    "{} {} {dx_mode:?} {shape:?}",
                    if flow {
                        "flow_batch_norm_backward"
                    } else {
                        "batch_norm_backward"
                    },
                    if train { "train" } else { "eval" }
                );
                let (xt, dyt) = (upload(&gpu, shape, &x), upload(&gpu, shape, &dy));
                let params = arena_pair(&gpu, &scale, &shift);
                let running_t = upload_stats(&gpu, &running);
                let saved_t = (gpu.empty([c]).unwrap(), gpu.empty([c]).unwrap());
                let (y, logdet) = (gpu.empty(shape).unwrap(), gpu.zeros([n]).unwrap());
                let dlogdet_t = upload(&gpu, [n], &dlogdet);
                let dx = upload(&gpu, shape, &dx_prior);
                let (dscale, dshift) = arena_pair(&gpu, &dscale_prior, &dshift_prior);
                let (saved, run) = (gpu_stats(&saved_t), gpu_stats(&running_t));
                let mode = if train {
                    (Statistics::Batch, saved)
                } else {
                    (Statistics::Running, run)
                };
                let fwd = gpu_forward(&gpu, flow, &xt, &params, mode, &y, &logdet);
                let grads = NormGrads {
                    dx: (&dx, dx_mode),
                    dscale: &dscale,
                    dshift: &dshift,
                };
                let bwd = if flow {
                    batch_norm::flow_backward(
                        &gpu, &xt, &dyt, &dlogdet_t, &params.0, mode.0, mode.1, grads,
                    )
                } else {
                    batch_norm::backward(&gpu, &xt, None, &dyt, &params.0, mode.0, mode.1, grads)
                }
                .unwrap();
                gpu.run(|p| {
                    fwd.encode(p);
                    bwd.encode(p);
                });

                let fixed = (!train).then_some(&running);
                let want = if flow {
                    cpu::flow_backward(&x, shape, &dy, &dlogdet, &scale, fixed)
                } else {
                    cpu::backward(&x, shape, None, &dy, &scale, fixed)
                };
                let want_dx = match dx_mode {
                    GradMode::Write => want.dx,
                    GradMode::Accumulate => plus(&dx_prior, &want.dx),
                };
                assert_twin(&format!("{what} dx"), &download(&gpu, &dx), &want_dx);
                let want_dscale = plus(&dscale_prior, &want.dscale);
                let want_dshift = plus(&dshift_prior, &want.dshift);
                assert_twin(
                    &format!("{what} dscale (added)"),
                    &download(&gpu, &dscale),
                    &want_dscale,
                );
                assert_twin(
                    &format!("{what} dshift (added)"),
                    &download(&gpu, &dshift),
                    &want_dshift,
                );
            }
        }
    }
}

#[test]
fn batch_norm_relu_matches_batch_norm_then_relu_on_cpu() {
    let gpu = gpu();
    let mut r = rng(24);
    for shape @ [_, c, _, _] in shapes() {
        let x = channel_data(&mut r, shape);
        let weight = f32_exact(uniform(&mut r, c, 1.0));
        let bias = f32_exact(uniform(&mut r, c, 1.0));
        let running = running_stats(&mut r, c);
        let dr = f32_exact(uniform(&mut r, x.len(), 1.0));
        let dx_prior = f32_exact(uniform(&mut r, x.len(), 1.0));
        let dw_prior = f32_exact(uniform(&mut r, c, 1.0));
        let db_prior = f32_exact(uniform(&mut r, c, 1.0));
        for (train, dx_mode) in [
            (true, GradMode::Write),
            (true, GradMode::Accumulate),
            (false, GradMode::Write),
        ] {
            let what = format!(
                "batch_norm_relu {} {dx_mode:?} {shape:?}",
                if train { "train" } else { "eval" }
            );
            let (xt, drt) = (upload(&gpu, shape, &x), upload(&gpu, shape, &dr));
            let params = arena_pair(&gpu, &weight, &bias);
            let running_t = upload_stats(&gpu, &running);
            let saved_t = (gpu.empty([c]).unwrap(), gpu.empty([c]).unwrap());
            let rt = gpu.empty(shape).unwrap();
            let dx = upload(&gpu, shape, &dx_prior);
            let (dw, db) = arena_pair(&gpu, &dw_prior, &db_prior);
            let (statistics, stats) = if train {
                (Statistics::Batch, gpu_stats(&saved_t))
            } else {
                (Statistics::Running, gpu_stats(&running_t))
            };
            let affine = Affine {
                weight: &params.0,
                bias: &params.1,
            };
            let fwd = batch_norm::forward(&gpu, &xt, affine, statistics, stats, &rt, After::Relu)
                .unwrap();
            let grads = NormGrads {
                dx: (&dx, dx_mode),
                dscale: &dw,
                dshift: &db,
            };
            let bwd = batch_norm::backward(
                &gpu,
                &xt,
                Some(&rt),
                &drt,
                &params.0,
                statistics,
                stats,
                grads,
            )
            .unwrap();
            gpu.run(|p| {
                fwd.encode(p);
                bwd.encode(p);
            });

            let fixed = (!train).then_some(&running);
            let (want_r, used) = cpu::forward_relu(&x, shape, &weight, &bias, fixed);
            assert_twin(&format!("{what} r"), &download(&gpu, &rt), &want_r);
            if train {
                assert_twin(
                    &format!("{what} saved mean"),
                    &download(&gpu, &saved_t.0),
                    &used.mean,
                );
                assert_twin(
                    &format!("{what} saved var"),
                    &download(&gpu, &saved_t.1),
                    &used.var,
                );
            }
            assert!(
                want_r.contains(&0.0) && want_r.iter().any(|&v| v > 0.0),
                "{what}: the ReLU must both pass and block"
            );
            let want = cpu::backward(&x, shape, Some(&want_r), &dr, &weight, fixed);
            let want_dx = match dx_mode {
                GradMode::Write => want.dx,
                GradMode::Accumulate => plus(&dx_prior, &want.dx),
            };
            assert_twin(&format!("{what} dx"), &download(&gpu, &dx), &want_dx);
            assert_twin(
                &format!("{what} dweight (added)"),
                &download(&gpu, &dw),
                &plus(&dw_prior, &want.dscale),
            );
            assert_twin(
                &format!("{what} dbias (added)"),
                &download(&gpu, &db),
                &plus(&db_prior, &want.dshift),
            );
        }
    }
}

/// Past 65535 images the elementwise grid stops growing and each invocation steps
/// through the rest; the per-channel reductions walk any batch.
#[test]
fn batch_norm_relu_past_65535_images_matches_cpu() {
    let gpu = gpu();
    let mut r = rng(26);
    // H*W = 4 takes the vec4 entries, 3 the scalar ones.
    for shape @ [_, c, _, _] in [[66_000, 2, 1, 4], [66_000, 1, 1, 3]] {
        let x = channel_data(&mut r, shape);
        let (weight, bias) = (
            f32_exact(uniform(&mut r, c, 1.0)),
            f32_exact(uniform(&mut r, c, 1.0)),
        );
        let dr = f32_exact(uniform(&mut r, x.len(), 1.0));
        let (xt, drt) = (upload(&gpu, shape, &x), upload(&gpu, shape, &dr));
        let params = arena_pair(&gpu, &weight, &bias);
        let saved_t = (gpu.empty([c]).unwrap(), gpu.empty([c]).unwrap());
        let (rt, dx) = (gpu.empty(shape).unwrap(), gpu.empty(shape).unwrap());
        let (dw, db) = arena_pair(&gpu, &vec![0.0; c], &vec![0.0; c]);
        let affine = Affine {
            weight: &params.0,
            bias: &params.1,
        };
        let stats = gpu_stats(&saved_t);
        let fwd = batch_norm::forward(
            &gpu,
            &xt,
            affine,
            Statistics::Batch,
            stats,
            &rt,
            After::Relu,
        )
        .unwrap();
        let grads = NormGrads {
            dx: (&dx, GradMode::Write),
            dscale: &dw,
            dshift: &db,
        };
        let bwd = batch_norm::backward(
            &gpu,
            &xt,
            Some(&rt),
            &drt,
            &params.0,
            Statistics::Batch,
            stats,
            grads,
        )
        .unwrap();
        gpu.run(|p| {
            fwd.encode(p);
            bwd.encode(p);
        });
        let what = format!("batch_norm_relu {shape:?}");
        let (want_r, _) = cpu::forward_relu(&x, shape, &weight, &bias, None);
        assert_twin(&format!("{what} r"), &download(&gpu, &rt), &want_r);
        let want = cpu::backward(&x, shape, Some(&want_r), &dr, &weight, None);
        assert_twin(&format!("{what} dx"), &download(&gpu, &dx), &want.dx);
        assert_twin(
            &format!("{what} dweight"),
            &download(&gpu, &dw),
            &want.dscale,
        );
        assert_twin(&format!("{what} dbias"), &download(&gpu, &db), &want.dshift);
        let used = cpu::batch_stats(&x, shape);
        assert_twin(
            &format!("{what} saved mean"),
            &download(&gpu, &saved_t.0),
            &used.mean,
        );
        assert_twin(
            &format!("{what} saved var"),
            &download(&gpu, &saved_t.1),
            &used.var,
        );
    }
}

#[test]
fn batch_norm_relu_cpu_backward_matches_finite_differences() {
    let mut r = rng(25);
    let shape @ [_, c, _, _] = [3, 2, 2, 3];
    let x = channel_data(&mut r, shape);
    let (weight, bias) = (uniform(&mut r, c, 1.0), uniform(&mut r, c, 1.0));
    let dr = uniform(&mut r, x.len(), 1.0);
    let running = running_stats(&mut r, c);
    for fixed in [None, Some(&running)] {
        let mode = if fixed.is_some() { "eval" } else { "train" };
        let (r_out, _) = cpu::forward_relu(&x, shape, &weight, &bias, fixed);
        assert!(r_out.contains(&0.0), "{mode}: no ReLU blocks");
        let got = cpu::backward(&x, shape, Some(&r_out), &dr, &weight, fixed);
        let loss =
            |x: &[f64], w: &[f64], b: &[f64]| dot(&cpu::forward_relu(x, shape, w, b, fixed).0, &dr);
        assert_gradient(
            &format!("batch_norm_relu {mode} dx"),
            &|v| loss(v, &weight, &bias),
            &x,
            &got.dx,
            None,
        );
        assert_gradient(
            &format!("batch_norm_relu {mode} dweight"),
            &|v| loss(&x, v, &bias),
            &weight,
            &got.dscale,
            None,
        );
        assert_gradient(
            &format!("batch_norm_relu {mode} dbias"),
            &|v| loss(&x, &weight, v),
            &bias,
            &got.dshift,
            None,
        );
    }
}

/// The loss the finite differences differentiate: dot(y, dy), plus dot(logdet, dlogdet)
/// for the flow (the log-det is the same for every sample).
fn flow_loss(y: &[f64], logdet: f64, dy: &[f64], dlogdet: &[f64]) -> f64 {
    dot(y, dy) + logdet * dlogdet.iter().sum::<f64>()
}

#[test]
fn batch_norm_cpu_backward_matches_finite_differences() {
    let mut r = rng(23);
    let shape @ [n, c, _, _] = [3, 2, 2, 3];
    let x = channel_data(&mut r, shape);
    let (scale, shift) = (uniform(&mut r, c, 1.0), uniform(&mut r, c, 1.0));
    let dy = uniform(&mut r, x.len(), 1.0);
    let dlogdet = uniform(&mut r, n, 1.0);
    let running = running_stats(&mut r, c);
    for fixed in [None, Some(&running)] {
        let mode = if fixed.is_some() { "eval" } else { "train" };
        let plain = cpu::backward(&x, shape, None, &dy, &scale, fixed);
        let loss =
            |x: &[f64], w: &[f64], b: &[f64]| dot(&cpu::forward(x, shape, w, b, fixed).0, &dy);
        assert_gradient(
            &format!("batch_norm {mode} dx"),
            &|v| loss(v, &scale, &shift),
            &x,
            &plain.dx,
            None,
        );
        assert_gradient(
            &format!("batch_norm {mode} dweight"),
            &|v| loss(&x, v, &shift),
            &scale,
            &plain.dscale,
            None,
        );
        assert_gradient(
            &format!("batch_norm {mode} dbias"),
            &|v| loss(&x, &scale, v),
            &shift,
            &plain.dshift,
            None,
        );

        let flow = cpu::flow_backward(&x, shape, &dy, &dlogdet, &scale, fixed);
        let loss = |x: &[f64], lg: &[f64], beta: &[f64]| {
            let (y, logdet, _) = cpu::flow_forward(x, shape, lg, beta, fixed);
            flow_loss(&y, logdet, &dy, &dlogdet)
        };
        assert_gradient(
            &format!("flow_batch_norm {mode} dx"),
            &|v| loss(v, &scale, &shift),
            &x,
            &flow.dx,
            None,
        );
        assert_gradient(
            &format!("flow_batch_norm {mode} dlog_gamma"),
            &|v| loss(&x, v, &shift),
            &scale,
            &flow.dscale,
            None,
        );
        assert_gradient(
            &format!("flow_batch_norm {mode} dbeta"),
            &|v| loss(&x, &scale, v),
            &shift,
            &flow.dshift,
            None,
        );
    }
}

#[test]
fn batch_norm_wrong_shapes_are_errors_naming_the_op() {
    let gpu = gpu();
    let x = gpu.zeros([2, 3, 4, 4]).unwrap();
    let y = gpu.zeros([2, 3, 4, 4]).unwrap();
    let [w, b, m, v] = [(); 4].map(|_| gpu.zeros([3]).unwrap());
    let w4 = gpu.zeros([4]).unwrap();
    let stats = batch_norm::Stats { mean: &m, var: &v };
    let affine = Affine {
        weight: &w,
        bias: &b,
    };
    let flow = FlowAffine {
        log_gamma: &w,
        beta: &b,
    };
    let err = |r: realnvp::Result<Op>| r.err().expect("must fail").to_string();

    let e = err(batch_norm::forward(
        &gpu,
        &x,
        Affine {
            weight: &w4,
            bias: &b,
        },
        Statistics::Running,
        stats,
        &y,
        After::Nothing,
    ));
    assert!(
        e.contains("batch_norm") && e.contains("weight") && e.contains("[4]"),
        "{e}"
    );
    let flat = gpu.zeros([2, 48]).unwrap();
    let e = err(batch_norm::forward(
        &gpu,
        &flat,
        affine,
        Statistics::Running,
        stats,
        &y,
        After::Nothing,
    ));
    assert!(e.contains("batch_norm") && e.contains("[2, 48]"), "{e}");
    let e = err(batch_norm::forward(
        &gpu,
        &x,
        affine,
        Statistics::Batch,
        stats,
        &x,
        After::Nothing,
    ));
    assert!(
        e.contains("batch_norm") && e.contains("shares its buffer"),
        "{e}"
    );

    // Planes past 65535 workgroups of 64 in the forward's grid.
    let big = gpu.zeros([1, 3, 2049, 2049]).unwrap();
    let big_y = gpu.zeros([1, 3, 2049, 2049]).unwrap();
    let e = err(batch_norm::forward(
        &gpu,
        &big,
        affine,
        Statistics::Running,
        stats,
        &big_y,
        After::Nothing,
    ));
    assert!(
        e.contains("batch_norm") && e.contains("planes of 4198401 values"),
        "{e}"
    );
    let logdet3 = gpu.zeros([3]).unwrap();
    let e = err(batch_norm::flow_forward(
        &gpu,
        &x,
        flow,
        Statistics::Batch,
        stats,
        &y,
        &logdet3,
    ));
    assert!(
        e.contains("flow_batch_norm") && e.contains("logdet") && e.contains("[3]"),
        "{e}"
    );
    let y_bad = gpu.zeros([2, 3, 4, 5]).unwrap();
    let e = err(batch_norm::flow_inverse(
        &gpu, &y, flow, stats, &y_bad, None,
    ));
    assert!(
        e.contains("flow_batch_norm_inverse") && e.contains("[2, 3, 4, 5]"),
        "{e}"
    );
    let e = err(batch_norm::update_running(
        &gpu,
        stats,
        batch_norm::Stats { mean: &w, var: &w4 },
    ));
    assert!(
        e.contains("batch_norm_update_running") && e.contains("[4]"),
        "{e}"
    );

    let (dw, db) = (gpu.zeros([3]).unwrap(), gpu.zeros([3]).unwrap());
    let grads = |dx| NormGrads {
        dx: (dx, GradMode::Write),
        dscale: &dw,
        dshift: &db,
    };
    let e = err(batch_norm::backward(
        &gpu,
        &x,
        None,
        &y_bad,
        &w,
        Statistics::Batch,
        stats,
        grads(&y),
    ));
    assert!(
        e.contains("batch_norm_backward") && e.contains("[2, 3, 4, 5]"),
        "{e}"
    );
    let e = err(batch_norm::flow_backward(
        &gpu,
        &x,
        &y,
        &logdet3,
        &w,
        Statistics::Batch,
        stats,
        grads(&y_bad),
    ));
    assert!(
        e.contains("flow_batch_norm_backward") && e.contains("[2, 3, 4, 5]"),
        "{e}"
    );
    let e = err(batch_norm::forward(
        &gpu,
        &x,
        affine,
        Statistics::Running,
        stats,
        &y_bad,
        After::Relu,
    ));
    assert!(
        e.contains("batch_norm_relu") && e.contains("r has shape [2, 3, 4, 5]"),
        "{e}"
    );
    let dx = gpu.zeros([2, 3, 4, 4]).unwrap();
    let e = err(batch_norm::backward(
        &gpu,
        &x,
        Some(&y_bad),
        &y,
        &w,
        Statistics::Batch,
        stats,
        grads(&dx),
    ));
    assert!(
        e.contains("batch_norm_relu_backward") && e.contains("r has shape [2, 3, 4, 5]"),
        "{e}"
    );
    let dlogdet = gpu.zeros([2]).unwrap();
    let e = err(batch_norm::flow_backward(
        &gpu,
        &x,
        &y,
        &dlogdet,
        &w,
        Statistics::Batch,
        stats,
        grads(&y),
    ));
    assert!(
        e.contains("flow_batch_norm_backward") && e.contains("shares its buffer"),
        "{e}"
    );
    // Saved and running stats as disjoint views of one arena: wgpu forbids reading one
    // and writing the other in one dispatch, so the builder refuses.
    let arena = gpu.zeros([4 * VIEW_ALIGN]).unwrap();
    let [sm, sv, rm, rv] = [0, 1, 2, 3].map(|k| arena.view(k * VIEW_ALIGN, [3]).unwrap());
    let e = err(batch_norm::update_running(
        &gpu,
        batch_norm::Stats {
            mean: &sm,
            var: &sv,
        },
        batch_norm::Stats {
            mean: &rm,
            var: &rv,
        },
    ));
    assert!(
        e.contains("batch_norm_update_running") && e.contains("shares its buffer"),
        "{e}"
    );
}
