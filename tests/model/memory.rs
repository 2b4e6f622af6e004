//! Rebuilding layer inputs by the exact inverse gives the gradients of storing them, and
//! storing them spares the second network forward.

use realnvp::check::assert_close;
use realnvp::model::plan::Memory;

use super::helpers::*;
use crate::common::gpu;

#[test]
fn recomputed_and_stored_activations_give_the_same_gradients() {
    let gpu = gpu();
    let state = perturbed_model(&gpu, "tiny", 21);
    let n = 8;
    let pixels = random_pixels(n * 64, 22);
    let noise: Vec<f32> = realnvp::philox::uniform(23, 0, 0, n * 64)
        .iter()
        .map(|&u| u as f32)
        .collect();
    let mut grads = Vec::new();
    for memory in [Memory::Store, Memory::Recompute] {
        let plan = plan(&state, n, memory);
        plan.gradients(&pixels, Some(&noise)).unwrap();
        grads.push(realnvp::check::widen(&gpu.read(&state.grads).unwrap()));
    }
    let scale = grads[0].iter().fold(0f64, |m, g| m.max(g.abs()));
    println!("largest gradient {scale:e}");
    assert!(grads[0].iter().any(|&g| g != 0.0));
    assert_close(
        "gradients, recomputed vs stored activations",
        &grads[1],
        &grads[0],
        1e-4 * scale,
        1e-4,
    );
}

#[test]
fn stored_activations_run_each_network_once_per_step() {
    let gpu = gpu();
    let state = perturbed_model(&gpu, "tiny", 24);
    let pixels = random_pixels(8 * 64, 25);
    let count = |memory: Memory, kind: &str| {
        let (times, _) = plan(&state, 8, memory).profile_train_step(&pixels).unwrap();
        times.iter().filter(|t| t.kind == kind).count()
    };
    // Every network conv has a bias, so one grad-bias dispatch per conv backward; with
    // stored activations each conv runs forward once, recomputing twice.
    let convs = count(Memory::Store, "conv2d grad bias");
    assert!(convs > 0);
    assert_eq!(count(Memory::Store, "conv2d forward"), convs);
    assert_eq!(count(Memory::Recompute, "conv2d forward"), 2 * convs);
}
