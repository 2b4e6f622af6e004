use realnvp::check::{assert_close, assert_gradient, dot};
use realnvp::cpu::conv2d as cpu;
use realnvp::ops::GradMode;
use realnvp::ops::conv2d::{self, ConvGrads, ConvKernels, ConvShape, Gemm, WeightGrad};

use crate::common::*;

/// Every GEMM variant (forward and grad input), each grad-weight variant at least once.
fn kernels() -> Vec<ConvKernels> {
    Gemm::ALL
        .into_iter()
        .zip(WeightGrad::ALL.into_iter().cycle())
        .map(|(gemm, grad_weight)| ConvKernels {
            forward: gemm,
            grad_input: gemm,
            grad_weight,
        })
        .collect()
}

/// Shapes that do not divide the tiles (8 columns, 4 or 32 channels, 64 pixels, 16-deep
/// reduction), plus k = 1 and more than one tile of output channels.
fn shapes() -> Vec<ConvShape> {
    let s = |n, cin, cout, h, w, k| ConvShape {
        n,
        cin,
        cout,
        h,
        w,
        k,
    };
    vec![
        s(1, 3, 5, 7, 7, 3),
        s(2, 5, 6, 13, 13, 3),
        s(3, 2, 3, 1, 1, 3),
        s(2, 4, 33, 9, 11, 3),
        s(2, 7, 5, 6, 10, 1),
        s(1, 1, 4, 28, 28, 3),
        // cin * 9 = 81: the tiled grad weight spans two 64-wide reduction tiles.
        s(1, 9, 34, 6, 5, 3),
        // 15876 weights: the uniform-weights variant reads near the end of its 64 KiB.
        s(1, 42, 42, 3, 5, 3),
    ]
}

#[test]
fn conv_forward_and_backward_match_cpu_for_every_kernel_variant() {
    let gpu = gpu();
    let mut r = rng(10);
    for s in shapes() {
        let xs = [s.n, s.cin, s.h, s.w];
        let ws = [s.cout, s.cin, s.k, s.k];
        let ys = [s.n, s.cout, s.h, s.w];
        let x = f32_exact(uniform(&mut r, xs.iter().product(), 1.0));
        let w = f32_exact(uniform(&mut r, ws.iter().product(), 0.5));
        let b = f32_exact(uniform(&mut r, s.cout, 0.5));
        let dy = f32_exact(uniform(&mut r, ys.iter().product(), 1.0));
        let dx_prior = f32_exact(uniform(&mut r, x.len(), 1.0));
        let dw_prior = f32_exact(uniform(&mut r, w.len(), 1.0));
        let db_prior = f32_exact(uniform(&mut r, s.cout, 1.0));
        let want_y = cpu::forward(&x, &w, Some(&b), &s);
        let (want_dx, want_dw, want_db) = cpu::backward(&x, &w, &dy, &s);
        let plus =
            |a: &[f64], b: &[f64]| -> Vec<f64> { a.iter().zip(b).map(|(p, q)| p + q).collect() };
        // f32 sums of cin * k * k (forward, grad input) or n * h * w (grad weight) terms.
        let tol = 1e-6 * (s.cin * s.k * s.k).max(s.cout * s.k * s.k) as f64;
        let wtol = 1e-6 * (s.n * s.h * s.w) as f64;
        for family in kernels()
            .into_iter()
            .filter(|k| k.forward.fits(&gpu, s) && k.grad_weight.fits(&gpu, s))
        {
            let (xt, wt, bt, dyt) = (
                upload(&gpu, xs, &x),
                upload(&gpu, ws, &w),
                upload(&gpu, [s.cout], &b),
                upload(&gpu, ys, &dy),
            );
            let y = gpu.empty(ys).unwrap();
            let (dx, dw, db) = (
                upload(&gpu, xs, &dx_prior),
                upload(&gpu, ws, &dw_prior),
                upload(&gpu, [s.cout], &db_prior),
            );
            let fwd = conv2d::forward_with(&gpu, family, &xt, &wt, Some(&bt), &y).unwrap();
            let grads = ConvGrads {
                dx: Some((&dx, GradMode::Accumulate)),
                dweight: &dw,
                dbias: Some(&db),
            };
            let bwd = conv2d::backward_with(&gpu, family, &xt, &wt, &dyt, grads).unwrap();
            gpu.run(|p| {
                fwd.encode(p);
                bwd.encode(p);
            });
            let tag = format!("{family:?} {s:?}");
            assert_close(&format!("{tag} y"), &download(&gpu, &y), &want_y, tol, 1e-4);
            assert_close(
                &format!("{tag} dx (accumulated)"),
                &download(&gpu, &dx),
                &plus(&want_dx, &dx_prior),
                tol,
                1e-4,
            );
            assert_close(
                &format!("{tag} dweight (accumulated)"),
                &download(&gpu, &dw),
                &plus(&want_dw, &dw_prior),
                wtol,
                1e-4,
            );
            assert_close(
                &format!("{tag} dbias (accumulated)"),
                &download(&gpu, &db),
                &plus(&want_db, &db_prior),
                wtol,
                1e-4,
            );

            // Grad input in write mode overwrites whatever dx held.
            let dx2 = upload(&gpu, xs, &dx_prior);
            let dw2 = gpu.zeros(ws).unwrap();
            let grads = ConvGrads {
                dx: Some((&dx2, GradMode::Write)),
                dweight: &dw2,
                dbias: None,
            };
            let bwd2 = conv2d::backward_with(&gpu, family, &xt, &wt, &dyt, grads).unwrap();
            gpu.run(|p| bwd2.encode(p));
            assert_close(
                &format!("{tag} dx (written)"),
                &download(&gpu, &dx2),
                &want_dx,
                tol,
                1e-4,
            );
        }
    }
}

