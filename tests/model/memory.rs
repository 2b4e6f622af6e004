//! Rebuilding layer inputs by the exact inverse gives the gradients of storing them.

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
