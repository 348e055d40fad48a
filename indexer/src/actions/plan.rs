//! Checking an action file before anything runs: every collection defined before
//! it is used, regexes that compile, templates that name existing groups, no hard
//! links across devices. The result is a [`Plan`] that cannot fail for these
//! reasons any more.

use faircore::Name;

use super::pattern::{Pattern, Template};
use super::spec::{Action, ActionFile, Celltype, Command, UrlTemplate};
use crate::InternMode;

/// What a collection of the run is, which decides what may read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The indexed source directory.
    Default,
    /// An operation result: the origin's keys, with result buffers.
    Operation {
        /// The collection operated on.
        origin: Name,
        /// The results' celltype.
        celltype: Celltype,
    },
    /// A copy under `collections/<name>/`.
    Copied {
        /// The celltype of its files.
        celltype: Celltype,
    },
    /// A deepcell.
    Deepcell,
}

/// One checked step.
#[derive(Debug)]
pub enum Step {
    /// Run `command` and convert to `celltype`, into `target`.
    Operation {
        /// The collection operated on (default or copied).
        source: Name,
        /// The result collection.
        target: Name,
        /// The decompression, if any.
        command: Option<Command>,
        /// The result celltype.
        celltype: Celltype,
        /// The zip member to extract.
        member: Option<String>,
    },
    /// Copy (or hard-link) renamed entries into `collections/<target>/`.
    Copy {
        /// The collection copied.
        source: Name,
        /// The new collection.
        target: Name,
        /// Each key must match it.
        pattern: Pattern,
        /// The new key.
        template: Template,
        /// Hard links instead of copies.
        hardlink: bool,
    },
    /// `download_indices/<source>.json`.
    DownloadIndex {
        /// The collection indexed.
        source: Name,
        /// Each key must match it.
        pattern: Pattern,
        /// URL templates with their compression and celltype.
        urls: Vec<UrlStep>,
    },
    /// `deepfolders/<source>.json`.
    Deepfolder {
        /// The collection written.
        source: Name,
    },
    /// `deepcells/<target>.json`.
    Deepcell {
        /// An operation result of celltype mixed or plain.
        source: Name,
        /// The new collection.
        target: Name,
        /// Each key must match it.
        pattern: Pattern,
        /// The new key.
        template: Template,
    },
}

/// One URL of a download index entry.
#[derive(Debug)]
pub struct UrlStep {
    /// The URL template, as written (for messages).
    pub source: String,
    /// The parsed template.
    pub template: Template,
    /// How the download is compressed.
    pub compression: Option<String>,
    /// The celltype of the download.
    pub celltype: Option<String>,
}

/// A checked action file.
#[derive(Debug)]
pub struct Plan {
    /// The default collection's name.
    pub default: Name,
    /// How the source is interned (`intern_collection`).
    pub intern: InternMode,
    /// The other actions, in order, each with its place in the file for messages
    /// (`actions[3] (copy_collection)`).
    pub steps: Vec<(String, Step)>,
    /// Every collection of the run and its kind, in order of definition.
    pub kinds: Vec<(Name, Kind)>,
}

impl Plan {
    /// The kind of the collection `name`.
    pub fn kind(&self, name: &Name) -> Option<&Kind> {
        self.kinds.iter().find(|(n, _)| n == name).map(|(_, k)| k)
    }
}

/// Checks `file`; the error names the action (by index, from 0) and the field.
pub fn check(file: &ActionFile) -> Result<Plan, String> {
    let default = Name::new(&file.collection).map_err(|e| format!("collection: {e}"))?;
    let mut plan = Plan {
        default: default.clone(),
        intern: InternMode::None,
        steps: Vec::new(),
        kinds: vec![(default, Kind::Default)],
    };
    for (i, action) in file.actions.iter().enumerate() {
        let at =
            |field: &str, msg: String| format!("actions[{i}] ({}).{field}: {msg}", action.name());
        let step = check_action(&mut plan, file.cross_device, action)
            .map_err(|(field, msg)| at(field, msg))?;
        if let Some(step) = step {
            plan.steps
                .push((format!("actions[{i}] ({})", action.name()), step));
        }
    }
    Ok(plan)
}

