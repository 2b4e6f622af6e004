//! CPU twin of bench/roof.rs: the value each invocation writes.

/// out[id] for `iterations` steps of a <- a * 0.999 + 0.001 on 8 chains x 4 lanes.
pub fn fma_roof(invocations: usize, iterations: u32) -> Vec<f64> {
    let (m, d) = (0.999f32 as f64, 0.001f32 as f64);
    (0..invocations)
        .map(|id| {
            let s = (id % 1024) as f64 / 1024.0;
            let mut total = 0.0;
            for chain in 0..crate::bench::roof::CHAINS {
                for lane in 0..4 {
                    let mut a = s + lane as f64 * 0.125 + chain as f64;
                    for _ in 0..iterations {
                        a = a * m + d;
                    }
                    total += a;
                }
            }
            total
        })
        .collect()
}
