//! The app binary in a real X window (Xvfb, installed by `.ci/install-deps` with what
//! winit loads at run time): with no model named it opens the bundled one, shows sample
//! grids, and the screen changes after input (`--demo` moves the temperature slider).

use std::path::Path;
use std::process::Command;

fn screenshot_pixels(path: &Path) -> Vec<u8> {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_luma8()
        .into_raw()
}

#[test]
fn a_real_window_opens_the_bundled_model_and_shows_samples_that_change_after_input() {
    let bundled = realnvp_app::files::bundled_model();
    assert!(bundled.is_file(), "{} is missing", bundled.display());
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first.png"), dir.path().join("second.png"));
    // Screenshots once the first grid is shown and once `--demo` has moved the slider
    // twice more (the app prints a line per shown grid), waiting at most 120 s each. A
    // 4 x 4 grid keeps each `mnist` grid to a few seconds on lavapipe.
    let out = dir.path().join("app.out");
    let script = format!(
        "'{app}' --grid 4 --demo > '{out}' 2>&1 & app=$!; \
         shown() {{ n=0; while [ \"$(grep -c 'grid shown' '{out}')\" -lt $1 ] \
         && [ $n -lt 240 ]; do sleep 0.5; n=$((n + 1)); done; sleep 1; }}; \
         shown 1; import -window root '{first}'; shown 3; import -window root '{second}'; \
         kill $app",
        app = env!("CARGO_BIN_EXE_realnvp-app"),
        out = out.display(),
        first = first.display(),
        second = second.display(),
    );
    let xvfb = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1200x820x24", "sh", "-c", &script])
        .env("XDG_RUNTIME_DIR", dir.path())
        // An X window: winit would prefer a Wayland compositor the test cannot reach.
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .expect("xvfb-run runs (.ci/install-deps installs it)");
    let log = std::fs::read_to_string(&out).unwrap_or_default();
    let shown = log
        .matches(&format!("{}: grid shown", realnvp_app::files::BUNDLED_NAME))
        .count();
    assert!(
        shown >= 3,
        "{shown} grids shown\n{log}\n{}",
        String::from_utf8_lossy(&xvfb.stderr)
    );
    let (a, b) = (screenshot_pixels(&first), screenshot_pixels(&second));
    // The first grid is on screen in `a` already: what differs in `b` is the samples at
    // another temperature.
    let changed = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert!(
        changed * 200 > a.len(),
        "only {changed} of {} pixels changed after input\n{log}",
        a.len()
    );
}
