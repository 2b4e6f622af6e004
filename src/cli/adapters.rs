//! `realnvp adapters`: what wgpu sees, and which one would be used.

use crate::runtime::{KernelFamily, adapter};

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
        println!(
            "{mark} {}  [kernels: {:?}]",
            adapter::describe(&info),
            KernelFamily::for_adapter(&info)
        );
    }
    match chosen {
        Some(_) => println!(
            "(* = used; override with --adapter NAME or ${})",
            adapter::ADAPTER_ENV
        ),
        None => {
            adapter::choose(&instance, wanted)?;
        }
    }
    Ok(())
}
