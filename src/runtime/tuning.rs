//! Kernel choices measured once per adapter and shape, kept on disk.
//!
//! An op asks [`Tuning::choose`] for the variant to use at a shape; the first time, its
//! `measure` closure times the candidates and the winner is stored under the op's key
//! in memory and in a JSON file for this adapter and driver in the user's cache
//! directory, so later runs reuse it. The file is a cache: one that is unreadable,
//! corrupt or written for another adapter, driver, version of this program or build of
//! the tuned kernels is ignored and rewritten, never an error.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::error::Result;

/// What a cache file must have been written for to be reused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Identity {
    adapter: String,
    backend: String,
    driver: String,
    driver_info: String,
    program_version: String,
    /// [`tuned_kernels`]: timings of other kernels say nothing about these.
    kernels: String,
}

/// A checksum of the kernels that have tuned variants as compiled (prelude included,
/// templates expanded), of how they are compiled and of the tuner that times them, so
/// that a changed kernel or way of timing is timed again even within one program
/// version.
fn tuned_kernels() -> String {
    let conv2d = super::kernel::compiled_source(include_str!("../../shaders/conv2d.wgsl"));
    let winograd = super::kernel::compiled_source(include_str!("../../shaders/winograd.wgsl"));
    let mut h = crc32fast::Hasher::new();
    for text in [
        conv2d.as_str(),
        winograd.as_str(),
        super::kernel::RUNTIME_CHECKS,
        include_str!("../ops/conv2d/tune.rs"),
    ] {
        h.update(text.as_bytes());
    }
    format!("{:08x}", h.finalize())
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    identity: Identity,
    choices: BTreeMap<String, serde_json::Value>,
}

pub struct Tuning {
    identity: Identity,
    /// None: choices live in memory only.
    path: Option<PathBuf>,
    choices: Mutex<BTreeMap<String, serde_json::Value>>,
    /// Choices a resumed run brought from its checkpoint ([`Tuning::pin`]): they come
    /// before the cache's and are never written to it.
    pinned: Mutex<BTreeMap<String, serde_json::Value>>,
}

impl Tuning {
    /// Choices for `info`'s adapter, starting from the file at `path` when it was written
    /// for the same adapter, driver, program version and kernels.
    pub fn open(info: &wgpu::AdapterInfo, path: Option<PathBuf>) -> Tuning {
        let identity = Identity {
            adapter: info.name.clone(),
            backend: format!("{:?}", info.backend),
            driver: info.driver.clone(),
            driver_info: info.driver_info.clone(),
            program_version: env!("CARGO_PKG_VERSION").to_string(),
            kernels: tuned_kernels(),
        };
        let tuning = Tuning {
            identity,
            path,
            choices: Mutex::default(),
            pinned: Mutex::default(),
        };
        if let Some(p) = &tuning.path {
            *tuning.choices.lock().unwrap() = tuning.read_matching(p);
        }
        tuning
    }

    /// The choices in the file at `path` if it was written for this identity, else none.
    fn read_matching(&self, path: &Path) -> BTreeMap<String, serde_json::Value> {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
            .filter(|file| file.identity == self.identity)
            .map(|file| file.choices)
            .unwrap_or_default()
    }

    /// `<cache dir>/realnvp/kernels-<adapter>.json` (the `dirs` crate's cache dir), or
    /// None where the platform has none.
    pub fn default_path(info: &wgpu::AdapterInfo) -> Option<PathBuf> {
        let name: String = format!("{}-{:?}", info.name, info.backend)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        Some(
            dirs::cache_dir()?
                .join("realnvp")
                .join(format!("kernels-{name}.json")),
        )
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The stored choice for `key`, or `measure`'s, which is then stored. A stored value
    /// that no longer parses as `T` is measured again.
    pub fn choose<T: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        measure: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        for known in [&self.pinned, &self.choices] {
            if let Some(v) = known.lock().unwrap().get(key)
                && let Ok(known) = serde_json::from_value(v.clone())
            {
                return Ok(known);
            }
        }
        let chosen = measure()?;
        let value = serde_json::to_value(&chosen).expect("kernel choices serialise");
        self.choices.lock().unwrap().insert(key.to_string(), value);
        self.save();
        Ok(chosen)
    }

    /// Every stored choice (what `realnvp adapters` shows).
    pub fn choices(&self) -> BTreeMap<String, serde_json::Value> {
        self.choices.lock().unwrap().clone()
    }

    /// The choices this process makes: the stored ones with the pinned ones on top
    /// (what a checkpoint records, so that its run resumes with the same kernels).
    pub fn in_use(&self) -> BTreeMap<String, serde_json::Value> {
        let mut all = self.choices();
        all.extend(self.pinned.lock().unwrap().clone());
        all
    }

    /// Makes `choices` (from a checkpoint's [`Tuning::in_use`]) win over the cache and
    /// over measuring, so that a resumed run runs the kernels it ran before: Winograd
    /// differs from the direct kernels by rounding, and a cache emptied or re-measured
    /// in between would otherwise change the run's bits.
    pub fn pin(&self, choices: BTreeMap<String, serde_json::Value>) {
        self.pinned.lock().unwrap().extend(choices);
    }

    /// Best effort: a cache that cannot be written costs a measurement next run, and
    /// says so on stderr.
    fn save(&self) {
        let Some(path) = &self.path else { return };
        // Another process may have added choices since this one opened the file: keep
        // theirs, with ours on top.
        let mut choices = self.read_matching(path);
        choices.extend(self.choices());
        let file = CacheFile {
            identity: self.identity.clone(),
            choices,
        };
        let bytes = serde_json::to_vec_pretty(&file).expect("kernel choices serialise");
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::checkpoint::replace_file(path, &bytes));
        if let Err(e) = written {
            // A note, best effort: a closed stderr must not stop the work it is about.
            let _ = writeln!(
                std::io::stderr(),
                "note: could not save kernel choices to {}: {e}",
                path.display()
            );
        }
    }
}
