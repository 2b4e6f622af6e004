//! Shaders, pipelines and dispatches. A [`Dispatch`] is one kernel call with its
//! bindings fixed when it is built; recording it later costs no allocation, no
//! pipeline compilation and no bind-group creation.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::tensor::Tensor;

/// Helpers shared by every shader (flat invocation ids for 2-D grids, ...), prepended
/// to each WGSL file before compilation.
pub const PRELUDE: &str = include_str!("../../shaders/prelude.wgsl");

/// How every shader is compiled (see `KernelCache::module`), part of the tuning cache's
/// identity.
pub(crate) const RUNTIME_CHECKS: &str = "naga bounds checks on, loop bounding off";

/// Invocations per workgroup of every 1-D kernel (the prelude's `WG`).
pub const WG: u32 = 64;

/// A WGSL source file in `shaders/`.
#[derive(Debug)]
pub struct Wgsl {
    pub name: &'static str,
    pub source: &'static str,
}

/// Declares a `Wgsl` constant for `shaders/<name>.wgsl`.
#[macro_export]
macro_rules! wgsl {
    ($name:literal) => {
        $crate::runtime::Wgsl {
            name: $name,
            source: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/shaders/",
                $name,
                ".wgsl"
            )),
        }
    };
}

impl Wgsl {
    /// The text actually compiled (see [`compiled_source`]).
    pub fn full_source(&self) -> String {
        compiled_source(self.source)
    }
}

/// The text compiled for a shader file's `text`: the prelude, then the file with its
/// templates expanded (`template.rs`).
pub(crate) fn compiled_source(text: &str) -> String {
    format!("{PRELUDE}\n{}", super::template::expand(text))
}

/// How a kernel uses a binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A storage buffer, read only.
    Read,
    /// A storage buffer, read and written.
    ReadWrite,
    /// A uniform buffer (read only; a fixed-size array in WGSL, so the tensor bound must
    /// be at least that size).
    Uniform,
    /// A 2-D `Rgba8Unorm` storage texture, written only (pictures for the screen).
    WriteTexture,
}

/// What a binding binds.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    Tensor(&'a Tensor),
    Texture(&'a wgpu::TextureView),
}

/// A binding of a dispatch: the WGSL `@binding` slot (1 and up; 0 is the uniform
/// parameter block), what it binds, and how the kernel uses it. Entry points of one file
/// each bind the subset of the file's slots they use.
pub struct Bind<'a> {
    pub slot: u32,
    pub target: Target<'a>,
    pub access: Access,
}

impl<'a> Bind<'a> {
    pub fn read(slot: u32, tensor: &'a Tensor) -> Self {
        Bind {
            slot,
            target: Target::Tensor(tensor),
            access: Access::Read,
        }
    }

    pub fn write(slot: u32, tensor: &'a Tensor) -> Self {
        Bind {
            slot,
            target: Target::Tensor(tensor),
            access: Access::ReadWrite,
        }
    }

    pub fn uniform(slot: u32, tensor: &'a Tensor) -> Self {
        Bind {
            slot,
            target: Target::Tensor(tensor),
            access: Access::Uniform,
        }
    }

    /// A 2-D `Rgba8Unorm` texture view the kernel writes (`texture_storage_2d<rgba8unorm, write>`).
    pub fn texture(slot: u32, view: &'a wgpu::TextureView) -> Self {
        Bind {
            slot,
            target: Target::Texture(view),
            access: Access::WriteTexture,
        }
    }

    /// The tensor bound, if a buffer is.
    pub fn tensor(&self) -> Option<&'a Tensor> {
        match self.target {
            Target::Tensor(t) => Some(t),
            Target::Texture(_) => None,
        }
    }
}

/// The binding slots and access of a dispatch, which select its layout.
pub(crate) type Signature = Vec<(u32, Access)>;

/// Pipelines are cached by shader file, entry point and binding signature.
type PipelineKey = (&'static str, &'static str, Signature);

/// One recorded kernel call. It holds its tensors so that the pool cannot hand their
/// buffers to anyone else while the dispatch may still run (the bind group keeps any
/// texture alive).
pub struct Dispatch {
    pipeline: Arc<wgpu::ComputePipeline>,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
    tensors: Vec<Tensor>,
    /// What the profile files this dispatch's time under: the shader file's name unless
    /// the op says more (conv2d tells forward from grad input, which share an entry).
    pub kind: &'static str,
    pub entry: &'static str,
}

