//! The app binary in a real X window (Xvfb, installed by `.ci/install-deps` with what
//! winit loads at run time): it opens a model, draws a non-blank sample grid, and the
//! grid changes after input (`--demo` moves the temperature slider).

use std::path::Path;
use std::process::Command;

fn screenshot_pixels(path: &Path) -> Vec<u8> {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_luma8()
        .into_raw()
}

#[test]
fn a_real_window_shows_samples_that_change_after_input() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let trained = Command::new(env!("CARGO_BIN_EXE_realnvp-app"))
        .args([
            "--train",
            "--preset",
            "tiny",
            "--steps",
            "2",
            "--samples",
            "0",
            "--out",
        ])
        .arg(&run)
        .output()
        .unwrap();
    assert!(trained.status.success(), "{trained:?}");
    let (first, second) = (dir.path().join("first.png"), dir.path().join("second.png"));
    let script = format!(
        "'{app}' --checkpoint '{ckpt}' --demo & app=$!; sleep 30; \
         import -window root '{first}'; sleep 12; import -window root '{second}'; \
         kill $app",
        app = env!("CARGO_BIN_EXE_realnvp-app"),
        ckpt = run.join("checkpoint.safetensors").display(),
        first = first.display(),
        second = second.display(),
    );
    let xvfb = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1200x820x24", "sh", "-c", &script])
        .env("XDG_RUNTIME_DIR", dir.path())
        .output()
        .expect("xvfb-run runs (.ci/install-deps installs it)");
    let log = String::from_utf8_lossy(&xvfb.stderr);
    let (a, b) = (screenshot_pixels(&first), screenshot_pixels(&second));
    // Non-blank: the window's theme has a few grey levels; samples add many more.
    let mut levels = [false; 256];
    a.iter().for_each(|&v| levels[v as usize] = true);
    let distinct = levels.iter().filter(|&&l| l).count();
    assert!(
        distinct > 40,
        "{distinct} grey levels: no sample grid?\n{log}"
    );
    let changed = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert!(
        changed * 200 > a.len(),
        "only {changed} of {} pixels changed after input\n{log}",
        a.len()
    );
}
