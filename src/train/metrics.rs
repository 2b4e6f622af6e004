//! `metrics.jsonl`: one JSON object per line, a step's or an epoch's figures.
//!
//! Each line is written whole, with its newline, in one write; a write that fails part
//! way (a full disk) is cut off again. A run opening the file first cuts it back to the
//! lines its position covers: a kill leaves the lines of the steps after the last
//! checkpoint, which the resumed run writes again, and possibly a torn last line.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::position::Position;
use super::run_folder::METRICS_FILE;
use crate::checkpoint::replace_file;
use crate::error::{Error, Result};
use crate::input::describe;

/// The run's metrics file, open for appending whole lines.
pub struct MetricsLog {
    file: File,
    path: PathBuf,
    /// The file's length: where it ends with a whole line.
    len: u64,
}

impl MetricsLog {
    /// Opens `<run>/metrics.jsonl` (created if missing) for a run at `position`, after
    /// cutting it back to the lines that position covers (replaced atomically).
    pub fn open(run: &Path, position: Position) -> Result<MetricsLog> {
        let path = run.join(METRICS_FILE);
        let write_err = |error| Error::Write {
            path: path.clone(),
            error,
        };
        // The log is rewritten in place of itself: a link, a pipe or a device there is
        // refused rather than replaced by a file or waited on.
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && !meta.file_type().is_file()
        {
            return Err(Error::Config(format!(
                "{} is {}: a run's metrics log is a regular file",
                path.display(),
                describe(meta.file_type())
            )));
        }
        match std::fs::read(&path) {
            Ok(text) => {
                let covered = lines_covered(&text, position);
                if covered.len() != text.len() {
                    replace_file(&path, &covered).map_err(write_err)?;
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::Io {
                    path: path.clone(),
                    source,
                });
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(write_err)?;
        let len = file.metadata().map_err(write_err)?.len();
        Ok(MetricsLog { file, path, len })
    }

    /// Appends `line` and its newline in one write.
    pub fn append(&mut self, line: &Value) -> Result<()> {
        let mut bytes = line.to_string().into_bytes();
        bytes.push(b'\n');
        if let Err(error) = self.file.write_all(&bytes) {
            // Best effort: the write already failed; a resume cuts a torn line too.
            let _ = self.file.set_len(self.len);
            return Err(Error::Write {
                path: self.path.clone(),
                error,
            });
        }
        self.len += bytes.len() as u64;
        Ok(())
    }
}

/// The lines of `text` that a run at `position` has written, each whole (ending in a
/// newline) and a JSON object: a step's line up to `position.step`, an epoch's line
/// (`epoch_done`) for the epochs before `position.epoch` (a checkpoint saved with an
/// epoch's end still due ends that epoch again after a resume, and logs it again).
fn lines_covered(text: &[u8], position: Position) -> Vec<u8> {
    let covered = |line: &[u8]| {
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(line) else {
            return false;
        };
        let number = |key| fields.get(key).and_then(Value::as_u64);
        match (number("epoch_done"), number("step")) {
            (Some(epoch), _) => epoch < position.epoch,
            (None, Some(step)) => step <= position.step,
            (None, None) => true,
        }
    };
    text.split_inclusive(|&b| b == b'\n')
        .filter(|line| line.ends_with(b"\n") && covered(line))
        .flatten()
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS_AND_AN_EPOCH: &str = concat!(
        "{\"step\":1,\"epoch\":0,\"train_bpd\":5.0}\n",
        "{\"step\":2,\"epoch\":0,\"train_bpd\":4.0}\n",
        "{\"epoch_done\":0,\"step\":2,\"train_bpd\":4.5}\n",
        "{\"step\":3,\"epoch\":1,\"train_bpd\":3.0}\n",
        "{\"step\":4,\"epoch\":1,\"train_bpd\":2.0}\n",
    );

    fn at(step: u64, epoch: u64, batch: u64) -> Position {
        Position { step, epoch, batch }
    }

    fn lines(text: &[u8]) -> Vec<&str> {
        std::str::from_utf8(text).unwrap().lines().collect()
    }

    #[test]
    fn lines_past_the_position_and_torn_lines_are_cut() {
        let all: Vec<&str> = STEPS_AND_AN_EPOCH.lines().collect();
        let whole = STEPS_AND_AN_EPOCH.as_bytes();
        assert_eq!(lines_covered(whole, at(4, 1, 2)), whole, "all covered");
        let torn = [whole, b"{\"step\":5,\"ep"].concat();
        assert_eq!(lines_covered(&torn, at(4, 1, 2)), whole);
        assert_eq!(lines(&lines_covered(&torn, at(3, 1, 1))), all[..4]);
        // The epoch's end still due: its line is written again after the resume.
        assert_eq!(lines(&lines_covered(whole, at(2, 0, 2))), all[..2]);
        assert_eq!(lines(&lines_covered(whole, at(2, 1, 0))), all[..3]);
        assert!(lines_covered(whole, Position::default()).is_empty());
        // A line torn by an earlier writer and appended onto is no JSON: dropped.
        let mangled = STEPS_AND_AN_EPOCH.replace("{\"step\":2", "{\"ste{\"step\":2");
        let kept = lines_covered(mangled.as_bytes(), at(4, 1, 2));
        assert_eq!(lines(&kept), [&all[..1], &all[2..]].concat());
    }

    #[test]
    fn a_resumed_log_is_cut_back_and_then_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(METRICS_FILE);
        std::fs::write(&path, [STEPS_AND_AN_EPOCH, "{\"step\":5,"].concat()).unwrap();
        let mut log = MetricsLog::open(dir.path(), at(3, 1, 1)).unwrap();
        log.append(&serde_json::json!({"step": 4})).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let all: Vec<&str> = STEPS_AND_AN_EPOCH.lines().collect();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [&all[..4], &["{\"step\":4}"]].concat()
        );
        assert!(text.ends_with('\n'));
    }

    #[cfg(unix)]
    #[test]
    fn a_log_that_is_a_link_or_a_pipe_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.jsonl");
        std::fs::write(&target, STEPS_AND_AN_EPOCH).unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(METRICS_FILE)).unwrap();
        let e = MetricsLog::open(dir.path(), at(1, 0, 1))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("is a symbolic link"), "{e}");
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            STEPS_AND_AN_EPOCH
        );
        let fifo = tempfile::tempdir().unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(fifo.path().join(METRICS_FILE))
            .status()
            .unwrap();
        assert!(made.success());
        let e = MetricsLog::open(fifo.path(), at(1, 0, 1))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("is a pipe or FIFO"), "{e}");
    }
}