type Fault = (&'static str, String);

fn new_name(plan: &Plan, text: &str) -> Result<Name, Fault> {
    let name = Name::new(text).map_err(|e| ("collection", e.to_string()))?;
    if plan.kind(&name).is_some() {
        return Err((
            "collection",
            format!("collection {name:?} is already defined"),
        ));
    }
    Ok(name)
}

fn pattern_and_template(
    field: &'static str,
    regex: &str,
    tfield: &'static str,
    template: &str,
) -> Result<(Pattern, Template), Fault> {
    let pattern = Pattern::new(regex).map_err(|e| (field, e))?;
    let template = Template::new(template).map_err(|e| (tfield, e))?;
    template.check(&pattern).map_err(|e| (tfield, e))?;
    Ok((pattern, template))
}

fn check_action(
    plan: &mut Plan,
    cross_device: bool,
    action: &Action,
) -> Result<Option<Step>, Fault> {
    let source = match action.source_collection() {
        None => plan.default.clone(),
        Some(text) => {
            let name = Name::new(text).map_err(|e| ("source_collection", e.to_string()))?;
            if plan.kind(&name).is_none() {
                return Err((
                    "source_collection",
                    format!("collection {name:?} is not defined by an earlier action"),
                ));
            }
            name
        }
    };
    let kind = plan.kind(&source).cloned().unwrap_or(Kind::Default);
    let refuse = |field, what: &str| {
        Err((
            field,
            format!(
                "source collection {source:?} is {}, {what}",
                describe(&kind)
            ),
        ))
    };
    match action {
        Action::InternCollection { hardlink, .. } => {
            if kind != Kind::Default {
                return refuse(
                    "source_collection",
                    "but only the default collection can be interned",
                );
            }
            if *hardlink && cross_device {
                return Err((
                    "hardlink",
                    "hard links are impossible with cross_device: true; use hardlink: false".into(),
                ));
            }
            plan.intern = if *hardlink {
                InternMode::Hardlink
            } else {
                InternMode::Copy
            };
            Ok(None)
        }
        Action::Operation {
            collection,
            command,
            celltype,
            member,
            ..
        } => {
            if !matches!(kind, Kind::Default | Kind::Copied { .. }) {
                return refuse(
                    "source_collection",
                    "but operations read the default collection or a copied one",
                );
            }
            if member.is_some() && *command != Some(Command::Unzip) {
                return Err(("member", "only `command: unzip` takes a member".into()));
            }
            let target = new_name(plan, collection)?;
            let celltype = celltype.unwrap_or_default();
            plan.kinds.push((
                target.clone(),
                Kind::Operation {
                    origin: source.clone(),
                    celltype,
                },
            ));
            Ok(Some(Step::Operation {
                source,
                target,
                command: *command,
                celltype,
                member: member.clone(),
            }))
        }
        Action::CopyCollection {
            collection,
            source_file,
            target_file,
            hardlink,
            ..
        } => {
            if kind == Kind::Deepcell {
                return refuse("source_collection", "but only folders can be copied");
            }
            if *hardlink && cross_device && kind == Kind::Default {
                return Err((
                    "hardlink",
                    "hard links are impossible with cross_device: true; use hardlink: false".into(),
                ));
            }
            let (pattern, template) =
                pattern_and_template("source_file", source_file, "target_file", target_file)?;
            let target = new_name(plan, collection)?;
            let celltype = match kind {
                Kind::Operation { celltype, .. } | Kind::Copied { celltype } => celltype,
                _ => Celltype::Bytes,
            };
            plan.kinds.push((target.clone(), Kind::Copied { celltype }));
            Ok(Some(Step::Copy {
                source,
                target,
                pattern,
                template,
                hardlink: *hardlink,
            }))
        }
        Action::BuildDownloadIndex {
            source_file,
            source_key,
            urls,
            ..
        } => {
            let (field, regex) = match (kind == Kind::Deepcell, source_file, source_key) {
                (true, _, Some(key)) => ("source_key", key),
                (true, _, None) => return refuse("source_key", "so it needs source_key"),
                (false, Some(file), None) => ("source_file", file),
                (false, _, Some(_)) => {
                    return refuse("source_key", "so it takes source_file, not source_key");
                }
                (false, None, None) => return Err(("source_file", "missing".into())),
            };
            let pattern = Pattern::new(regex).map_err(|e| (field, e))?;
            let mut steps = Vec::new();
            for url in urls {
                let (text, compression, celltype) = match url {
                    UrlTemplate::Plain(u) => (u, None, None),
                    UrlTemplate::Full(info) => {
                        (&info.url, info.compression.clone(), info.celltype.clone())
                    }
                };
                let template = Template::new(text).map_err(|e| ("urls", e))?;
                template
                    .check(&pattern)
                    .map_err(|e| ("urls", format!("{text:?}: {e}")))?;
                steps.push(UrlStep {
                    source: text.clone(),
                    template,
                    compression,
                    celltype,
                });
            }
            if steps.is_empty() {
                return Err(("urls", "expected at least one URL template".into()));
            }
            Ok(Some(Step::DownloadIndex {
                source,
                pattern,
                urls: steps,
            }))
        }
        Action::Deepfolder { .. } => {
            if !matches!(kind, Kind::Default | Kind::Copied { .. }) {
                return refuse(
                    "source_collection",
                    "but a deepfolder is written from the default collection or a copied one",
                );
            }
            Ok(Some(Step::Deepfolder { source }))
        }
        Action::Deepcell {
            collection,
            source_file,
            target_key,
            ..
        } => {
            if !matches!(
                kind,
                Kind::Operation {
                    celltype: Celltype::Mixed | Celltype::Plain,
                    ..
                }
            ) {
                return refuse(
                    "source_collection",
                    "but a deepcell is built from an operation result of celltype mixed or plain",
                );
            }
            let (pattern, template) =
                pattern_and_template("source_file", source_file, "target_key", target_key)?;
            let target = new_name(plan, collection)?;
            plan.kinds.push((target.clone(), Kind::Deepcell));
            Ok(Some(Step::Deepcell {
                source,
                target,
                pattern,
                template,
            }))
        }
    }
}

fn describe(kind: &Kind) -> String {
    match kind {
        Kind::Default => "the default collection".into(),
        Kind::Operation { celltype, .. } => {
            format!("an operation result of celltype {}", celltype.name())
        }
        Kind::Copied { .. } => "a copied collection".into(),
        Kind::Deepcell => "a deepcell".into(),
    }
}
