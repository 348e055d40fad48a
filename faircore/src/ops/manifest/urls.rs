//! The URLs of a server of this catalogue (`fair serve`): its buffers, and its
//! files named after their keys.

use crate::Checksum;

/// The URL of the element `checksum` on a server of this catalogue at `base`.
pub fn buffer_url(base: &str, checksum: &Checksum) -> String {
    format!("{}/buffers/{checksum}", base.trim_end_matches('/'))
}

/// The URL of the element `checksum` under the name `key` on a server of this
/// catalogue at `base` (`GET /files/ELEMENT/KEY`); each segment of the key is
/// percent-encoded.
pub fn file_url(base: &str, checksum: &Checksum, key: &str) -> String {
    let mut url = format!("{}/files/{checksum}/", base.trim_end_matches('/'));
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

/// How many leading directories `wget --cut-dirs` must drop from the URLs of
/// [`file_url`] so that only the key is left: the base URL's path segments,
/// then `files` and the checksum.
pub fn wget_cut_dirs(base: &str) -> usize {
    let path = url::Url::parse(base).map_or_else(|_| String::new(), |u| u.path().to_owned());
    path.split('/').filter(|s| !s.is_empty()).count() + 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HashAlgo;

    #[test]
    fn file_urls_keep_the_key_s_directories_and_wget_cuts_the_rest() {
        let element = HashAlgo::Blake3.hash(b"x");
        assert_eq!(
            file_url("http://h:1/", &element, "d 1/a+b.txt"),
            format!("http://h:1/files/{element}/d%201/a%2Bb.txt")
        );
        assert_eq!(wget_cut_dirs("http://h:1/"), 2);
        assert_eq!(wget_cut_dirs("https://example.org/fair/pdb/"), 4);
    }
}
