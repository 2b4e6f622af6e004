//! `realnvp bench`: a preset's training step time, images/s, time to sample a batch, and
//! the GPU memory our buffers take, as JSON lines naming the adapter.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use crate::Result;
use crate::model::ModelConfig;
use crate::model::plan::{Memory, Plan};
use crate::model::state::ModelState;
use crate::ops::adam::AdamConfig;
use crate::runtime::Gpu;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `steps` timed training steps (after one warm-up step) and `steps` timed samplings.
pub fn run(
    gpu: Arc<Gpu>,
    config: ModelConfig,
    memory: Memory,
    steps: usize,
) -> Result<Vec<serde_json::Value>> {
    let adapter = crate::runtime::adapter::describe(&gpu.info);
    let before = gpu.pool_stats().bytes_created;
    let state = ModelState::new(gpu.clone(), config.clone(), 0)?;
    let plan = Plan::new(&state, config.batch, memory, &AdamConfig::default())?;
    let pixels: Vec<f32> = (0..config.batch * config.dim())
        .map(|i| ((i * 37) % 256) as f32)
        .collect();
    plan.train_step(&pixels)?;
    let (buffers, pipelines) = (gpu.pool_stats(), gpu.pipelines_compiled());
    let mut step_times = Vec::new();
    for _ in 0..steps {
        let t = Instant::now();
        plan.train_step(&pixels)?; // reads the loss back, so the GPU work is complete
        step_times.push(t.elapsed().as_secs_f64());
    }
    let allocated_in_steps = gpu.pool_stats().buffers_created - buffers.buffers_created;
    let compiled_in_steps = gpu.pipelines_compiled() - pipelines;
    plan.sample_images(0, 0.7, config.batch)?;
    let mut sample_times = Vec::new();
    for seed in 0..steps {
        let t = Instant::now();
        plan.sample_images(seed as u64, 0.7, config.batch)?;
        sample_times.push(t.elapsed().as_secs_f64());
    }
    let step = median(step_times);
    let lines = vec![
        json!({
            "bench": "train_step", "config": config, "memory": format!("{memory:?}"),
            "median_step_seconds": step, "images_per_second": config.batch as f64 / step,
            "steps_timed": steps, "buffers_created_in_timed_steps": allocated_in_steps,
            "pipelines_compiled_in_timed_steps": compiled_in_steps, "adapter": adapter,
        }),
        json!({
            "bench": "sample", "images": config.batch, "median_seconds": median(sample_times),
            "adapter": adapter,
        }),
        json!({
            "bench": "gpu_memory", "memory": format!("{memory:?}"),
            "bytes_in_buffers": gpu.pool_stats().bytes_created - before,
            "parameters": state.layout.param_count(), "adapter": adapter,
        }),
    ];
    for l in &lines {
        println!("{l}");
    }
    Ok(lines)
}
