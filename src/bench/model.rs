//! `realnvp bench`: a preset's training step time, images/s, time to sample a batch, one
//! image's inverse pass (the app's slider-to-image work), and the GPU memory our
//! buffers take, as JSON lines naming the adapter. `--profile` adds the GPU time of
//! every op kind in a training step and a sampling pass.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use crate::Result;
use crate::model::ModelConfig;
use crate::model::plan::{Memory, Plan};
use crate::model::state::ModelState;
use crate::ops::adam::AdamConfig;
use crate::runtime::Gpu;
use crate::runtime::profile::{DispatchTime, by_kind};
use crate::runtime::timer::Clock;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `steps` timed training steps (after one warm-up step) and `steps` timed samplings, as
/// JSON lines.
pub fn run(
    gpu: Arc<Gpu>,
    config: ModelConfig,
    memory: Memory,
    steps: usize,
) -> Result<Vec<serde_json::Value>> {
    let adapter = crate::runtime::adapter::describe(&gpu.info);
    let before = gpu.pool_stats().bytes_held;
    let start = Instant::now();
    let state = ModelState::new(gpu.clone(), config.clone(), 0)?;
    // Building the plan compiles pipelines and, the first time on an adapter, tunes
    // the conv kernels of each shape.
    let plan = Plan::new(&state, config.batch, memory, &AdamConfig::default())?;
    let pixels: Vec<f32> = (0..config.batch * config.dim())
        .map(|i| ((i * 37) % 256) as f32)
        .collect();
    let built = start.elapsed().as_secs_f64();
    plan.train_step(&pixels)?;
    let first_step = start.elapsed().as_secs_f64();
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
    let one_image = Plan::inference(&state, 1)?;
    let z = one_image.prior_latents(0, 1);
    one_image.decode_latents(&z)?;
    let mut one_image_times = Vec::new();
    for _ in 0..steps {
        let t = Instant::now();
        one_image.decode_latents(&z)?;
        one_image_times.push(t.elapsed().as_secs_f64());
    }
    let lines = vec![
        json!({
            "bench": "train_step", "config": config, "memory": format!("{memory:?}"),
            "median_step_seconds": step, "images_per_second": config.batch as f64 / step,
            "plan_built_after_seconds": built, "first_step_done_after_seconds": first_step,
            "kernel_choices": kernel_choices(&gpu),
            "steps_timed": steps, "buffers_created_in_timed_steps": allocated_in_steps,
            "pipelines_compiled_in_timed_steps": compiled_in_steps, "adapter": adapter,
        }),
        json!({
            "bench": "sample", "images": config.batch, "median_seconds": median(sample_times),
            "adapter": adapter,
        }),
        json!({
            "bench": "one_image_inverse", "median_seconds": median(one_image_times),
            "adapter": adapter,
        }),
        json!({
            "bench": "gpu_memory", "memory": format!("{memory:?}"),
            "bytes_in_buffers": gpu.pool_stats().bytes_held - before,
            "parameters": state.layout.param_count(), "adapter": adapter,
        }),
    ];
    Ok(lines)
}

/// Where the conv kernels come from: the tuned choices per shape, or the family.
fn kernel_choices(gpu: &Gpu) -> serde_json::Value {
    match gpu.tuning() {
        Some(t) => json!(t.choices()),
        None => json!(format!("{:?} (not tuned)", gpu.kernels)),
    }
}

/// One profiled training step and one profiled sampling pass of `config` (after a
/// warm-up step): JSON lines per op kind, and a table of each on stderr.
pub fn profile(
    gpu: Arc<Gpu>,
    config: ModelConfig,
    memory: Memory,
) -> Result<Vec<serde_json::Value>> {
    let adapter = crate::runtime::adapter::describe(&gpu.info);
    let state = ModelState::new(gpu.clone(), config.clone(), 0)?;
    let plan = Plan::new(&state, config.batch, memory, &AdamConfig::default())?;
    let pixels: Vec<f32> = (0..config.batch * config.dim())
        .map(|i| ((i * 37) % 256) as f32)
        .collect();
    plan.train_step(&pixels)?;
    let step = plan.profile_train_step(&pixels)?;
    plan.set_latents(
        &plan.latent_layout.to_tensors(
            plan.prior_latents(0, config.batch)
                .iter()
                .map(|v| v.as_slice()),
        ),
    )?;
    let sample = plan.profile_decode()?;
    let mut lines = Vec::new();
    for (pass, (times, clock)) in [("train_step", step), ("sample", sample)] {
        lines.extend(report(pass, &times, clock, &adapter));
    }
    Ok(lines)
}

/// One JSON line per op kind of `pass` (with its entry points), and the table on stderr
/// (entry points indented under a kind that has several). The table is best effort: a
/// closed stderr loses it, not the figures.
fn report(
    pass: &str,
    times: &[DispatchTime],
    clock: Clock,
    adapter: &str,
) -> Vec<serde_json::Value> {
    let total: f64 = times.iter().map(|t| t.seconds).sum();
    let rows = by_kind(times);
    let mut table = std::io::stderr().lock();
    let _ = writeln!(
        table,
        "\n{pass}: {} dispatches, {:.3} s of GPU time ({}) on {adapter}",
        times.len(),
        total,
        clock.name()
    );
    let _ = writeln!(
        table,
        "{:<24} {:>10} {:>10} {:>7} {:>10}",
        "op kind", "dispatches", "ms", "share", "GB/s bound"
    );
    let mut lines = Vec::new();
    for r in &rows {
        let gbs = r.bytes_bound as f64 / r.seconds.max(f64::MIN_POSITIVE) * 1e-9;
        let _ = writeln!(
            table,
            "{:<24} {:>10} {:>10.1} {:>6.1}% {:>10.2}",
            r.kind,
            r.dispatches,
            r.seconds * 1e3,
            100.0 * r.seconds / total,
            gbs
        );
        let mut entries = serde_json::Map::new();
        for e in &r.entries {
            if r.entries.len() > 1 {
                let _ = writeln!(
                    table,
                    "  {:<28} {:>4} {:>10.1} {:>6.1}% {:>10.2}",
                    e.entry,
                    e.dispatches,
                    e.seconds * 1e3,
                    100.0 * e.seconds / total,
                    e.bytes_bound as f64 / e.seconds.max(f64::MIN_POSITIVE) * 1e-9
                );
            }
            entries.insert(
                e.entry.to_string(),
                json!({"dispatches": e.dispatches, "ms": e.seconds * 1e3,
                       "bytes_bound": e.bytes_bound}),
            );
        }
        let line = json!({
            "bench": "profile", "pass": pass, "kind": r.kind, "dispatches": r.dispatches,
            "ms": r.seconds * 1e3, "share": r.seconds / total, "bytes_bound": r.bytes_bound,
            "entries": entries, "clock": clock.name(), "adapter": adapter,
        });
        lines.push(line);
    }
    lines
}
