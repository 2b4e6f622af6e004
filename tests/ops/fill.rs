use realnvp::cpu::fill as cpu;
use realnvp::ops::fill;

use crate::common::*;

/// The filled tensor is a view in the middle of a larger buffer: the fill must honour
/// the view's offset and leave the neighbours alone.
#[test]
fn fill_sets_a_view_and_nothing_else() {
    let gpu = gpu();
    let mut r = rng(10);
    for n in [1, 63, 65, 1000, 5003] {
        for value in [0.0, -2.5] {
            let before = f32_exact(uniform(&mut r, 64 + n + 64, 1.0));
            let arena = upload(&gpu, [before.len()], &before);
            let view = arena.view(64, [n]).unwrap();
            let op = fill::fill(&gpu, &view, value as f32).unwrap();
            gpu.run(|p| op.encode(p));
            let mut want = before.clone();
            want[64..64 + n].copy_from_slice(&cpu::fill(n, value));
            assert_eq!(download(&gpu, &arena), want, "fill n={n} value={value}");
        }
    }
}
