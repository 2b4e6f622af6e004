//! realnvp-app: the desktop face of realnvp. With no arguments it opens the bundled
//! `mnist` model (`assets/models/mnist.safetensors`); `--checkpoint FILE` opens another;
//! `--train ...` trains headless through the same code as `realnvp train`; no usable
//! adapter is a message saying what to install, not a panic.

use std::path::PathBuf;

use clap::Parser;

use realnvp_app::demo::Demo;
use realnvp_app::{App, ModelSource, device, files};

#[derive(Parser)]
#[command(
    name = "realnvp-app",
    version,
    about = "Real NVP samples and training, live"
)]
struct Args {
    /// A checkpoint or weights-only file (default: the bundled mnist model,
    /// assets/models/mnist.safetensors).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Use the first adapter whose name contains this (also $REALNVP_ADAPTER).
    #[arg(long, env = "REALNVP_ADAPTER")]
    adapter: Option<String>,
    /// Start on the Your image panel with this PNG or JPEG.
    #[arg(long)]
    image: Option<PathBuf>,
    /// The side of the Samples panel's grid at start (4 to 16 images).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(4..=16))]
    grid: u8,
    /// Move the temperature slider (Samples) or φ (Interpolation) by itself each time
    /// the picture is shown, printing the timing (for demos, figures and the window test).
    #[arg(long)]
    demo: bool,
}

fn main() -> std::process::ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if realnvp::cli::wants_training(&argv) {
        // Headless: exactly `realnvp --train ...` (its output and exit status too), no
        // window, no display needed.
        return realnvp::cli::main(argv);
    }
    match window(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:?}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn window(args: Args) -> anyhow::Result<()> {
    let source = ModelSource::File(args.checkpoint.unwrap_or_else(files::bundled_model));
    let setup = match device::open(args.adapter.as_deref()) {
        Ok(setup) => setup,
        Err(e) => {
            // egui cannot draw without an adapter: say what to install on stderr and, on
            // a desktop, in the platform's message box (zenity on Linux).
            eprintln!("realnvp-app: {e}");
            let desktop = ["DISPLAY", "WAYLAND_DISPLAY"]
                .iter()
                .any(|v| std::env::var_os(v).is_some());
            if desktop || !cfg!(target_os = "linux") {
                rfd::MessageDialog::new()
                    .set_level(rfd::MessageLevel::Error)
                    .set_title("realnvp: no GPU adapter")
                    .set_description(e.to_string())
                    .show();
            }
            std::process::exit(2);
        }
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("realnvp")
            .with_inner_size([1100.0, 760.0]),
        wgpu_options: setup.configuration(),
        ..Default::default()
    };
    eframe::run_native(
        "realnvp",
        options,
        Box::new(move |cc| {
            let mut app = App::new(cc, source, true)?;
            app.demo = args.demo.then(Demo::default);
            app.panels.samples.grid.side = usize::from(args.grid);
            if let Some(image) = args.image {
                app.show_image(image);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}
