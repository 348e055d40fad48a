//! `build_download_index`: every key of a collection → its download URLs.

use std::collections::BTreeMap;

use faircore::UrlInfo;

use super::pattern::Pattern;
use super::plan::UrlStep;

/// The schemes a download URL may have: what a downloader fetches over the
/// network (never `file:` or `javascript:`).
const SCHEMES: [&str; 3] = ["http", "https", "ftp"];

/// The download index of `keys`: an error names the first key the pattern does
/// not match, or the key and template of a URL that does not parse.
pub fn build<'a>(
    keys: impl Iterator<Item = &'a String>,
    pattern: &Pattern,
    urls: &[UrlStep],
) -> Result<BTreeMap<String, Vec<UrlInfo<'static>>>, String> {
    let mut index = BTreeMap::new();
    for key in keys {
        let groups = pattern
            .captures(key)
            .ok_or_else(|| format!("entry {key:?} does not match the regex"))?;
        let mut infos = Vec::with_capacity(urls.len());
        for step in urls {
            let url = step.template.render(&groups);
            let parsed = url::Url::parse(&url).map_err(|e| {
                format!(
                    "entry {key:?}: template {:?} gives {url:?}, not a URL: {e}",
                    step.source
                )
            })?;
            if !SCHEMES.contains(&parsed.scheme()) || !parsed.has_host() {
                return Err(format!(
                    "entry {key:?}: template {:?} gives {url:?}, a {}: URL; expected http, https or ftp with a host",
                    step.source,
                    parsed.scheme()
                ));
            }
            infos.push(UrlInfo::new(
                url,
                step.compression.clone(),
                step.celltype.clone(),
            ));
        }
        index.insert(key.clone(), infos);
    }
    Ok(index)
}
