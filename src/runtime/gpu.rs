//! The compute context: one device and queue, the buffer pool and the pipeline cache,
//! built once and shared (`Arc<Gpu>`) by the CLI, the tests and the desktop app.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wgpu::util::DeviceExt;

use super::adapter;
use super::kernel::{Access, Bind, Dispatch, KernelCache, Target, Wgsl};
use super::pool::{BufferPool, PoolStats};
use super::tensor::{Shape, Tensor};
use super::tuning::Tuning;
use crate::error::{Error, Result, shape_err};

/// Which family of kernel variants suits the adapter (see ARCHITECTURE.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelFamily {
    /// Workgroup-memory tiling: real GPUs, where shared memory is fast and barriers cheap.
    Tiled,
    /// Register-blocked, barrier-free kernels: CPU adapters such as lavapipe, where
    /// barriers cost more than workgroup memory saves.
    Direct,
}

/// Environment variable that forces a kernel family (`tiled` or `direct`).
pub const KERNELS_ENV: &str = "REALNVP_KERNELS";

impl KernelFamily {
    /// The family `REALNVP_KERNELS` forces, if it names one.
    pub fn forced() -> Option<Self> {
        match std::env::var(KERNELS_ENV).as_deref() {
            Ok("tiled") => Some(KernelFamily::Tiled),
            Ok("direct") => Some(KernelFamily::Direct),
            _ => None,
        }
    }

    pub fn for_adapter(info: &wgpu::AdapterInfo) -> Self {
        if let Some(forced) = Self::forced() {
            return forced;
        }
        if info.device_type == wgpu::DeviceType::Cpu {
            KernelFamily::Direct
        } else {
            KernelFamily::Tiled
        }
    }
}

pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub kernels: KernelFamily,
    pool: Arc<BufferPool>,
    cache: KernelCache,
    /// Scratch tensors shared by every op that asks for the same purpose and shape (see [`Gpu::scratch`]).
    scratch: std::sync::Mutex<std::collections::HashMap<(&'static str, Shape), Tensor>>,
    /// Upload staging; its chunks are reused once the GPU has consumed them.
    belt: std::sync::Mutex<wgpu::util::StagingBelt>,
    /// Kernel variants chosen per shape by measurement, once [`Gpu::tune_kernels`] is called.
    tuning: std::sync::OnceLock<Tuning>,
    submissions: AtomicU64,
}

/// The chosen adapter and a device with what the compute needs, before it becomes a
/// [`Gpu`]: the desktop app hands the same device to its renderer.
pub struct OpenedDevice {
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
}

impl OpenedDevice {
    /// The adapter [`adapter::choose`] picks, with a device of its full limits (and
    /// timestamps where supported, for the benchmarks).
    pub fn new(adapter_name: Option<&str>) -> Result<OpenedDevice> {
        let instance = adapter::instance();
        let adapter = adapter::choose(&instance, adapter_name)?;
        let wanted = wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("realnvp"),
            required_features: adapter.features() & wanted,
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|source| Error::Device {
            adapter: adapter.get_info().name,
            source,
        })?;
        Ok(OpenedDevice {
            instance,
            adapter,
            device,
            queue,
        })
    }
}

/// Staging chunk size: holds a batch of CIFAR-sized images (64 x 3 x 32 x 32 x 4 bytes).
const STAGING_CHUNK: u64 = 1 << 20;

impl Gpu {
    /// Opens the chosen adapter (see [`adapter::choose`]) and creates a device on it.
    pub fn new(adapter_name: Option<&str>) -> Result<Arc<Gpu>> {
        let opened = OpenedDevice::new(adapter_name)?;
        Ok(Gpu::from_device(
            opened.adapter.get_info(),
            opened.device,
            opened.queue,
        ))
    }

    /// Wraps a device made elsewhere (the desktop app shares its rendering device).
    pub fn from_device(
        info: wgpu::AdapterInfo,
        device: wgpu::Device,
        queue: wgpu::Queue,
    ) -> Arc<Gpu> {
        let belt =
            std::sync::Mutex::new(wgpu::util::StagingBelt::new(device.clone(), STAGING_CHUNK));
        Arc::new(Gpu {
            belt,
            scratch: Default::default(),
            submissions: AtomicU64::new(0),
            kernels: KernelFamily::for_adapter(&info),
            device,
            queue,
            info,
            pool: Arc::default(),
            cache: KernelCache::default(),
            tuning: Default::default(),
        })
    }

    /// From now on, ops that have variants (conv2d) pick them per shape by timing each
    /// once, remembered in `cache_file` (see [`Tuning`]). Without this, or when
    /// `REALNVP_KERNELS` forces a family, they use the adapter's family: the library's
    /// default, so that tests get the same kernels on every run. The CLI and the app
    /// turn it on.
    pub fn tune_kernels(&self, cache_file: Option<std::path::PathBuf>) {
        if KernelFamily::forced().is_none() {
            let _ = self.tuning.set(Tuning::open(&self.info, cache_file));
        }
    }

