//! Replays the fuzzing corpus (`fuzz/seeds/<target>/`, minimised from `cargo +nightly
//! fuzz` runs) through the same parser calls as the fuzz targets, on stable Rust: every
//! input must give a result or an error, never a panic.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    for input in &inputs {
        let data = std::fs::read(input).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} panicked", input.display());
    }
    inputs.len()
}

/// A fuzz target: its name and what it runs on one input.
type Target = (&'static str, fn(&[u8]));

#[test]
fn the_saved_fuzzing_corpus_parses_without_panics() {
    let targets: [Target; 5] = [
        ("checkpoint", realnvp::fuzz::checkpoint),
        ("idx", realnvp::fuzz::idx),
        ("cifar", realnvp::fuzz::cifar),
        ("image", realnvp::fuzz::image),
        ("config", realnvp::fuzz::config),
    ];
    for (name, run) in targets {
        let n = replay(name, run);
        assert!(n > 0, "no saved inputs for {name}");
    }
    realnvp::fuzz::remove_scratch();
}
