use realnvp::model::plan::{EvalNoise, Memory};

use super::helpers::*;
use crate::common::gpu;

#[test]
fn tiny_forward_then_inverse_recovers_the_image() {
    let gpu = gpu();
    let state = perturbed_model(&gpu, "tiny", 3);
    let plan = plan(&state, 4, Memory::Recompute);
    let pixels = random_pixels(4 * 64, 5);
    gpu.write(&plan.pixels, &pixels).unwrap();
    let stats = plan.evaluate(EvalNoise::Half).unwrap();
    println!("{stats:?}");
    plan.decode().unwrap();
    let images = gpu.read(&plan.images).unwrap();
    let max = images
        .iter()
        .zip(&pixels)
        .map(|(x, p)| (x - (p + 0.5) / 256.0).abs())
        .fold(0f32, f32::max);
    println!("max |x - inverse(forward(x))| = {max:e}");
    assert!(max <= 1e-4);
}
