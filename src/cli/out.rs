//! What the command line writes: results on stdout, notes on stderr.
//!
//! A result line that cannot be written ends the command with [`Error::Stdout`]; [`exit`]
//! then ends a closed pipe quietly (the reader has what it wanted, as after `| head`) and
//! reports any other failure (a full disk). A note (progress, what was written where) is
//! best effort: with stderr gone there is nowhere to say so, and the work it describes
//! goes on (a training run keeps training and saves its checkpoints).
//!
//! Rust ignores SIGPIPE, so a closed pipe is an `EPIPE` error from the write, never a
//! signal: every write goes through here, none through `println!`/`eprintln!` (which
//! panic on a failed write).

use std::fmt::Display;
use std::io::{self, Write};
use std::process::ExitCode;

use crate::Error;

/// Writes one line of the command's results on stdout.
pub fn result(line: impl Display) -> crate::Result<()> {
    writeln!(io::stdout().lock(), "{line}").map_err(Error::Stdout)
}

/// Writes one line on stderr if it can.
pub fn note(line: impl Display) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// The exit status of a finished command. A stdout closed by its reader ends the command
/// with success, as `head`'s partners do (`grep`, `rg`): stopping reading is how a
/// pipeline says it has enough, and `set -o pipefail` should not fail for it. Any other
/// error is reported on stderr (if it can be) with status 1.
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    let Err(err) = result else {
        return ExitCode::SUCCESS;
    };
    let reader_left = err.chain().any(|cause| {
        matches!(cause.downcast_ref(), Some(Error::Stdout(e)) if e.kind() == io::ErrorKind::BrokenPipe)
    });
    if reader_left {
        return ExitCode::SUCCESS;
    }
    // The format of Rust's own report of an error returned from `main`.
    note(format_args!("Error: {err:?}"));
    ExitCode::FAILURE
}
