//! After warm-up a training step creates no buffers and compiles no pipelines.

use realnvp::Gpu;
use realnvp::model::ModelConfig;
use realnvp::model::plan::Memory;
use realnvp::model::state::ModelState;

use super::helpers::*;

#[test]
fn a_warmed_up_training_step_allocates_and_compiles_nothing() {
    // A device of its own: tests running in parallel do not move its counters.
    let gpu = Gpu::new(None).unwrap();
    let state = ModelState::new(gpu.clone(), ModelConfig::preset("tiny").unwrap(), 1).unwrap();
    let plan = plan(&state, 16, Memory::Recompute);
    let pixels = random_pixels(16 * 64, 2);
    plan.train_step(&pixels).unwrap();
    let (pool, pipelines) = (gpu.pool_stats(), gpu.pipelines_compiled());
    for _ in 0..3 {
        plan.train_step(&pixels).unwrap();
    }
    assert_eq!(gpu.pool_stats(), pool, "a training step created buffers");
    assert_eq!(
        gpu.pipelines_compiled(),
        pipelines,
        "a training step compiled pipelines"
    );
}
