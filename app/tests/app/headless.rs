//! The app binary without a window: `--train` is `realnvp train`, and a missing adapter
//! is a message, not a panic.

use std::process::Command;

use super::common::train_tiny;

fn app() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_realnvp-app"));
    // No display: these must work over ssh and in CI.
    c.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    c
}

#[test]
fn train_runs_headless_through_the_cli_code() {
    let dir = tempfile::tempdir().unwrap();
    let out = train_tiny(dir.path(), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(dir.path().join("checkpoint.safetensors").exists(), "{err}");
    let metrics = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    assert!(metrics.contains("\"step\":2"), "{metrics}");
}

#[test]
fn an_adapter_that_is_not_there_is_a_message() {
    let out = app()
        .args(["--adapter", "no-such-gpu-here"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no-such-gpu-here") && !err.contains("panicked"),
        "{err}"
    );
}
