//! `realnvp adapters`: what wgpu sees, and which one would be used.

use super::out;
use crate::runtime::tuning::Tuning;
use crate::runtime::{KERNELS_ENV, KernelFamily, adapter};

pub fn run(wanted: Option<&str>) -> anyhow::Result<()> {
    let instance = adapter::instance();
    let adapters = adapter::list(&instance);
    if adapters.is_empty() {
        // choose() turns this into the error that says what to install.
        adapter::choose(&instance, wanted)?;
    }
    let chosen = adapter::choose(&instance, wanted)
        .ok()
        .map(|a| a.get_info());
    for a in &adapters {
        let info = a.get_info();
        let mark = if chosen.as_ref() == Some(&info) {
            "*"
        } else {
            " "
        };
        out::result(format_args!(
            "{mark} {}  [kernel family: {:?}]",
            adapter::describe(&info),
            KernelFamily::for_adapter(&info)
        ))?;
    }
    match chosen {
        Some(info) => {
            out::result(format_args!(
                "(* = used; override with --adapter NAME or ${})",
                adapter::ADAPTER_ENV
            ))?;
            kernel_choices(&info)?;
        }
        None => {
            adapter::choose(&instance, wanted)?;
        }
    }
    Ok(())
}

/// The conv kernels the used adapter gets: forced by the environment, or tuned per
/// shape (the cached choices so far).
fn kernel_choices(info: &wgpu::AdapterInfo) -> crate::Result<()> {
    if let Some(family) = KernelFamily::forced() {
        out::result(format_args!(
            "conv kernels: {family:?} (forced by ${KERNELS_ENV})"
        ))?;
        return Ok(());
    }
    let path = Tuning::default_path(info);
    let choices = Tuning::open(info, path.clone()).choices();
    let place = path.map_or("memory only".into(), |p| p.display().to_string());
    out::result(format_args!(
        "conv kernels: tuned per shape on first use ({} cached in {place})",
        choices.len()
    ))?;
    for (shape, choice) in choices {
        out::result(format_args!("  {shape}: {choice}"))?;
    }
    Ok(())
}