/// More than 65535 workgroups' worth of pixels (64 per workgroup or tile): the tiled
/// and broadcast variants fold their grids past the limit and still cover each pixel
/// once (the direct ones, 8 columns per invocation, stay below it at this size and are
/// checked alongside).
#[test]
fn conv_past_the_workgroup_count_limit_matches_cpu_for_every_variant() {
    let gpu = gpu();
    let mut r = rng(14);
    let s = ConvShape {
        n: 1,
        cin: 1,
        cout: 2,
        h: 1025,
        w: 4100,
        // The folding does not depend on k; 1 keeps the test quick.
        k: 1,
    };
    assert!(s.n * s.h * s.w > 65535 * 64);
    let (xs, ws, ys) = (
        [s.n, s.cin, s.h, s.w],
        [s.cout, s.cin, s.k, s.k],
        [s.n, s.cout, s.h, s.w],
    );
    let x = f32_exact(uniform(&mut r, xs.iter().product(), 1.0));
    let w = f32_exact(uniform(&mut r, ws.iter().product(), 0.5));
    let b = f32_exact(uniform(&mut r, s.cout, 0.5));
    let want = cpu::forward(&x, &w, Some(&b), &s);
    let (xt, wt, bt) = (
        upload(&gpu, xs, &x),
        upload(&gpu, ws, &w),
        upload(&gpu, [s.cout], &b),
    );
    // Every variant but Winograd (3x3 only) gives the same bits (tested on small
    // shapes), so the first is checked against the CPU and the others against it, bit
    // for bit.
    let mut first: Option<Vec<f32>> = None;
    for gemm in Gemm::ALL.into_iter().filter(|g| g.fits(&gpu, s)) {
        let kernels = ConvKernels {
            forward: gemm,
            ..ConvKernels::family(gpu.kernels)
        };
        let y = gpu.empty(ys).unwrap();
        let fwd = conv2d::forward_with(&gpu, kernels, &xt, &wt, Some(&bt), &y).unwrap();
        gpu.run(|p| fwd.encode(p));
        let got = gpu.read(&y).unwrap();
        match &first {
            None => {
                assert_close(
                    &format!("{gemm:?} y"),
                    &realnvp::check::widen(&got),
                    &want,
                    1e-5,
                    1e-4,
                );
                first = Some(got);
            }
            Some(first) => assert!(
                got.iter()
                    .zip(first)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{gemm:?} differs from {:?} past the workgroup count limit",
                Gemm::ALL[0]
            ),
        }
    }
}

