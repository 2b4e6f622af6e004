//! How the app names files to a person: the bundled model by its name, any other file
//! by its path relative to the working directory where it lies under it, so that what
//! the window shows (and a screenshot of it) carries no more of the machine than needed.

use std::path::{Path, PathBuf};

/// How the window names the bundled model.
pub const BUNDLED_NAME: &str = "bundled mnist model";

/// The weights-only `mnist` model shipped with the app (assets/models/README.md says
/// how it was trained); the app opens it when given no other.
pub fn bundled_model() -> PathBuf {
    let app_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    app_dir
        .parent()
        .unwrap_or(app_dir)
        .join("assets/models/mnist.safetensors")
}

/// The model file as the window names it: [`BUNDLED_NAME`] for the bundled model,
/// otherwise as [`shown`].
pub fn model_name(path: &Path) -> String {
    if same_file(path, &bundled_model()) {
        BUNDLED_NAME.to_owned()
    } else {
        shown(path)
    }
}

/// `path` for a command typed in the working directory: relative to it where the file
/// lies under it, otherwise as given.
pub fn for_command(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let relative = cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok());
    relative.unwrap_or(path).display().to_string()
}

/// `path` for reading: relative to the working directory where it lies under it, else
/// `~/...` under the home directory, else as given.
pub fn shown(path: &Path) -> String {
    let command = for_command(path);
    if Path::new(&command).is_relative() {
        return command;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match home
        .as_deref()
        .and_then(|home| path.strip_prefix(home).ok())
    {
        Some(rest) => format!("~/{}", rest.display()),
        None => command,
    }
}

/// Whether `a` and `b` name the same file or folder (as written, where either is missing).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_model_is_named_and_other_files_lose_the_working_directory() {
        assert_eq!(model_name(&bundled_model()), BUNDLED_NAME);
        let cwd = std::env::current_dir().unwrap();
        let inside = cwd.join("runs/a/checkpoint.safetensors");
        assert_eq!(shown(&inside), "runs/a/checkpoint.safetensors");
        assert_eq!(for_command(&inside), "runs/a/checkpoint.safetensors");
        assert_eq!(model_name(&inside), "runs/a/checkpoint.safetensors");
        // A path outside both the working directory and the home directory stays whole.
        let outside = Path::new("/nonexistent-root-dir/m.safetensors");
        assert_eq!(shown(outside), "/nonexistent-root-dir/m.safetensors");
        assert_eq!(for_command(outside), "/nonexistent-root-dir/m.safetensors");
    }
}
