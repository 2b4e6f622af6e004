//! `bench --profile` times the very work of a step: a profiled step leaves the model
//! exactly where a plain step does, and every dispatch is accounted for.

use realnvp::model::ModelConfig;
use realnvp::model::plan::Memory;
use realnvp::model::state::ModelState;
use realnvp::runtime::profile::by_kind;

use crate::common::gpu;

use super::helpers::*;

#[test]
fn a_profiled_step_is_a_plain_step_timed_dispatch_by_dispatch() {
    let config = ModelConfig::preset("tiny").unwrap();
    let pixels = random_pixels(16 * 64, 3);
    let plain = ModelState::new(gpu(), config.clone(), 5).unwrap();
    let profiled = ModelState::new(gpu(), config, 5).unwrap();
    let (a, b) = (
        plan(&plain, 16, Memory::Recompute),
        plan(&profiled, 16, Memory::Recompute),
    );
    for _ in 0..2 {
        a.train_step(&pixels).unwrap();
    }
    b.train_step(&pixels).unwrap();
    let (times, _) = b.profile_train_step(&pixels).unwrap();
    let read = |s: &ModelState| s.gpu.read(&s.params).unwrap();
    assert_eq!(
        read(&plain),
        read(&profiled),
        "the profiled step did other work"
    );

    assert!(
        times
            .iter()
            .all(|t| t.seconds.is_finite() && t.seconds >= 0.0)
    );
    let kinds = by_kind(&times);
    assert_eq!(
        kinds.iter().map(|k| k.dispatches).sum::<usize>(),
        times.len()
    );
    for k in &kinds {
        let entries: usize = k.entries.iter().map(|e| e.dispatches).sum();
        assert_eq!(
            entries, k.dispatches,
            "{}'s entries miss dispatches",
            k.kind
        );
    }
    let norm = kinds.iter().find(|k| k.kind == "batch_norm").unwrap();
    // Each but the last has a scalar and a vec4 entry ("...4").
    for entry in [
        "batch_norm_stats",
        "batch_norm_forward",
        "batch_norm_backward",
        "batch_norm_backward_params",
    ] {
        assert!(
            norm.entries
                .iter()
                .any(|e| e.entry == entry || e.entry == format!("{entry}4")),
            "no {entry} under batch_norm: {:?}",
            norm.entries
        );
    }
    for kind in [
        "conv2d forward",
        "conv2d grad input",
        "conv2d grad weight",
        "batch_norm",
        "adam",
    ] {
        assert!(
            kinds.iter().any(|k| k.kind == kind),
            "no {kind} in the profile: {kinds:?}"
        );
    }
    let (decode, _) = b.profile_decode().unwrap();
    assert!(decode.iter().any(|t| t.kind == "conv2d forward"));
    assert!(decode.iter().all(|t| t.kind != "conv2d grad weight"));
}
