//! The action file as written (`reference/seamless.md` §3): parsed strictly from
//! YAML or JSON. Unknown fields are refused; syntax errors carry line and column.

use std::path::Path;

use serde::Deserialize;

/// A whole action file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionFile {
    /// The name of the default collection: the source directory.
    pub collection: String,
    /// Whether the source is on another device than the catalogue (no hard links).
    pub cross_device: bool,
    /// The actions, run in order.
    pub actions: Vec<Action>,
}

/// One action.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Put every element buffer of the source into the buffer directory.
    InternCollection {
        /// Must be the default collection.
        source_collection: Option<String>,
        /// Hard links instead of copies.
        #[serde(default)]
        hardlink: bool,
    },
    /// Decompress and/or convert every element into a new collection.
    Operation {
        /// The default collection or a copied one.
        source_collection: Option<String>,
        /// The new collection.
        collection: String,
        /// `gunzip`, `bunzip2`, `unzip`, or none.
        command: Option<Command>,
        /// The celltype of the results; `bytes` when absent.
        celltype: Option<Celltype>,
        /// For `unzip`: the archive member to extract (required when an archive
        /// holds several).
        member: Option<String>,
    },
    /// A new collection of renamed keys, with its files under `collections/`.
    CopyCollection {
        /// The default collection, an operation result or a copied collection.
        source_collection: Option<String>,
        /// The new collection.
        collection: String,
        /// The regex each key must match.
        source_file: String,
        /// The new key.
        target_file: String,
        /// Hard links instead of copies.
        #[serde(default)]
        hardlink: bool,
    },
    /// `download_indices/<source collection>.json`: key → URLs.
    BuildDownloadIndex {
        /// Any collection; a deepcell takes `source_key`, the others `source_file`.
        source_collection: Option<String>,
        /// The regex each key must match (folders).
        source_file: Option<String>,
        /// The regex each key must match (deepcells).
        source_key: Option<String>,
        /// URL templates.
        urls: Vec<UrlTemplate>,
    },
    /// Write `deepfolders/<source collection>.json`.
    Deepfolder {
        /// The default collection or a copied one.
        source_collection: Option<String>,
    },
    /// Write `deepcells/<collection>.json` from an operation result of celltype mixed or plain (a plain JSON value is a valid mixed cell).
    Deepcell {
        /// An operation result of celltype `mixed`.
        source_collection: Option<String>,
        /// The new collection.
        collection: String,
        /// The regex each key must match.
        source_file: String,
        /// The new key.
        target_key: String,
    },
}

/// A decompression command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// gzip (every member of a multi-member file).
    Gunzip,
    /// bzip2.
    Bunzip2,
    /// A zip archive's single member (or the one named by `member`).
    Unzip,
}

/// What an operation result is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Celltype {
    /// The bytes as they are.
    #[default]
    Bytes,
    /// The bytes, checked to be UTF-8.
    Text,
    /// JSON, re-serialised in the plain encoding.
    Plain,
    /// UTF-8 text as its JSON string literal plus a newline.
    Mixed,
}

/// A URL template: a string, or an object with a compression and a celltype.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum UrlTemplate {
    /// Only the URL.
    Plain(String),
    /// The URL with what its content is.
    Full(UrlInfo),
}

/// The object form of a URL template.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlInfo {
    /// The URL template.
    pub url: String,
    /// How the download is compressed.
    pub compression: Option<String>,
    /// The celltype of the download.
    pub celltype: Option<String>,
}

impl Command {
    /// The name in action files.
    pub fn name(self) -> &'static str {
        match self {
            Command::Gunzip => "gunzip",
            Command::Bunzip2 => "bunzip2",
            Command::Unzip => "unzip",
        }
    }
}

impl Celltype {
    /// The name in action files.
    pub fn name(self) -> &'static str {
        match self {
            Celltype::Bytes => "bytes",
            Celltype::Text => "text",
            Celltype::Plain => "plain",
            Celltype::Mixed => "mixed",
        }
    }
}

impl Action {
    /// The `action` name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Action::InternCollection { .. } => "intern_collection",
            Action::Operation { .. } => "operation",
            Action::CopyCollection { .. } => "copy_collection",
            Action::BuildDownloadIndex { .. } => "build_download_index",
            Action::Deepfolder { .. } => "deepfolder",
            Action::Deepcell { .. } => "deepcell",
        }
    }

    /// The collection the action reads, if given.
    pub fn source_collection(&self) -> Option<&str> {
        match self {
            Action::InternCollection {
                source_collection, ..
            }
            | Action::Operation {
                source_collection, ..
            }
            | Action::CopyCollection {
                source_collection, ..
            }
            | Action::BuildDownloadIndex {
                source_collection, ..
            }
            | Action::Deepfolder { source_collection }
            | Action::Deepcell {
                source_collection, ..
            } => source_collection.as_deref(),
        }
    }
}

/// Reads an action file: YAML (`.yaml`, `.yml`) or JSON (`.json`).
pub fn read(path: &Path) -> Result<ActionFile, String> {
    let text =
        faircore::regular::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let parsed = match ext {
        "json" => serde_json::from_str(&text).map_err(|e| e.to_string()),
        "yaml" | "yml" => faircore::yaml::from_str(&text),
        _ => Err("expected a .yaml, .yml or .json action file".into()),
    };
    parsed.map_err(|e| format!("{}: {e}", path.display()))
}
