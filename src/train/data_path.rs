//! The dataset's path in a checkpoint's `train.settings` (JSON), kept exactly (serde's
//! `with` for [`super::Settings::data`]). A path that is valid Unicode is a string, as
//! any JSON reader expects; on Unix any other path is stored as its bytes,
//! `{"unix_bytes": [...]}`. Elsewhere such a path cannot be stored, and a run refuses it
//! before its first step.

use std::path::PathBuf;

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum StoredPath {
    Text(String),
    UnixBytes { unix_bytes: Vec<u8> },
}

pub fn serialize<S: Serializer>(path: &Option<PathBuf>, serializer: S) -> Result<S::Ok, S::Error> {
    let stored = match path {
        None => None,
        Some(path) => Some(match path.to_str() {
            Some(text) => StoredPath::Text(text.to_owned()),
            None => unix_bytes(path).ok_or_else(|| {
                S::Error::custom(format!(
                    "the dataset path {} is not valid Unicode, which a checkpoint on this \
                     system cannot store: rename it",
                    path.display()
                ))
            })?,
        }),
    };
    stored.serialize(serializer)
}

pub fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PathBuf>, D::Error> {
    Option::<StoredPath>::deserialize(deserializer)?
        .map(|stored| match stored {
            StoredPath::Text(text) => Ok(PathBuf::from(text)),
            StoredPath::UnixBytes { unix_bytes } => from_unix_bytes(unix_bytes).ok_or_else(|| {
                D::Error::custom("the dataset path is stored as Unix bytes: this is not Unix")
            }),
        })
        .transpose()
}

#[cfg(unix)]
fn unix_bytes(path: &std::path::Path) -> Option<StoredPath> {
    use std::os::unix::ffi::OsStrExt;
    Some(StoredPath::UnixBytes {
        unix_bytes: path.as_os_str().as_bytes().to_vec(),
    })
}

#[cfg(not(unix))]
fn unix_bytes(_: &std::path::Path) -> Option<StoredPath> {
    None
}

#[cfg(unix)]
fn from_unix_bytes(bytes: Vec<u8>) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    Some(std::ffi::OsString::from_vec(bytes).into())
}

#[cfg(not(unix))]
fn from_unix_bytes(_: Vec<u8>) -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use std::path::PathBuf;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(default, with = "super")]
        data: Option<PathBuf>,
    }

    fn round_trip(data: Option<PathBuf>) -> String {
        let json = serde_json::to_string(&Holder { data: data.clone() }).unwrap();
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap().data, data);
        json
    }

    #[test]
    fn unicode_paths_are_strings_and_a_missing_field_is_none() {
        assert_eq!(round_trip(None), r#"{"data":null}"#);
        assert_eq!(
            round_trip(Some("data/mnist".into())),
            r#"{"data":"data/mnist"}"#
        );
        assert_eq!(serde_json::from_str::<Holder>("{}").unwrap().data, None);
    }

    #[cfg(unix)]
    #[test]
    fn other_unix_paths_are_kept_as_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(b"data-\xff"));
        assert_eq!(
            round_trip(Some(path)),
            r#"{"data":{"unix_bytes":[100,97,116,97,45,255]}}"#
        );
    }
}