/// The uniform-weights variant takes at most 64 KiB of weights: past that it is never
/// tuned in, and asking for it is a clear error.
#[test]
fn uniform_weights_variant_refuses_weights_past_64_kib() {
    let gpu = gpu();
    let s = ConvShape {
        n: 1,
        cin: 64,
        cout: 64,
        h: 4,
        w: 4,
        k: 3,
    };
    assert!(!Gemm::Direct16Uniform.fits(&gpu, s));
    assert!(Gemm::Direct16Uniform.fits(
        &gpu,
        ConvShape {
            cin: 32,
            cout: 32,
            ..s
        }
    ));
    let x = gpu.zeros([s.n, s.cin, s.h, s.w]).unwrap();
    let w = gpu.zeros([s.cout, s.cin, s.k, s.k]).unwrap();
    let y = gpu.empty([s.n, s.cout, s.h, s.w]).unwrap();
    let kernels = ConvKernels {
        forward: Gemm::Direct16Uniform,
        ..ConvKernels::family(gpu.kernels)
    };
    let e = conv2d::forward_with(&gpu, kernels, &x, &w, None, &y)
        .err()
        .expect("must fail")
        .to_string();
    assert!(
        e.contains("at most 16384 weights") && e.contains("36864"),
        "{e}"
    );
}

/// Winograd takes 3x3 kernels whose transformed input (16 or 36 values per tile and
/// channel) fits one storage binding; past that, asking for it is a clear error.
#[test]
fn winograd_refuses_1x1_kernels_and_transforms_past_a_binding() {
    let gpu = gpu();
    let s = ConvShape {
        n: 2,
        cin: 4,
        cout: 4,
        h: 5,
        w: 5,
        k: 3,
    };
    let limit = gpu.device.limits().max_storage_buffer_binding_size as usize;
    // (elements, tiles of a 5x5 image)
    for (gemm, elements, tiles) in [(Gemm::Winograd, 16, 9), (Gemm::Winograd4, 36, 4)] {
        assert!(gemm.fits(&gpu, s));
        assert!(!gemm.fits(&gpu, ConvShape { k: 1, ..s }));
        // 4 bytes per transformed value: a batch whose V passes the limit.
        let past = ConvShape {
            n: limit / (elements * 4 * s.cin * tiles) + 1,
            ..s
        };
        assert!(!gemm.fits(&gpu, past), "{gemm:?}");
        let x = gpu.zeros([s.n, s.cin, s.h, s.w]).unwrap();
        let w = gpu.zeros([s.cout, s.cin, 1, 1]).unwrap();
        let y = gpu.empty([s.n, s.cout, s.h, s.w]).unwrap();
        let kernels = ConvKernels {
            forward: gemm,
            ..ConvKernels::family(gpu.kernels)
        };
        let e = conv2d::forward_with(&gpu, kernels, &x, &w, None, &y)
            .err()
            .expect("must fail")
            .to_string();
        assert!(e.contains("Winograd takes 3x3 kernels"), "{e}");
    }
}

#[test]
fn the_shader_and_the_launcher_agree_on_the_uniform_weight_count() {
    let wgsl = include_str!("../../shaders/conv2d.wgsl");
    let line = format!("const UNIFORM_WEIGHTS: u32 = {}u;", conv2d::UNIFORM_WEIGHTS);
    assert!(wgsl.contains(&line), "shaders/conv2d.wgsl lacks `{line}`");
    assert!(wgsl.contains("array<vec4<f32>, 4096>") && conv2d::UNIFORM_WEIGHTS == 4 * 4096);
}

#[test]
fn conv_forward_without_bias() {
    let gpu = gpu();
    let mut r = rng(11);
    let s = ConvShape {
        n: 2,
        cin: 3,
        cout: 4,
        h: 5,
        w: 6,
        k: 3,
    };
    let x = f32_exact(uniform(&mut r, 2 * 3 * 30, 1.0));
    let w = f32_exact(uniform(&mut r, 4 * 3 * 9, 1.0));
    for family in kernels() {
        let (xt, wt, y) = (
            upload(&gpu, [2, 3, 5, 6], &x),
            upload(&gpu, [4, 3, 3, 3], &w),
            gpu.empty([2, 4, 5, 6]).unwrap(),
        );
        let op = conv2d::forward_with(&gpu, family, &xt, &wt, None, &y).unwrap();
        gpu.run(|p| op.encode(p));
        assert_close(
            &format!("{family:?} no bias"),
            &download(&gpu, &y),
            &cpu::forward(&x, &w, None, &s),
            1e-5,
            1e-4,
        );
    }
}

