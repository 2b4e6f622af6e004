//! After warm-up a training step creates no buffers and compiles no pipelines; it is one
//! submission, or slices of it with the same results.

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

#[test]
fn a_step_submitted_in_slices_gives_the_bits_of_one_submission() {
    // A device of its own: its submission count is ours.
    let gpu = Gpu::new(None).unwrap();
    let pixels = random_pixels(8 * 64, 3);
    let mut outcomes = Vec::new();
    for slice in [None, Some(7)] {
        let state = ModelState::new(gpu.clone(), ModelConfig::preset("tiny").unwrap(), 4).unwrap();
        let mut plan = plan(&state, 8, Memory::Recompute);
        plan.set_dispatches_per_submission(slice);
        let before = gpu.submissions();
        let (densities, _) = plan.train_step(&pixels).unwrap();
        let submissions = gpu.submissions() - before;
        outcomes.push((densities, gpu.read(&state.params).unwrap(), submissions));
    }
    let (whole, sliced) = (&outcomes[0], &outcomes[1]);
    assert_eq!(whole.2, 1, "one submission per step by default");
    assert!(sliced.2 > 10, "{} submissions in slices of 7", sliced.2);
    assert_eq!(whole.0, sliced.0, "the step's densities differ");
    assert_eq!(whole.1, sliced.1, "the updated weights differ");
}
