//! One writer per run folder (an advisory lock) and metrics.jsonl that stays whole line
//! by line across a resume; what a run stores of its settings and optimizer, and what it
//! refuses of them.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::{json_lines, ok, realnvp, refused, train_tiny};

/// The step a run's checkpoint holds.
fn checkpoint_step(run: &Path) -> u64 {
    let file = realnvp::checkpoint::load(&run.join("checkpoint.safetensors")).unwrap();
    let position: serde_json::Value = serde_json::from_str(&file.meta["train.position"]).unwrap();
    position["step"].as_u64().unwrap()
}

/// Every line of the run's metrics.jsonl is JSON, and the step lines go 1, 2, ... `last`.
fn assert_metrics_whole_up_to(run: &Path, last: u64) {
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert!(text.ends_with('\n'), "a torn last line:\n{text}");
    let steps: Vec<u64> = json_lines(&text)
        .iter()
        .filter(|v| v.get("epoch_done").is_none())
        .map(|v| v["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, (1..=last).collect::<Vec<_>>(), "{text}");
}

/// A child process, killed when dropped: a failing test leaves none behind.
struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(unix)]
#[test]
fn a_second_writer_is_refused_naming_the_process_that_writes() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let holder = crate::command()
        .args(["train", "--preset", "tiny", "--epochs", "50"])
        .args(["--checkpoint-every", "1", "--samples", "0", "--out"])
        .arg(&run)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let holder = KilledOnDrop(holder);
    let checkpoint = run.join("checkpoint.safetensors");
    let start = Instant::now();
    while !checkpoint.exists() {
        assert!(start.elapsed().as_secs() < 120, "no checkpoint saved");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = run.to_str().unwrap();
    let named = format!(
        "in use by process {}, which is writing a run",
        holder.0.id()
    );
    refused(
        &["train", "--resume", "--steps", "1000", "--out", out],
        &named,
    );
    let overwrite = [
        "train",
        "--preset",
        "tiny",
        "--steps",
        "1",
        "--samples",
        "0",
    ];
    refused(
        &[&overwrite[..], &["--overwrite", "--out", out]].concat(),
        &named,
    );
    assert!(
        checkpoint.exists() && run.join("metrics.jsonl").exists(),
        "--overwrite removed nothing of the run under way"
    );

    // A killed writer's lock goes with it; its lock file stays, blocking nobody.
    drop(holder);
    let last = checkpoint_step(&run) + 2;
    ok(&[
        "train",
        "--resume",
        "--steps",
        &last.to_string(),
        "--out",
        out,
    ]);
    assert_metrics_whole_up_to(&run, last);
}

#[test]
fn a_resumed_run_cuts_its_metrics_back_to_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = run.to_str().unwrap();
    train_tiny(out, 6);
    // What a kill at step 9 leaves after the checkpoint of step 6: the lines of steps 7
    // and 8, and step 9's torn by a full disk.
    let metrics = run.join("metrics.jsonl");
    let mut text = std::fs::read_to_string(&metrics).unwrap();
    for step in [7, 8] {
        text += &format!("{{\"step\":{step},\"epoch\":0,\"train_bpd\":99.0}}\n");
    }
    text += "{\"step\":9,\"epoch\":0,\"tra";
    std::fs::write(&metrics, text).unwrap();

    ok(&["train", "--resume", "--steps", "10", "--out", out]);
    assert_metrics_whole_up_to(&run, 10);
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(!text.contains("99.0"), "the killed run's lines are gone");
}

#[cfg(unix)]
#[test]
fn a_dataset_path_that_is_not_unicode_trains_and_resumes() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join(std::ffi::OsStr::from_bytes(b"mnist-\xff"));
    std::fs::create_dir(&data).unwrap();
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mnist");
    for entry in std::fs::read_dir(&bundled).unwrap() {
        let name = entry.unwrap().file_name();
        if name.to_str().is_some_and(|n| n.ends_with(".gz")) {
            std::os::unix::fs::symlink(bundled.join(&name), data.join(&name)).unwrap();
        }
    }
    let run = dir.path().join("run");
    let trained = crate::command()
        .args([
            "train",
            "--preset",
            "tiny",
            "--steps",
            "2",
            "--samples",
            "0",
        ])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&trained.stderr);
    assert!(trained.status.success(), "{err}");
    // The resumed run reads the dataset from the path its checkpoint stored.
    ok(&[
        "train",
        "--resume",
        "--steps",
        "3",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(checkpoint_step(&run), 3);
}

#[test]
fn a_damaged_optimizer_step_count_or_settings_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = run.to_str().unwrap();
    train_tiny(out, 2);
    let path = run.join("checkpoint.safetensors");
    let saved = realnvp::checkpoint::load(&path).unwrap();
    let resume = ["train", "--resume", "--steps", "4", "--out", out];

    // The count wrapping to 0 at the next step, and one below the run's own 2 steps.
    for steps in [u32::MAX, 1] {
        let mut file = saved.clone();
        file.tensors.get_mut("optimizer.state").unwrap().data[0] = f32::from_bits(steps);
        realnvp::checkpoint::save(&path, &file).unwrap();
        let out = realnvp(&resume);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains(&path.display().to_string())
                && err.contains(&format!("Adam's step count {steps}"))
                && err.contains("from 2 to 4294967294"),
            "{err}"
        );
    }

    let mut file = saved.clone();
    let settings = file.meta.get_mut("train.settings").unwrap();
    *settings = settings.replace("\"samples\":0", "\"samples\":1000000");
    realnvp::checkpoint::save(&path, &file).unwrap();
    refused(&resume, "from 0 (none) to 4096, not 1000000");

    realnvp::checkpoint::save(&path, &saved).unwrap();
    ok(&resume);
}

#[test]
fn a_sample_grid_past_the_cap_is_refused_with_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let args = ["train", "--preset", "tiny", "--samples", "4097", "--out"];
    refused(
        &[&args[..], &[run.to_str().unwrap()]].concat(),
        "from 0 (none) to 4096, not 4097",
    );
    assert!(!run.exists(), "nothing written");
}
