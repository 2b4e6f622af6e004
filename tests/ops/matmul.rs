use realnvp::bench::matmul::matmul;
use realnvp::check::assert_close;
use realnvp::cpu::matmul as cpu;
use realnvp::runtime::KernelFamily;

use crate::common::*;

#[test]
fn matmul_matches_cpu_for_both_families() {
    let gpu = gpu();
    let mut r = rng(20);
    for (m, k, n) in [
        (1, 1, 4),
        (5, 17, 12),
        (67, 33, 68),
        (64, 64, 64),
        (3, 100, 8),
    ] {
        let a = f32_exact(uniform(&mut r, m * k, 1.0));
        let b = f32_exact(uniform(&mut r, k * n, 1.0));
        let want = cpu::matmul(&a, &b, m, k, n);
        for family in [KernelFamily::Direct, KernelFamily::Tiled] {
            let (at, bt, c) = (
                upload(&gpu, [m, k], &a),
                upload(&gpu, [k, n], &b),
                gpu.empty([m, n]).unwrap(),
            );
            let op = matmul(&gpu, family, &at, &bt, &c).unwrap();
            gpu.run(|p| op.encode(p));
            assert_close(
                &format!("matmul {family:?} {m}x{k}x{n}"),
                &download(&gpu, &c),
                &want,
                1e-6 * k as f64,
                1e-4,
            );
        }
    }
}

#[test]
fn matmul_shape_errors() {
    let gpu = gpu();
    let a = gpu.zeros([4, 3]).unwrap();
    let b = gpu.zeros([2, 8]).unwrap();
    let c = gpu.zeros([4, 8]).unwrap();
    let e = matmul(&gpu, KernelFamily::Direct, &a, &b, &c)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("matmul") && e.contains("[4, 3]") && e.contains("[2, 8]"),
        "{e}"
    );
    let b6 = gpu.zeros([3, 6]).unwrap();
    let c6 = gpu.zeros([4, 6]).unwrap();
    let e = matmul(&gpu, KernelFamily::Tiled, &a, &b6, &c6)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("multiple of 4"), "{e}");
}
