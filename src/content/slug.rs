//! Slugs: the ASCII form of a name for keys, addresses and file names.

/// A slug for a key or an address: ASCII lowercase letters, digits and
/// `-`; German letters spelled out (`ü` → `ue`), accents dropped.
pub fn slug(text: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    let mut out = String::new();
    for c in decoded.to_lowercase().chars() {
        let spelled = match c {
            'ä' => "ae",
            'ö' => "oe",
            'ü' => "ue",
            'ß' => "ss",
            'à' | 'á' | 'â' | 'ã' | 'å' => "a",
            'ç' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ñ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ø' => "o",
            'ù' | 'ú' | 'û' => "u",
            'ý' | 'ÿ' => "y",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "-",
        };
        out.push_str(spelled);
    }
    let joined = out.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
    let cut: String = joined.chars().take(80).collect();
    let cut = cut.trim_end_matches('-').to_owned();
    (!cut.is_empty()).then_some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_ascii_slugs() {
        assert_eq!(slug("anh%c3%b6rung-in-m%c3%bcnchen").as_deref(), Some("anhoerung-in-muenchen"));
        assert_eq!(slug("Über den Fall!").as_deref(), Some("ueber-den-fall"));
        assert_eq!(slug("Café — Straße").as_deref(), Some("cafe-strasse"));
        assert_eq!(slug("???"), None);
    }
}
