//! inverse(forward(x)) == x in evaluation mode, for tiny and mnist, on random pixels and
//! on real MNIST images.

use realnvp::data;
use realnvp::model::plan::Memory;

use super::helpers::*;
use crate::common::gpu;

fn max_round_trip_error(preset: &str, batch: usize, pixels: &[f32]) -> f32 {
    let gpu = gpu();
    let state = perturbed_model(&gpu, preset, 3);
    let plan = plan(&state, batch, Memory::Recompute);
    plan.evaluate(pixels, &vec![0.5; pixels.len()]).unwrap();
    plan.decode().unwrap();
    let images = gpu.read(&plan.images).unwrap();
    images
        .iter()
        .zip(pixels)
        .map(|(x, p)| (x - (p + 0.5) / 256.0).abs())
        .fold(0f32, f32::max)
}

fn mnist_test_images(count: usize, side: usize) -> Vec<f32> {
    let split = data::load_split(&data::bundled_mnist_dir(), 1, 28, 28).unwrap();
    let test = split.test.unwrap().resized(side, side);
    let mut out = Vec::new();
    test.batch(&(0..count).collect::<Vec<_>>(), &mut out);
    out
}

#[test]
fn tiny_round_trips_random_and_real_images() {
    for (what, pixels) in [
        ("random", random_pixels(4 * 64, 5)),
        ("mnist", mnist_test_images(4, 8)),
    ] {
        let err = max_round_trip_error("tiny", 4, &pixels);
        println!("tiny, {what} images: max |x - inverse(forward(x))| = {err:e}");
        assert!(err <= 1e-4, "{what}: {err}");
    }
}

#[test]
fn mnist_preset_round_trips_random_and_real_images() {
    for (what, pixels) in [
        ("random", random_pixels(2 * 784, 6)),
        ("mnist", mnist_test_images(2, 28)),
    ] {
        let err = max_round_trip_error("mnist", 2, &pixels);
        println!("mnist preset, {what} images: max |x - inverse(forward(x))| = {err:e}");
        assert!(err <= 1e-4, "{what}: {err}");
    }
}
