//! `build_download_index`: every key of a collection → its download URLs.

use std::collections::BTreeMap;

use faircore::UrlInfo;

use super::pattern::Pattern;
use super::plan::UrlStep;

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
            url::Url::parse(&url).map_err(|e| {
                format!(
                    "entry {key:?}: template {:?} gives {url:?}, not a URL: {e}",
                    step.source
                )
            })?;
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
