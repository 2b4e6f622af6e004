//! Shared test helpers: one GPU context per test binary, seeded random data.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use realnvp::check::{narrow, widen};
use realnvp::{Gpu, Shape, Tensor};

/// The adapter the tests run on (lavapipe in CI), created once per test binary.
pub fn gpu() -> Arc<Gpu> {
    static GPU: OnceLock<Arc<Gpu>> = OnceLock::new();
    GPU.get_or_init(|| {
        let gpu = Gpu::new(None).expect("tests need a GPU adapter (lavapipe: mesa-vulkan-drivers)");
        eprintln!("test adapter: {}", gpu.adapter_name());
        gpu
    })
    .clone()
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// n values uniform in [-scale, scale).
pub fn uniform(rng: &mut StdRng, n: usize, scale: f64) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// Values rounded to f32, so the CPU twin sees exactly what the GPU sees.
pub fn f32_exact(v: Vec<f64>) -> Vec<f64> {
    widen(&narrow(&v))
}

pub fn upload(gpu: &Gpu, shape: impl Into<Shape>, data: &[f64]) -> Tensor {
    gpu.upload(shape, &narrow(data)).expect("upload")
}

pub fn download(gpu: &Gpu, t: &Tensor) -> Vec<f64> {
    widen(&gpu.read(t).expect("read"))
}

/// Shapes (N, C, H, W) that do not divide tile sizes, plus a pinned common one.
pub const ODD_SHAPES: &[[usize; 4]] = &[[1, 3, 7, 7], [2, 5, 13, 13], [3, 2, 1, 1], [2, 4, 8, 8]];
