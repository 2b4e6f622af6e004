//! Finding an adapter: every backend wgpu supports, a real GPU preferred over a CPU
//! rasteriser such as lavapipe, and an override by name substring.

use crate::error::{Error, Result};

/// Environment variable that picks an adapter by a substring of its name.
pub const ADAPTER_ENV: &str = "REALNVP_ADAPTER";

/// The instance every part of the project uses: Vulkan, Metal, DX12 and GL.
pub fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = wgpu::Backends::all().with_env();
    wgpu::Instance::new(desc)
}

/// All adapters the instance sees, best first (see [`preference`]).
pub fn list(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.sort_by_key(|a| preference(&a.get_info()));
    adapters
}

/// Lower is better: discrete before integrated before virtual before CPU, and within
/// one type Vulkan/Metal/DX12 before GL (our compute runs best on the native APIs).
pub fn preference(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    let backend = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    };
    (kind, backend)
}

/// One line describing an adapter, as `realnvp adapters` prints it.
pub fn describe(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{} ({:?}, {:?}, driver {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    )
}

/// Picks the adapter: the first whose name contains `wanted` (case-insensitive) when
/// given, else the most preferred one. `wanted` falls back to `$REALNVP_ADAPTER`.
pub fn choose(instance: &wgpu::Instance, wanted: Option<&str>) -> Result<wgpu::Adapter> {
    let from_env = std::env::var(ADAPTER_ENV).ok().filter(|s| !s.is_empty());
    let wanted = wanted.map(str::to_owned).or(from_env);
    let adapters = list(instance);
    if adapters.is_empty() {
        return Err(Error::NoAdapter {
            hint: no_adapter_hint().to_owned(),
        });
    }
    match wanted {
        None => Ok(adapters.into_iter().next().expect("checked non-empty")),
        Some(name) => {
            let needle = name.to_lowercase();
            let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
            adapters
                .into_iter()
                .find(|a| a.get_info().name.to_lowercase().contains(&needle))
                .ok_or_else(|| Error::NoAdapter {
                    hint: format!(
                        "no adapter name contains '{name}' (from --adapter or {ADAPTER_ENV}); \
                         available: {}",
                        names.join(", ")
                    ),
                })
        }
    }
}

fn no_adapter_hint() -> &'static str {
    if cfg!(target_os = "linux") {
        "install a Vulkan driver for your GPU, or Mesa's CPU driver lavapipe \
         (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`)"
    } else if cfg!(target_os = "windows") {
        "install or update your GPU driver (DX12 or Vulkan)"
    } else if cfg!(target_os = "macos") {
        "Metal should always be present on macOS 10.13+; check that the GPU is not disabled"
    } else {
        "install a Vulkan, Metal or DX12 capable GPU driver"
    }
}