    /// The per-shape kernel choices, when [`Gpu::tune_kernels`] turned them on.
    pub fn tuning(&self) -> Option<&Tuning> {
        self.tuning.get()
    }

    pub fn adapter_name(&self) -> &str {
        &self.info.name
    }

    /// A tensor whose contents are undefined (a reused buffer keeps old data).
    pub fn empty(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        let bytes = shape.numel() as u64 * 4;
        let max = self.device.limits().max_storage_buffer_binding_size;
        if bytes == 0 || bytes > max {
            return shape_err(
                "tensor",
                format!("shape {shape} needs {bytes} bytes; a tensor must hold 1 to {max} bytes"),
            );
        }
        let (id, buffer) = self.pool.take(&self.device, bytes);
        Ok(Tensor::new(self.pool.clone(), id, buffer, shape))
    }

    /// A scratch tensor shared with every other op that asks for it for the same
    /// `purpose` and shape: for values an op writes and consumes within its own
    /// dispatches (dispatches run one after another, so ops never see each other's
    /// scratch). Saves memory that would otherwise grow with the number of layers; an op
    /// that needs two scratch tensors at once names two purposes.
    pub fn scratch(&self, purpose: &'static str, shape: impl Into<Shape>) -> Result<Tensor> {
        let key = (purpose, shape.into());
        let mut all = self.scratch.lock().unwrap();
        if let Some(t) = all.get(&key) {
            return Ok(t.clone());
        }
        let t = self.empty(key.1.clone())?;
        all.insert(key, t.clone());
        Ok(t)
    }

    /// Runs one-off `work` (kernel tuning), then releases the scratch tensors it alone
    /// asked for and every buffer left idle in the pool, so that its temporaries do not
    /// stay allocated for the life of the device.
    pub fn with_one_off_buffers<T>(&self, work: impl FnOnce() -> T) -> T {
        let kept: std::collections::HashSet<(&'static str, Shape)> =
            self.scratch.lock().unwrap().keys().cloned().collect();
        let result = work();
        self.scratch
            .lock()
            .unwrap()
            .retain(|key, _| kept.contains(key));
        self.pool.trim();
        result
    }

    pub fn zeros(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let t = self.empty(shape)?;
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.clear_buffer(t.buffer(), 0, Some(t.bytes()));
        self.queue.submit([enc.finish()]);
        Ok(t)
    }

    pub fn upload(&self, shape: impl Into<Shape>, data: &[f32]) -> Result<Tensor> {
        let shape = shape.into();
        if shape.numel() != data.len() {
            return shape_err(
                "upload",
                format!(
                    "shape {shape} holds {} values, data has {}",
                    shape.numel(),
                    data.len()
                ),
            );
        }
        let t = self.empty(shape)?;
        self.write(&t, data)?;
        Ok(t)
    }

    pub fn write(&self, t: &Tensor, data: &[f32]) -> Result<()> {
        self.submit(&[(t, data)], |_| {}, &[]).map(|_| ())
    }

    /// Copies a tensor back to the CPU, after all work submitted before.
    pub fn read(&self, t: &Tensor) -> Result<Vec<f32>> {
        Ok(self.submit(&[], |_| {}, &[t])?.remove(0))
    }

    /// One submission: `uploads` copied in through the staging belt, `record` as one
    /// compute pass, then each of `downloads` copied into a pooled readback buffer;
    /// returns the downloaded values (waiting for the GPU when there are any). After
    /// warm-up this creates no buffers, so a training step can upload its batch and read
    /// its loss in the same submission.
    pub fn submit(
        &self,
        uploads: &[(&Tensor, &[f32])],
        record: impl FnOnce(&mut wgpu::ComputePass<'_>),
        downloads: &[&Tensor],
    ) -> Result<Vec<Vec<f32>>> {
        for (t, data) in uploads {
            if t.numel() != data.len() {
                return shape_err(
                    "write",
                    format!(
                        "tensor {} holds {} values, data has {}",
                        t.shape(),
                        t.numel(),
                        data.len()
                    ),
                );
            }
        }
        let mut belt = self.belt.lock().unwrap();
        let mut enc = self.device.create_command_encoder(&Default::default());
        for (t, data) in uploads {
            let size = wgpu::BufferSize::new(t.bytes()).expect("tensors are never empty");
            belt.write_buffer(&mut enc, t.buffer(), t.offset() as u64 * 4, size)
                .copy_from_slice(bytemuck::cast_slice(data));
        }
        belt.finish();
        record(&mut enc.begin_compute_pass(&Default::default()));
        let readbacks: Vec<(wgpu::Buffer, u64)> = downloads
            .iter()
            .map(|t| {
                let buffer = self.pool.take_readback(&self.device, t.bytes());
                enc.copy_buffer_to_buffer(t.buffer(), t.offset() as u64 * 4, &buffer, 0, t.bytes());
                (buffer, t.bytes())
            })
            .collect();
        self.queue.submit([enc.finish()]);
        self.submissions.fetch_add(1, Ordering::Relaxed);
        belt.recall();
        drop(belt);
        if readbacks.is_empty() {
            return Ok(Vec::new());
        }
        let (tx, rx) = std::sync::mpsc::channel();
        for (buffer, bytes) in &readbacks {
            let tx = tx.clone();
            buffer.map_async(wgpu::MapMode::Read, ..*bytes, move |r| {
                let _ = tx.send(r);
            });
        }
        self.wait()?;
        for _ in &readbacks {
            rx.recv()
                .map_err(|e| Error::Gpu(e.to_string()))?
                .map_err(|e| Error::Gpu(format!("mapping a readback buffer: {e}")))?;
        }
        let mut out = Vec::with_capacity(readbacks.len());
        for (buffer, bytes) in readbacks {
            {
                let view = buffer
                    .get_mapped_range(..bytes)
                    .map_err(|e| Error::Gpu(format!("{e:?}")))?;
                out.push(bytemuck::cast_slice(&view).to_vec());
            }
            buffer.unmap();
            self.pool.give_back_readback(buffer);
        }
        Ok(out)
    }

    /// The texels of a 2-D `Rgba8Unorm` texture, row-major RGBA bytes: for tests and
    /// screenshots (the display path never reads pixels back).
    pub fn read_texture(&self, texture: &wgpu::Texture) -> Result<Vec<u8>> {
        let (width, height) = (texture.width(), texture.height());
        let row = width * 4;
        let padded =
            row.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("texture readback"),
            size: (padded * height) as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_texture_to_buffer(
            texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(padded),
                    rows_per_image: None,
                },
            },
            texture.size(),
        );
        self.queue.submit([enc.finish()]);
        buffer.map_async(wgpu::MapMode::Read, .., |_| {});
        self.wait()?;
        let mapped = buffer
            .get_mapped_range(..)
            .map_err(|e| Error::Gpu(format!("{e:?}")))?;
        Ok(mapped
            .chunks(padded as usize)
            .flat_map(|r| &r[..row as usize])
            .copied()
            .collect())
    }

