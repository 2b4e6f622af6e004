//! File dialogs (rfd) off the UI thread: the dialog blocks its own thread, and the
//! panel polls for the answer on later frames, so drawing never stops.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

/// A dialog that is open, or none.
#[derive(Default)]
pub struct Pending {
    answer: Option<Receiver<Option<PathBuf>>>,
}

impl Pending {
    /// Shows `dialog` (unless one is open already); `pick` runs it, as
    /// `rfd::FileDialog::pick_file` or `save_file` do.
    pub fn open(
        &mut self,
        ctx: &egui::Context,
        dialog: rfd::FileDialog,
        pick: fn(rfd::FileDialog) -> Option<PathBuf>,
    ) {
        if self.answer.is_some() {
            return;
        }
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ = tx.send(pick(dialog));
            ctx.request_repaint();
        });
        self.answer = Some(rx);
    }

    /// A save dialog for a PNG, suggesting `name`.
    pub fn save_png(&mut self, ctx: &egui::Context, name: &str) {
        let dialog = rfd::FileDialog::new()
            .add_filter("PNG", &["png"])
            .set_file_name(name);
        self.open(ctx, dialog, rfd::FileDialog::save_file);
    }

    pub fn is_open(&self) -> bool {
        self.answer.is_some()
    }

    /// The path chosen, once, when the dialog has closed with one.
    pub fn chosen(&mut self) -> Option<PathBuf> {
        let rx = self.answer.as_ref()?;
        match rx.try_recv() {
            Ok(answer) => {
                self.answer = None;
                answer
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.answer = None;
                None
            }
        }
    }
}

/// The image files the app reads.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// Whether `path` names a PNG or JPEG (by its extension).
pub fn is_image(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}
