//! Philox4x32-10 on the CPU, in exact u32 arithmetic, with the same mapping of its words
//! to uniform values as shaders/rng.wgsl, and normal values by Box-Muller in f64.
//! Production code (parameter initialisation, the prior's draws, evaluation noise) and
//! the twin that `tests/ops/rng.rs` checks the GPU generator against.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;
const TWO_POW_M24: f64 = 1.0 / (1u32 << 24) as f64;

/// (high, low) words of the 64-bit product.
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let product = a as u64 * b as u64;
    ((product >> 32) as u32, product as u32)
}

/// Philox4x32 with 10 rounds, as Random123's `philox4x32_R(10, counter, key)`.
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut x = counter;
    let mut key = key;
    for round in 0..10 {
        if round > 0 {
            key = [key[0].wrapping_add(W0), key[1].wrapping_add(W1)];
        }
        let (hi0, lo0) = mulhilo(M0, x[0]);
        let (hi1, lo1) = mulhilo(M1, x[2]);
        x = [hi1 ^ x[1] ^ key[0], lo1, hi0 ^ x[3] ^ key[1], lo0];
    }
    x
}

/// The n random words of a fill: word i is word i % 4 of block i / 4, whose counter is
/// (i / 4, stream, base low, base high) under key (seed low, seed high).
pub fn words(seed: u64, base: u64, stream: u32, n: usize) -> Vec<u32> {
    let key = [seed as u32, (seed >> 32) as u32];
    (0..n.div_ceil(4))
        .flat_map(|block| {
            philox4x32_10(
                [block as u32, stream, base as u32, (base >> 32) as u32],
                key,
            )
        })
        .take(n)
        .collect()
}

/// [0, 1) from the top 24 bits.
pub fn to_uniform(x: u32) -> f64 {
    (x >> 8) as f64 * TWO_POW_M24
}

pub fn uniform(seed: u64, base: u64, stream: u32, n: usize) -> Vec<f64> {
    words(seed, base, stream, n)
        .into_iter()
        .map(to_uniform)
        .collect()
}

/// Box-Muller on word pairs: words (0, 1) of a block give outputs 0 and 1 as
/// r cos(angle), r sin(angle), words (2, 3) outputs 2 and 3, with
/// r = sqrt(-2 ln u), u = ((x >> 8) + 1) 2^-24 in (0, 1], and the angle uniform in
/// [-pi, pi); every value times `temperature`.
pub fn normal(seed: u64, base: u64, stream: u32, n: usize, temperature: f64) -> Vec<f64> {
    let w = words(seed, base, stream, n.div_ceil(4) * 4);
    let mut out = Vec::with_capacity(w.len());
    for pair in w.chunks(2) {
        let u = ((pair[0] >> 8) as f64 + 1.0) * TWO_POW_M24;
        let r = (-2.0 * u.ln()).sqrt() * temperature;
        let angle = std::f64::consts::PI * (2.0 * to_uniform(pair[1]) - 1.0);
        out.push(r * angle.cos());
        out.push(r * angle.sin());
    }
    out.truncate(n);
    out
}
