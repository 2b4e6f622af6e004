//! Timing GPU work: timestamp queries around one compute pass where the adapter has
//! them, else the wall clock around a submit and a full device sync.

use std::time::Instant;

use super::Gpu;
use crate::error::{Error, Result};

/// How a figure was measured, printed beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    GpuTimestamps,
    WallClockWithSync,
}

impl Clock {
    pub fn name(self) -> &'static str {
        match self {
            Clock::GpuTimestamps => "gpu-timestamps",
            Clock::WallClockWithSync => "wall-clock-sync",
        }
    }
}

/// Seconds per repetition of `record`, recorded `reps` times into one compute pass.
pub fn time_pass(
    gpu: &Gpu,
    reps: u32,
    record: &dyn Fn(&mut wgpu::ComputePass<'_>),
) -> Result<(f64, Clock)> {
    if !gpu
        .device
        .features()
        .contains(wgpu::Features::TIMESTAMP_QUERY)
    {
        gpu.wait()?;
        let start = Instant::now();
        gpu.run(|pass| (0..reps).for_each(|_| record(pass)));
        gpu.wait()?;
        return Ok((
            start.elapsed().as_secs_f64() / reps as f64,
            Clock::WallClockWithSync,
        ));
    }
    let set = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
        label: Some("timer"),
        ty: wgpu::QueryType::Timestamp,
        count: 2,
    });
    let resolve = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("timer resolve"),
        size: 16,
        usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let readback = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("timer readback"),
        size: 16,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("timed"),
            timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                query_set: &set,
                beginning_of_pass_write_index: Some(0),
                end_of_pass_write_index: Some(1),
            }),
        });
        (0..reps).for_each(|_| record(&mut pass));
    }
    enc.resolve_query_set(&set, 0..2, &resolve, 0);
    enc.copy_buffer_to_buffer(&resolve, 0, &readback, 0, 16);
    gpu.queue.submit([enc.finish()]);
    readback.map_async(wgpu::MapMode::Read, .., |_| {});
    gpu.wait()?;
    let ticks: [u64; 2] = {
        let view = readback
            .get_mapped_range(..)
            .map_err(|e| Error::Gpu(format!("{e:?}")))?;
        bytemuck::pod_read_unaligned(&view[..16])
    };
    readback.unmap();
    let ns = ticks[1].saturating_sub(ticks[0]) as f64 * gpu.queue.get_timestamp_period() as f64;
    Ok((ns * 1e-9 / reps as f64, Clock::GpuTimestamps))
}