#[test]
fn cpu_conv_backward_matches_finite_differences() {
    let mut r = rng(12);
    for s in [
        ConvShape {
            n: 2,
            cin: 2,
            cout: 3,
            h: 4,
            w: 5,
            k: 3,
        },
        ConvShape {
            n: 1,
            cin: 3,
            cout: 2,
            h: 3,
            w: 3,
            k: 1,
        },
    ] {
        let x = uniform(&mut r, s.n * s.cin * s.h * s.w, 1.0);
        let w = uniform(&mut r, s.cout * s.cin * s.k * s.k, 1.0);
        let b = uniform(&mut r, s.cout, 1.0);
        let dy = uniform(&mut r, s.n * s.cout * s.h * s.w, 1.0);
        let (dx, dw, db) = cpu::backward(&x, &w, &dy, &s);
        assert_gradient(
            "conv dx",
            &|x| dot(&cpu::forward(x, &w, Some(&b), &s), &dy),
            &x,
            &dx,
            None,
        );
        assert_gradient(
            "conv dweight",
            &|w| dot(&cpu::forward(&x, w, Some(&b), &s), &dy),
            &w,
            &dw,
            None,
        );
        assert_gradient(
            "conv dbias",
            &|b| dot(&cpu::forward(&x, &w, Some(b), &s), &dy),
            &b,
            &db,
            None,
        );
    }
}

#[test]
fn conv_shape_errors_name_the_op_and_shapes() {
    let gpu = gpu();
    let x = gpu.zeros([2, 3, 8, 8]).unwrap();
    let w = gpu.zeros([4, 3, 3, 3]).unwrap();
    let bad_w = gpu.zeros([4, 2, 3, 3]).unwrap();
    let w5 = gpu.zeros([4, 3, 5, 5]).unwrap();
    let y = gpu.zeros([2, 4, 8, 8]).unwrap();
    let bad_y = gpu.zeros([2, 4, 8, 7]).unwrap();
    let bias3 = gpu.zeros([3]).unwrap();
    let msg = |r: realnvp::Result<realnvp::ops::Op>| r.err().expect("must fail").to_string();
    let e = msg(conv2d::forward(&gpu, &x, &bad_w, None, &y));
    assert!(
        e.contains("conv2d") && e.contains("[4, 2, 3, 3]") && e.contains("[2, 3, 8, 8]"),
        "{e}"
    );
    let e = msg(conv2d::forward(&gpu, &x, &w5, None, &y));
    assert!(e.contains("k = 1 or 3"), "{e}");
    let e = msg(conv2d::forward(&gpu, &x, &w, None, &bad_y));
    assert!(
        e.contains("[2, 4, 8, 8]") && e.contains("[2, 4, 8, 7]"),
        "{e}"
    );
    let e = msg(conv2d::forward(&gpu, &x, &w, Some(&bias3), &y));
    assert!(e.contains("bias") && e.contains("[3]"), "{e}");
    let dw_bad = gpu.zeros([4, 3, 3, 2]).unwrap();
    let e = msg(conv2d::backward(
        &gpu,
        &x,
        &w,
        &y,
        ConvGrads {
            dx: None,
            dweight: &dw_bad,
            dbias: None,
        },
    ));
    assert!(
        e.contains("conv2d_backward") && e.contains("dweight"),
        "{e}"
    );
    let e = msg(conv2d::backward(
        &gpu,
        &x,
        &w,
        &y,
        ConvGrads {
            dx: Some((&x, GradMode::Write)),
            dweight: &w,
            dbias: None,
        },
    ));
    assert!(e.contains("shares its buffer"), "{e}");
}

