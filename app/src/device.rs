//! One wgpu device for the renderer and the flow: chosen as the CLI chooses it, handed
//! to eframe as an existing setup, wrapped as the compute `Gpu` from egui's render state.

use std::sync::{Arc, Mutex};

use realnvp::Gpu;
use realnvp::runtime::OpenedDevice;

/// The device before the window exists.
pub struct Setup {
    opened: OpenedDevice,
}

/// Opens the adapter the CLI would use (`--adapter`, `$REALNVP_ADAPTER`, then the order
/// of preference). No adapter is an error that says what to install.
pub fn open(adapter: Option<&str>) -> realnvp::Result<Setup> {
    Ok(Setup {
        opened: OpenedDevice::new(adapter)?,
    })
}

impl Setup {
    /// eframe's wgpu options running on this device.
    pub fn configuration(self) -> egui_wgpu::WgpuConfiguration {
        let OpenedDevice {
            instance,
            adapter,
            device,
            queue,
        } = self.opened;
        egui_wgpu::WgpuConfiguration {
            wgpu_setup: egui_wgpu::WgpuSetup::Existing(egui_wgpu::WgpuSetupExisting {
                instance,
                adapter,
                device,
                queue,
            }),
            ..Default::default()
        }
    }
}

/// Validation errors on the shared device, caught instead of aborting the process.
pub type DeviceErrors = Arc<Mutex<Vec<String>>>;

/// The compute `Gpu` on egui's device, with its uncaptured errors collected.
pub fn compute(render: &egui_wgpu::RenderState) -> (Arc<Gpu>, DeviceErrors) {
    let errors: DeviceErrors = Arc::default();
    let sink = errors.clone();
    render
        .device
        .on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            sink.lock().unwrap().push(e.to_string());
        }));
    let gpu = Gpu::from_device(
        render.adapter.get_info(),
        render.device.clone(),
        render.queue.clone(),
    );
    (gpu, errors)
}
