use realnvp::bench::roof;
use realnvp::check::assert_close;
use realnvp::cpu::roof as cpu;

use crate::common::*;

/// The roof kernel computes what its twin says (so the compiler cannot have dropped
/// the chains it times), on counts that do not fill the last workgroup.
#[test]
fn fma_roof_matches_twin() {
    let gpu = gpu();
    for (invocations, iterations) in [(1, 0), (65, 7), (1030, 100)] {
        let out = gpu.empty([invocations]).unwrap();
        let op = roof::fma_roof(&gpu, &out, iterations).unwrap();
        gpu.run(|p| op.encode(p));
        let want = cpu::fma_roof(invocations, iterations);
        assert_close("fma_roof", &download(&gpu, &out), &want, 1e-5, 1e-5);
    }
}
