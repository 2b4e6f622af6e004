//! What the app's harness tests share: a fresh `tiny` model and waiting for the worker.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use realnvp::model::state::ModelState;
use realnvp::model::{Model, ModelConfig};
use realnvp_app::protocol::Status;
use realnvp_app::{App, ModelSource};

/// `realnvp-app --train` of the `tiny` preset for `steps` steps into `out`, with no
/// display; its output.
pub fn train_tiny(out: &std::path::Path, steps: u32) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_realnvp-app"))
        .args(["--train", "--preset", "tiny", "--samples", "0", "--steps"])
        .arg(steps.to_string())
        .arg("--out")
        .arg(out)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap()
}

/// A fresh `tiny` model: its quality does not matter here, its pixels do.
pub fn tiny() -> ModelSource {
    ModelSource::New(ModelConfig::preset("tiny").unwrap(), TINY_SEED)
}

const TINY_SEED: u64 = 3;

/// The model [`tiny`] opens, made here to compute what the app should show, with the
/// app's batch of 8 images on a CPU adapter.
pub fn tiny_model(gpu: std::sync::Arc<realnvp::Gpu>) -> Model {
    let state = ModelState::new(gpu, ModelConfig::preset("tiny").unwrap(), TINY_SEED).unwrap();
    Model::from_state(state, 8, "tiny".into()).unwrap()
}

/// The app on the first adapter (lavapipe in CI), headless, showing the panel named `tab`.
pub fn harness(tab: &'static str) -> Harness<'static, App> {
    harness_on(tiny(), tab)
}

/// The app opening `source`, headless, showing `tab`.
pub fn harness_on(source: ModelSource, tab: &'static str) -> Harness<'static, App> {
    Harness::builder()
        .with_size([1000.0, 750.0])
        .wgpu()
        .build_eframe(move |cc| {
            let mut app = App::new(cc, source, false).expect("the app opens");
            app.tab = tab;
            app
        })
}

/// Steps the UI until `done` holds of the worker's status (failing after `limit`).
pub fn step_until(
    h: &mut Harness<'static, App>,
    limit: Duration,
    what: &str,
    done: impl Fn(&Status) -> bool,
) {
    let start = Instant::now();
    loop {
        h.step();
        let status = h.state().worker.status();
        if done(&status) {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "timed out waiting for {what}: busy {}, error {:?}, open error {:?}, training \
             error {:?}, training {:?}",
            status.busy,
            status.error,
            status.open_error,
            status.training_error,
            status
                .training
                .as_ref()
                .map(|v| (v.state, v.position, v.message.clone()))
        );
        drop(status);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A file dropped on the window.
#[derive(Debug)]
pub struct Dropped(pub std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Drops `path` on the window.
pub fn drop_file(h: &mut Harness<'static, App>, path: &std::path::Path) {
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(path.to_owned())));
    h.step();
}

/// Steps the UI until `shown` finds, in the worker's status, the texture of what the
/// panel currently asks for; returns its texels.
pub fn texels_when(
    h: &mut Harness<'static, App>,
    shown: impl Fn(&App, &Status) -> Option<wgpu::Texture>,
) -> Vec<u8> {
    let start = Instant::now();
    loop {
        h.step();
        let app = h.state();
        let status = app.worker.status();
        assert!(status.error.is_none(), "{:?}", status.error);
        if !status.busy
            && let Some(texture) = shown(app, &status)
        {
            return app.gpu.read_texture(&texture).unwrap();
        }
        drop(status);
        assert!(start.elapsed() < Duration::from_secs(120), "nothing shown");
        std::thread::sleep(Duration::from_millis(20));
    }
}
