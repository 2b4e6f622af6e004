//! Buffer pool: a freed tensor's buffer goes back to a free list keyed by size, so that
//! after warm-up a training step creates no buffers (creating and first binding a buffer
//! is expensive in WebGPU).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Usage shared by every tensor buffer (uniform too: conv2d reads weights that way).
pub const TENSOR_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::UNIFORM)
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Sizes are rounded up to this many bytes so that similar tensors share buffers.
const GRANULE: u64 = 256;

#[derive(Default)]
pub struct BufferPool {
    free: Mutex<HashMap<u64, Vec<(u64, wgpu::Buffer)>>>,
    /// Mappable buffers that results are copied into for reading on the CPU.
    readback: Mutex<HashMap<u64, Vec<wgpu::Buffer>>>,
    next_id: AtomicU64,
    created: AtomicU64,
    created_bytes: AtomicU64,
    released: AtomicU64,
    released_bytes: AtomicU64,
}

/// Counters a test or benchmark reads to prove a step allocates nothing, and what the
/// pool holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    pub buffers_created: u64,
    pub bytes_created: u64,
    /// Buffers and bytes still held (by tensors, or idle in the pool): those created
    /// less those [`BufferPool::trim`] released.
    pub buffers_held: u64,
    pub bytes_held: u64,
}

impl BufferPool {
    /// A buffer of at least `bytes` bytes and its pool-wide id, reused when one is free.
    pub fn take(&self, device: &wgpu::Device, bytes: u64) -> (u64, wgpu::Buffer) {
        let size = bytes.max(4).div_ceil(GRANULE) * GRANULE;
        if let Some(found) = self.free.lock().unwrap().get_mut(&size).and_then(Vec::pop) {
            return found;
        }
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tensor"),
            size,
            usage: TENSOR_USAGE,
            mapped_at_creation: false,
        });
        self.created.fetch_add(1, Ordering::Relaxed);
        self.created_bytes.fetch_add(size, Ordering::Relaxed);
        (self.next_id.fetch_add(1, Ordering::Relaxed), buffer)
    }

    /// A mappable readback buffer of at least `bytes` bytes, reused when one is free.
    pub fn take_readback(&self, device: &wgpu::Device, bytes: u64) -> wgpu::Buffer {
        let size = bytes.max(4).div_ceil(GRANULE) * GRANULE;
        if let Some(found) = self
            .readback
            .lock()
            .unwrap()
            .get_mut(&size)
            .and_then(Vec::pop)
        {
            return found;
        }
        self.created.fetch_add(1, Ordering::Relaxed);
        self.created_bytes.fetch_add(size, Ordering::Relaxed);
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    pub fn give_back_readback(&self, buffer: wgpu::Buffer) {
        let size = buffer.size();
        self.readback
            .lock()
            .unwrap()
            .entry(size)
            .or_default()
            .push(buffer);
    }

    pub fn give_back(&self, id: u64, buffer: wgpu::Buffer) {
        let size = buffer.size();
        self.free
            .lock()
            .unwrap()
            .entry(size)
            .or_default()
            .push((id, buffer));
    }

    /// Releases every idle buffer (freed tensors' and readback buffers), for after
    /// one-off work whose buffers nothing will reuse.
    pub fn trim(&self) {
        let idle: Vec<wgpu::Buffer> = {
            let mut free = self.free.lock().unwrap();
            let mut readback = self.readback.lock().unwrap();
            free.drain()
                .flat_map(|(_, v)| v.into_iter().map(|(_, b)| b))
                .chain(readback.drain().flat_map(|(_, v)| v))
                .collect()
        };
        // Dropped, not destroyed: wgpu frees each once no submission still uses it.
        for buffer in idle {
            self.released.fetch_add(1, Ordering::Relaxed);
            self.released_bytes
                .fetch_add(buffer.size(), Ordering::Relaxed);
        }
    }

    pub fn stats(&self) -> PoolStats {
        let (created, created_bytes) = (
            self.created.load(Ordering::Relaxed),
            self.created_bytes.load(Ordering::Relaxed),
        );
        PoolStats {
            buffers_created: created,
            bytes_created: created_bytes,
            buffers_held: created - self.released.load(Ordering::Relaxed),
            bytes_held: created_bytes - self.released_bytes.load(Ordering::Relaxed),
        }
    }
}