impl Dispatch {
    pub(crate) fn new(
        pipeline: Arc<wgpu::ComputePipeline>,
        bind_group: wgpu::BindGroup,
        workgroups: [u32; 3],
        tensors: Vec<Tensor>,
        (kind, entry): (&'static str, &'static str),
    ) -> Self {
        Dispatch {
            pipeline,
            bind_group,
            workgroups,
            tensors,
            kind,
            entry,
        }
    }

    /// The same dispatch filed under `kind` in profiles.
    pub fn with_kind(self, kind: &'static str) -> Self {
        Dispatch { kind, ..self }
    }

    /// Bytes of the buffers it binds: what it moves if it touches each once (a kernel
    /// that re-reads an input moves more).
    pub fn bytes_bound(&self) -> u64 {
        self.tensors.iter().map(|t| t.bytes()).sum()
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }
}

/// Workgroup counts covering `invocations` invocations of `wg` each; the grid folds into
/// y when x would exceed the 65535 limit (shaders use the prelude's `flat_id`).
pub fn grid(invocations: usize, wg: u32) -> [u32; 3] {
    let groups = (invocations as u64).div_ceil(wg as u64).max(1);
    let x = groups.min(65535);
    let y = groups.div_ceil(x);
    [x as u32, y as u32, 1]
}

#[derive(Default)]
pub(crate) struct KernelCache {
    modules: Mutex<HashMap<&'static str, Arc<wgpu::ShaderModule>>>,
    layouts: Mutex<HashMap<Signature, Arc<(wgpu::BindGroupLayout, wgpu::PipelineLayout)>>>,
    pipelines: Mutex<HashMap<PipelineKey, Arc<wgpu::ComputePipeline>>>,
    compiled: std::sync::atomic::AtomicU64,
}