    /// Blocks until the queue is idle.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| Error::Gpu(e.to_string()))
    }

    /// Builds a dispatch of `entry` in `shader` with uniform `params` (binding 0) and the
    /// storage `binds` (their own slots). Pipelines and layouts come from the cache.
    /// Refuses (Err, not a wgpu abort) to bind one buffer both read-only and writable.
    pub fn dispatch<P: bytemuck::Pod>(
        &self,
        shader: &'static Wgsl,
        entry: &'static str,
        params: &P,
        binds: &[Bind<'_>],
        workgroups: [u32; 3],
    ) -> Result<Dispatch> {
        exclusive_writes(shader, entry, binds)?;
        let access: Vec<(u32, Access)> = binds.iter().map(|b| (b.slot, b.access)).collect();
        within_default_limits(shader.name, entry, &access)?;
        let pipeline = self.cache.pipeline(&self.device, shader, entry, &access);
        let layout = self.cache.layout(&self.device, &access);
        // Uniform blocks are multiples of 16 bytes in WGSL.
        let mut bytes = bytemuck::bytes_of(params).to_vec();
        bytes.resize(bytes.len().div_ceil(16).max(1) * 16, 0);
        let uniform = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(entry),
                contents: &bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        entries.extend(binds.iter().map(|b| wgpu::BindGroupEntry {
            binding: b.slot,
            resource: match b.target {
                Target::Tensor(t) => wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: t.buffer(),
                    offset: t.offset() as u64 * 4,
                    size: wgpu::BufferSize::new(t.bytes()),
                }),
                Target::Texture(view) => wgpu::BindingResource::TextureView(view),
            },
        }));
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry),
            layout: &layout.0,
            entries: &entries,
        });
        Ok(Dispatch::new(
            pipeline,
            bind_group,
            workgroups,
            binds.iter().filter_map(|b| b.tensor().cloned()).collect(),
            (shader.name, entry),
        ))
    }

    /// [`Gpu::submit`] of `dispatches` in order: in one submission, or with
    /// `per_submission` in slices of at most that many dispatches, each waited for before
    /// the next is submitted (uploads go with the first, downloads with the last). Slices
    /// are for a queue shared with a renderer (the app on a CPU adapter, where a training
    /// step is a 30 s submission): its frames then wait for one slice, not the whole pass.
    /// Each slice costs a round trip (~6 ms on lavapipe). Results are the same.
    pub fn submit_dispatches(
        &self,
        uploads: &[(&Tensor, &[f32])],
        dispatches: &[&Dispatch],
        downloads: &[&Tensor],
        per_submission: Option<usize>,
    ) -> Result<Vec<Vec<f32>>> {
        let size = per_submission.unwrap_or(dispatches.len()).max(1);
        let slices: Vec<&[&Dispatch]> = if dispatches.is_empty() {
            vec![&[]]
        } else {
            dispatches.chunks(size).collect()
        };
        let last = slices.len() - 1;
        for (k, slice) in slices.iter().enumerate() {
            let uploads = if k == 0 { uploads } else { &[] };
            let record =
                |pass: &mut wgpu::ComputePass<'_>| slice.iter().for_each(|d| d.encode(pass));
            if k == last {
                return self.submit(uploads, record, downloads);
            }
            self.submit(uploads, record, &[])?;
            // Only then does the next slice go behind what others submitted meanwhile.
            self.wait()?;
        }
        unreachable!("the last slice returns")
    }

    /// Submissions so far.
    pub fn submissions(&self) -> u64 {
        self.submissions.load(Ordering::Relaxed)
    }

    /// Records `record` into one compute pass and submits it as one command buffer.
    pub fn run(&self, record: impl FnOnce(&mut wgpu::ComputePass<'_>)) {
        self.submit(&[], record, &[])
            .expect("a submission without transfers cannot fail");
    }

    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    pub fn pipelines_compiled(&self) -> u64 {
        self.cache.pipelines_compiled()
    }
}