/// With tuning on, conv2d builds with the measured kernels of each shape, records the
/// choice, releases what it measured with, and still computes the convolution.
#[test]
fn tuned_kernels_are_chosen_per_shape_cached_and_correct() {
    // A device of its own: tuning is a property of the Gpu.
    let gpu = realnvp::Gpu::new(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("kernels.json");
    gpu.tune_kernels(Some(cache.clone()));
    let Some(tuning) = gpu.tuning() else {
        assert!(realnvp::runtime::KernelFamily::forced().is_some());
        eprintln!("skipped: REALNVP_KERNELS forces a family, so nothing is tuned");
        return;
    };
    let mut r = rng(13);
    let s = ConvShape {
        n: 3,
        cin: 5,
        cout: 9,
        h: 7,
        w: 6,
        k: 3,
    };
    let x = f32_exact(uniform(&mut r, s.n * s.cin * s.h * s.w, 1.0));
    let w = f32_exact(uniform(&mut r, s.cout * s.cin * 9, 0.5));
    let (xt, wt) = (
        upload(&gpu, [s.n, s.cin, s.h, s.w], &x),
        upload(&gpu, [s.cout, s.cin, 3, 3], &w),
    );
    let y = gpu.empty([s.n, s.cout, s.h, s.w]).unwrap();
    // The op that tuning picks for may bind the uniform-weights variant's staging
    // scratch (one per device, kept once made): made first, so that the pool around
    // building the op holds nothing new unless tuning kept its temporaries.
    if Gemm::Direct16Uniform.fits(&gpu, s) {
        let staging = ConvKernels {
            forward: Gemm::Direct16Uniform,
            ..ConvKernels::family(gpu.kernels)
        };
        conv2d::forward_with(&gpu, staging, &xt, &wt, None, &y).unwrap();
    }
    let before = gpu.pool_stats();
    let op = conv2d::forward(&gpu, &xt, &wt, None, &y).unwrap();
    let after = gpu.pool_stats();
    assert!(
        after.buffers_created > before.buffers_created,
        "nothing was measured"
    );
    assert_eq!(
        (after.buffers_held, after.bytes_held),
        (before.buffers_held, before.bytes_held),
        "tuning left its temporaries allocated"
    );
    gpu.run(|p| op.encode(p));
    assert_close(
        "tuned forward",
        &download(&gpu, &y),
        &cpu::forward(&x, &w, None, &s),
        1e-5,
        1e-4,
    );
    // One shape tuned on a device of its own: one choice, keyed by that shape, in
    // memory and in the cache file.
    let chosen = tuning.choices();
    assert_eq!(chosen.len(), 1, "{chosen:?}");
    let (key, value) = chosen.iter().next().unwrap();
    assert!(key.contains("cin5 cout9 h7 w6 k3"), "{key}");
    let kernels: ConvKernels = serde_json::from_value(value.clone()).unwrap();
    assert!(Gemm::ALL.contains(&kernels.forward));
    assert!(std::fs::read_to_string(&cache).unwrap().contains(key));
}

/// Every variant but Winograd sums in the same order, so they give the same bits.
#[test]
fn every_kernel_variant_gives_the_same_bits() {
    let gpu = gpu();
    let mut r = rng(14);
    for s in shapes() {
        let xs = [s.n, s.cin, s.h, s.w];
        let ws = [s.cout, s.cin, s.k, s.k];
        let ys = [s.n, s.cout, s.h, s.w];
        let xt = upload(&gpu, xs, &uniform(&mut r, xs.iter().product(), 1.0));
        let wt = upload(&gpu, ws, &uniform(&mut r, ws.iter().product(), 0.5));
        let bt = upload(&gpu, [s.cout], &uniform(&mut r, s.cout, 0.5));
        let dyt = upload(&gpu, ys, &uniform(&mut r, ys.iter().product(), 1.0));
        let bits = |t: &realnvp::runtime::Tensor| -> Vec<u32> {
            gpu.read(t).unwrap().iter().map(|v| v.to_bits()).collect()
        };
        let mut first: Option<(Vec<u32>, Vec<u32>)> = None;
        for gemm in Gemm::ALL.into_iter().filter(|g| !g.is_winograd()) {
            let kernels = ConvKernels {
                forward: gemm,
                ..ConvKernels::family(realnvp::runtime::KernelFamily::Direct)
            };
            let y = gpu.empty(ys).unwrap();
            let dx = gpu.empty(xs).unwrap();
            let fwd = conv2d::forward_with(&gpu, kernels, &xt, &wt, Some(&bt), &y).unwrap();
            let gin = conv2d::grad_input_with(&gpu, gemm, &xt, &wt, &dyt, (&dx, GradMode::Write))
                .unwrap();
            gpu.run(|p| {
                fwd.encode(p);
                gin.encode(p);
            });
            let got = (bits(&y), bits(&dx));
            match &first {
                None => first = Some(got),
                Some(want) => assert!(&got == want, "{gemm:?} differs from Direct at {s:?}"),
            }
        }
        let mut first: Option<Vec<u32>> = None;
        for grad_weight in WeightGrad::ALL.into_iter().filter(|g| !g.is_winograd()) {
            let kernels = ConvKernels {
                grad_weight,
                ..ConvKernels::family(realnvp::runtime::KernelFamily::Direct)
            };
            let dw = gpu.zeros(ws).unwrap();
            let grads = ConvGrads {
                dx: None,
                dweight: &dw,
                dbias: None,
            };
            let op = conv2d::backward_with(&gpu, kernels, &xt, &wt, &dyt, grads).unwrap();
            gpu.run(|p| op.encode(p));
            let got = bits(&dw);
            match &first {
                None => first = Some(got),
                Some(want) => assert!(&got == want, "{grad_weight:?} differs from Direct at {s:?}"),
            }
        }
    }
}