impl KernelCache {
    pub(crate) fn pipelines_compiled(&self) -> u64 {
        self.compiled.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn module(&self, device: &wgpu::Device, shader: &Wgsl) -> Arc<wgpu::ShaderModule> {
        self.modules
            .lock()
            .unwrap()
            .entry(shader.name)
            .or_insert_with(|| {
                let desc = wgpu::ShaderModuleDescriptor {
                    label: Some(shader.name),
                    source: wgpu::ShaderSource::Wgsl(Cow::Owned(shader.full_source())),
                };
                let checks = wgpu::ShaderRuntimeChecks {
                    force_loop_bounding: false,
                    ..wgpu::ShaderRuntimeChecks::checked()
                };
                // SAFETY: every loop in shaders/ is a `for` over a count from the params
                // or a constant, so none can run forever; bounds checks stay on
                // (RUNTIME_CHECKS). wgpu's loop bounding adds a counter and a branch to
                // every loop iteration: on lavapipe the fma roof kernel runs ~1.5x faster
                // without it.
                Arc::new(unsafe { device.create_shader_module_trusted(desc, checks) })
            })
            .clone()
    }

    pub(crate) fn layout(
        &self,
        device: &wgpu::Device,
        access: &[(u32, Access)],
    ) -> Arc<(wgpu::BindGroupLayout, wgpu::PipelineLayout)> {
        self.layouts
            .lock()
            .unwrap()
            .entry(access.to_vec())
            .or_insert_with(|| {
                let mut entries = vec![wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                }];
                entries.extend(access.iter().map(|&(slot, a)| wgpu::BindGroupLayoutEntry {
                    binding: slot,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: match a {
                        Access::WriteTexture => wgpu::BindingType::StorageTexture {
                            access: wgpu::StorageTextureAccess::WriteOnly,
                            format: wgpu::TextureFormat::Rgba8Unorm,
                            view_dimension: wgpu::TextureViewDimension::D2,
                        },
                        Access::Uniform => wgpu::BindingType::Buffer {
                            ty: wgpu::BufferBindingType::Uniform,
                            has_dynamic_offset: false,
                            min_binding_size: None,
                        },
                        Access::Read | Access::ReadWrite => wgpu::BindingType::Buffer {
                            ty: wgpu::BufferBindingType::Storage {
                                read_only: a == Access::Read,
                            },
                            has_dynamic_offset: false,
                            min_binding_size: None,
                        },
                    },
                    count: None,
                }));
                let bgl = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: None,
                    entries: &entries,
                });
                let pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: None,
                    bind_group_layouts: &[Some(&bgl)],
                    immediate_size: 0,
                });
                Arc::new((bgl, pl))
            })
            .clone()
    }

    pub(crate) fn pipeline(
        &self,
        device: &wgpu::Device,
        shader: &'static Wgsl,
        entry: &'static str,
        access: &[(u32, Access)],
    ) -> Arc<wgpu::ComputePipeline> {
        let key = (shader.name, entry, access.to_vec());
        if let Some(p) = self.pipelines.lock().unwrap().get(&key) {
            return p.clone();
        }
        let module = self.module(device, shader);
        let layout = self.layout(device, access);
        let pipeline = Arc::new(
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&layout.1),
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            }),
        );
        self.compiled
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.pipelines.lock().unwrap().insert(key, pipeline.clone());
        pipeline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in shaders/ as compiled (with the prelude, templates expanded), parsed
    /// and validated by naga with no shader capabilities (the project requests none):
    /// (file, module, its validation info).
    fn validated_shaders() -> Vec<(String, naga::Module, naga::valid::ModuleInfo)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
        let mut shaders = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("wgsl")
                || path.file_name().unwrap() == "prelude.wgsl"
            {
                continue;
            }
            let name = path.display().to_string();
            let source = compiled_source(&std::fs::read_to_string(&path).unwrap());
            let module = naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
            let info = naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::empty(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
            shaders.push((name, module, info));
        }
        assert!(!shaders.is_empty(), "no shaders found in {dir}");
        shaders
    }

    /// Every file in shaders/ parses and validates with naga, no device needed.
    #[test]
    fn every_wgsl_file_validates_with_naga() {
        validated_shaders();
    }

    /// Every entry point of every shader translates, through the naga backends wgpu
    /// uses, to Metal Shading Language (2.4: macOS 11, iOS 14), HLSL (shader model 5.1,
    /// DX12's FXC path) and SPIR-V (Vulkan). This catches what one of those backends
    /// cannot express; it does not run their own compilers (Metal's, FXC or DXC).
    #[test]
    fn every_entry_point_translates_to_msl_hlsl_and_spirv() {
        use naga::back::{hlsl, msl, spv};
        let mut translated = 0;
        for (name, module, info) in validated_shaders() {
            for entry in &module.entry_points {
                let at = format!("{name}: {}", entry.name);
                let stage_and_name = Some((naga::ShaderStage::Compute, entry.name.clone()));
                let metal = msl::Options {
                    lang_version: (2, 4),
                    ..Default::default()
                };
                let metal_pipeline = msl::PipelineOptions {
                    entry_point: stage_and_name.clone(),
                    ..Default::default()
                };
                msl::write_string(&module, &info, &metal, &metal_pipeline)
                    .unwrap_or_else(|e| panic!("{at}: MSL: {e}"));
                let mut text = String::new();
                let dx = hlsl::Options::default();
                let dx_pipeline = hlsl::PipelineOptions {
                    entry_point: stage_and_name,
                };
                hlsl::Writer::new(&mut text, &dx, &dx_pipeline)
                    .write(&module, &info, None)
                    .unwrap_or_else(|e| panic!("{at}: HLSL: {e}"));
                let vulkan = spv::PipelineOptions {
                    shader_stage: naga::ShaderStage::Compute,
                    entry_point: entry.name.clone(),
                };
                spv::write_vec(&module, &info, &spv::Options::default(), Some(&vulkan))
                    .unwrap_or_else(|e| panic!("{at}: SPIR-V: {e}"));
                translated += 1;
            }
        }
        assert!(translated > 50, "only {translated} entry points");
    }

    #[test]
    fn grid_folds_large_dispatches_into_y() {
        assert_eq!(grid(10, 64), [1, 1, 1]);
        assert_eq!(grid(64 * 65535, 64), [65535, 1, 1]);
        let [x, y, _] = grid(64 * 65536, 64);
        assert!(x <= 65535 && x as u64 * y as u64 >= 65536);
    }
}