/// Err when a dispatch binds more buffers or textures of a kind than WebGPU's default
/// limits allow one shader stage (8 storage buffers, 12 uniform buffers with the params
/// block, 4 storage textures). Devices made elsewhere (the app's renderer, a test
/// harness) may have only those; a kernel past them would fail there alone, at run time.
fn within_default_limits(shader: &str, entry: &str, access: &[(u32, Access)]) -> Result<()> {
    let limits = wgpu::Limits::default();
    let count = |kinds: &[Access]| access.iter().filter(|(_, a)| kinds.contains(a)).count();
    for (what, used, limit) in [
        (
            "storage buffers",
            count(&[Access::Read, Access::ReadWrite]),
            limits.max_storage_buffers_per_shader_stage,
        ),
        (
            "uniform buffers (with the params block)",
            count(&[Access::Uniform]) + 1,
            limits.max_uniform_buffers_per_shader_stage,
        ),
        (
            "storage textures",
            count(&[Access::WriteTexture]),
            limits.max_storage_textures_per_shader_stage,
        ),
    ] {
        if used > limit as usize {
            return Err(Error::Gpu(format!(
                "{shader}/{entry} binds {used} {what}; WebGPU's default limit per shader \
                 stage, which a device may be created with, is {limit}"
            )));
        }
    }
    Ok(())
}

/// Err when a dispatch would bind one buffer both read-only and read-write: wgpu rejects
/// that within a dispatch (and aborts) even for disjoint views, such as two views of one
/// arena.
fn exclusive_writes(shader: &Wgsl, entry: &str, binds: &[Bind<'_>]) -> Result<()> {
    let tensors = |accesses: &'static [Access]| {
        binds
            .iter()
            .filter(move |b| accesses.contains(&b.access))
            .filter_map(|b| Some((b.slot, b.tensor()?)))
    };
    for (w_slot, w) in tensors(&[Access::ReadWrite]) {
        if let Some((r_slot, r)) =
            tensors(&[Access::Read, Access::Uniform]).find(|(_, r)| r.shares_buffer(w))
        {
            return Err(Error::Shape {
                op: "dispatch",
                detail: format!(
                    "{}/{entry}: binding {} reads {:?} from the buffer that binding {} writes as {:?}; \
                     one dispatch cannot read and write a buffer, even at disjoint offsets",
                    shader.name, r_slot, r, w_slot, w
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dispatch_past_webgpus_default_binding_limits_is_an_error_naming_it() {
        let storage = |n: u32| (1..=n).map(|slot| (slot, Access::Read)).collect::<Vec<_>>();
        assert!(within_default_limits("batch_norm", "entry", &storage(8)).is_ok());
        let e = within_default_limits("batch_norm", "batch_norm_backward4", &storage(9))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("batch_norm/batch_norm_backward4") && e.contains("9 storage buffers"),
            "{e}"
        );
        let textures: Vec<_> = (1..=5).map(|slot| (slot, Access::WriteTexture)).collect();
        let e = within_default_limits("display", "to_texture", &textures)
            .unwrap_err()
            .to_string();
        assert!(e.contains("5 storage textures"), "{e}");
    }
}
