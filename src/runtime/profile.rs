//! Per-dispatch GPU time for `realnvp bench --profile`. Each dispatch gets its own
//! compute pass with timestamps at its start and end (or, without timestamp queries,
//! its own submission timed by the wall clock). Only the profile records this way:
//! normal steps keep their single pass and carry none of this cost.

use std::time::Instant;

use super::Gpu;
use super::kernel::Dispatch;
use super::timer::Clock;
use crate::error::{Error, Result};

/// One dispatch's time and what it is.
#[derive(Clone, Debug)]
pub struct DispatchTime {
    pub kind: &'static str,
    pub entry: &'static str,
    pub seconds: f64,
    pub bytes_bound: u64,
}

/// wgpu caps a query set at 4096 queries; two per dispatch.
const DISPATCHES_PER_QUERY_SET: usize = 2048;

/// Runs `dispatches` in order, each timed alone, and returns their times in order.
pub fn profile(gpu: &Gpu, dispatches: &[&Dispatch]) -> Result<(Vec<DispatchTime>, Clock)> {
    let timed = |d: &Dispatch, seconds: f64| DispatchTime {
        kind: d.kind,
        entry: d.entry,
        seconds,
        bytes_bound: d.bytes_bound(),
    };
    gpu.wait()?;
    if !gpu
        .device
        .features()
        .contains(wgpu::Features::TIMESTAMP_QUERY)
    {
        let mut out = Vec::with_capacity(dispatches.len());
        for d in dispatches {
            let start = Instant::now();
            gpu.run(|pass| d.encode(pass));
            gpu.wait()?;
            out.push(timed(d, start.elapsed().as_secs_f64()));
        }
        return Ok((out, Clock::WallClockWithSync));
    }
    let mut out = Vec::with_capacity(dispatches.len());
    for chunk in dispatches.chunks(DISPATCHES_PER_QUERY_SET) {
        let ticks = timestamps(gpu, chunk)?;
        let period = gpu.queue.get_timestamp_period() as f64;
        for (d, pair) in chunk.iter().zip(ticks.chunks(2)) {
            let seconds = pair[1].saturating_sub(pair[0]) as f64 * period * 1e-9;
            out.push(timed(d, seconds));
        }
    }
    Ok((out, Clock::GpuTimestamps))
}

/// Start and end ticks of each dispatch, each in its own pass, in one submission.
fn timestamps(gpu: &Gpu, dispatches: &[&Dispatch]) -> Result<Vec<u64>> {
    let count = 2 * dispatches.len() as u32;
    let bytes = count as u64 * 8;
    let set = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
        label: Some("profile"),
        ty: wgpu::QueryType::Timestamp,
        count,
    });
    let resolve = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("profile resolve"),
        size: bytes,
        usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let readback = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("profile readback"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = gpu.device.create_command_encoder(&Default::default());
    for (i, d) in dispatches.iter().enumerate() {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(d.entry),
            timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                query_set: &set,
                beginning_of_pass_write_index: Some(2 * i as u32),
                end_of_pass_write_index: Some(2 * i as u32 + 1),
            }),
        });
        d.encode(&mut pass);
    }
    enc.resolve_query_set(&set, 0..count, &resolve, 0);
    enc.copy_buffer_to_buffer(&resolve, 0, &readback, 0, bytes);
    gpu.queue.submit([enc.finish()]);
    readback.map_async(wgpu::MapMode::Read, .., |_| {});
    gpu.wait()?;
    let ticks = {
        let view = readback
            .get_mapped_range(..)
            .map_err(|e| Error::Gpu(format!("{e:?}")))?;
        bytemuck::cast_slice::<u8, u64>(&view).to_vec()
    };
    readback.unmap();
    Ok(ticks)
}

/// One row of a profile: every dispatch of one kind, summed, and split by entry point
/// (batch norm's statistics, apply and backward are one kind, three entries).
#[derive(Clone, Debug)]
pub struct KindTotal {
    pub kind: &'static str,
    pub dispatches: usize,
    pub seconds: f64,
    pub bytes_bound: u64,
    /// Largest time first.
    pub entries: Vec<EntryTotal>,
}

/// Every dispatch of one entry point within a kind, summed.
#[derive(Clone, Debug)]
pub struct EntryTotal {
    pub entry: &'static str,
    pub dispatches: usize,
    pub seconds: f64,
    pub bytes_bound: u64,
}

/// Sums `times` per kind and, within each, per entry point, largest time first.
pub fn by_kind(times: &[DispatchTime]) -> Vec<KindTotal> {
    let mut rows: Vec<KindTotal> = Vec::new();
    for t in times {
        let row = match rows.iter().position(|r| r.kind == t.kind) {
            Some(i) => &mut rows[i],
            None => {
                rows.push(KindTotal {
                    kind: t.kind,
                    dispatches: 0,
                    seconds: 0.0,
                    bytes_bound: 0,
                    entries: Vec::new(),
                });
                rows.last_mut().expect("just pushed")
            }
        };
        row.dispatches += 1;
        row.seconds += t.seconds;
        row.bytes_bound += t.bytes_bound;
        let entry = match row.entries.iter().position(|e| e.entry == t.entry) {
            Some(i) => &mut row.entries[i],
            None => {
                row.entries.push(EntryTotal {
                    entry: t.entry,
                    dispatches: 0,
                    seconds: 0.0,
                    bytes_bound: 0,
                });
                row.entries.last_mut().expect("just pushed")
            }
        };
        entry.dispatches += 1;
        entry.seconds += t.seconds;
        entry.bytes_bound += t.bytes_bound;
    }
    for r in &mut rows {
        r.entries.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    }
    rows.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    rows
}
