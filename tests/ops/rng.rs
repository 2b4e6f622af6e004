use realnvp::ops::rng::{self, RngState};
use realnvp::philox as cpu;
use realnvp::{Gpu, Tensor};

use crate::common::*;

/// Random123's published known-answer vectors for Philox4x32-10 (tests/kat_vectors).
#[test]
fn philox_matches_random123_known_answers() {
    let cases = [
        (
            [0; 4],
            [0; 2],
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
        ),
        (
            [0xffffffff; 4],
            [0xffffffff; 2],
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
        ),
        (
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0],
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
        ),
    ];
    for (counter, key, want) in cases {
        assert_eq!(
            cpu::philox4x32_10(counter, key),
            want,
            "counter {counter:x?} key {key:x?}"
        );
    }
}

/// Seed 0, base 0, stream 0: block 0's counter and key are all zeros, so the GPU's first
/// four uniforms are the known answer's words, top 24 bits.
#[test]
fn gpu_philox_matches_the_zero_known_answer() {
    let gpu = gpu();
    let state = RngState::new(0).upload(&gpu).unwrap();
    let y = gpu.empty([4]).unwrap();
    let op = rng::uniform(&gpu, &state, &y, 0).unwrap();
    gpu.run(|p| op.encode(p));
    let want: Vec<f64> = [0x6627e8d5u32, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        .map(cpu::to_uniform)
        .to_vec();
    assert_eq!(download(&gpu, &y), want);
}

fn fill_uniform(gpu: &Gpu, state: &Tensor, y: &Tensor, stream: u32) -> Vec<f64> {
    let op = rng::uniform(gpu, state, y, stream).unwrap();
    gpu.run(|p| op.encode(p));
    download(gpu, y)
}

fn advance(gpu: &Gpu, state: &Tensor) {
    let op = rng::advance(gpu, state).unwrap();
    gpu.run(|p| op.encode(p));
}

/// Odd lengths, a view at an offset, a base whose high word matters and a non-zero
/// stream: every value equals the twin's exactly.
#[test]
fn uniform_fill_matches_twin_bit_for_bit() {
    let gpu = gpu();
    let start = RngState {
        seed: 0x0123_4567_89ab_cdef,
        base: 0x1_ffff_fffe,
    };
    for n in [1, 3, 63, 65, 1000, 5003] {
        let state = start.upload(&gpu).unwrap();
        let buffer = gpu.zeros([64 + n]).unwrap();
        let y = buffer.view(64, [n]).unwrap();
        let got = fill_uniform(&gpu, &state, &y, 3);
        assert_eq!(got, cpu::uniform(start.seed, start.base, 3, n), "n={n}");
        assert!(got.iter().all(|&u| (0.0..1.0).contains(&u)));
        assert_eq!(
            download(&gpu, &buffer)[..64],
            [0.0; 64],
            "n={n}: before the view"
        );
    }
}

/// Each advance moves the base by one (carrying into the high word) and gives new
/// numbers; the same seed and base give the same numbers again; streams differ. The
/// seed's words are NaN bit patterns as f32, which must survive upload and readback.
#[test]
fn advance_gives_fresh_numbers_and_the_same_seed_reproduces() {
    let gpu = gpu();
    let seed = 0xffff_ffff_7fc0_0001;
    let start = RngState {
        seed,
        base: 0xffff_ffff,
    };
    let n = 1001;
    let state = start.upload(&gpu).unwrap();
    let y = gpu.empty([n]).unwrap();
    let first = fill_uniform(&gpu, &state, &y, 0);
    let other_stream = fill_uniform(&gpu, &state, &y, 1);
    advance(&gpu, &state);
    let second = fill_uniform(&gpu, &state, &y, 0);
    advance(&gpu, &state);
    let third = fill_uniform(&gpu, &state, &y, 0);
    let after = RngState {
        seed,
        base: 0x1_0000_0001,
    };
    let words: Vec<u32> = gpu
        .read(&state)
        .unwrap()
        .iter()
        .map(|w| w.to_bits())
        .collect();
    assert_eq!(
        words,
        after.to_words().map(f32::to_bits),
        "state after two advances"
    );
    assert_eq!(second, cpu::uniform(seed, 0x1_0000_0000, 0, n));
    let same = |a: &[f64], b: &[f64]| a.iter().zip(b).filter(|(x, y)| x == y).count();
    for (name, other) in [
        ("advanced", &second),
        ("advanced twice", &third),
        ("stream 1", &other_stream),
    ] {
        // Two independent 24-bit uniforms coincide with probability 2^-24.
        assert!(
            same(&first, other) <= 1,
            "{name}: {} equal values",
            same(&first, other)
        );
    }
    assert!(same(&second, &third) <= 1);

    let again = start.upload(&gpu).unwrap();
    assert_eq!(
        fill_uniform(&gpu, &again, &y, 0),
        first,
        "same seed and base"
    );
    let reseeded = RngState::new(seed ^ 1).upload(&gpu).unwrap();
    assert!(
        same(&fill_uniform(&gpu, &reseeded, &y, 0), &first) <= 1,
        "other seed"
    );
}

/// The twin's normals (parameter initialisation and the prior's draws use them): at
/// 100k values, mean and variance within five standard errors of 0 and T^2 (a false
/// alarm about once in 10^6 runs; the seeds are fixed anyway).
#[test]
fn philox_normals_have_the_temperature_as_standard_deviation() {
    let n = 100_003;
    for (seed, temperature) in [(2024, 1.0), (42, 0.7)] {
        let z = cpu::normal(seed, 0, 0, n, temperature);
        let mean = z.iter().sum::<f64>() / n as f64;
        let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        let t2 = temperature * temperature;
        let se_mean = (t2 / n as f64).sqrt();
        let se_var = t2 * (2.0 / n as f64).sqrt();
        assert!(mean.abs() < 5.0 * se_mean, "T={temperature}: mean {mean}");
        assert!(
            (var - t2).abs() < 5.0 * se_var,
            "T={temperature}: variance {var}"
        );
    }
}

#[test]
fn wrong_state_length_is_an_error_naming_the_op() {
    let gpu = gpu();
    let bad = gpu.zeros([3]).unwrap();
    let y = gpu.zeros([10]).unwrap();
    let e = rng::uniform(&gpu, &bad, &y, 0)
        .err()
        .expect("must fail")
        .to_string();
    assert!(e.contains("rng_uniform") && e.contains("[3]"), "{e}");
    let e = rng::advance(&gpu, &bad).err().unwrap().to_string();
    assert!(e.contains("rng_advance") && e.contains("[3]"), "{e}");
    let state = RngState::new(1).upload(&gpu).unwrap();
    let e = rng::uniform(&gpu, &state, &state, 0)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("shares its buffer"), "{e}");
}
