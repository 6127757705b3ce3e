//! A bundle's uploaded images: `images.toml` lists them (key, the file,
//! the name it was uploaded as, the description per language) and
//! `images/<file>` holds each original. Importing makes the variants again
//! from the original, so a bundle carries each image once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Attachment, BundleFile, Problems};

/// The list file.
pub const LIST: &str = "images.toml";

/// One image of `images.toml`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// `img-<hash>-<w>x<h>`: texts show it as `media:<key>`.
    pub key: String,
    /// The original's file beside the list, `images/<file>`.
    pub file: String,
    /// The name it was uploaded as.
    #[serde(default)]
    pub name: String,
    /// The description per language (`en`, `de`).
    #[serde(default)]
    pub alt: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListFile {
    #[serde(default)]
    image: Vec<Image>,
}

/// The bundle's images with their originals, each checked: the file is
/// there and is the image its key names. Every mistake is listed.
pub fn read(
    texts: &[BundleFile],
    attachments: &[Attachment],
) -> Result<Vec<(Image, crate::media::Processed)>, Problems> {
    let Some((_, text)) = texts.iter().find(|(p, _)| p == LIST) else { return Ok(Vec::new()) };
    let mut problems = Problems::default();
    let Some(list) = problems.toml::<ListFile>(LIST, text, 1) else { return Err(problems) };
    let mut out = Vec::new();
    for image in list.image {
        let path = format!("images/{}", image.file);
        let Some((_, bytes)) = attachments.iter().find(|(p, _)| *p == path) else {
            problems.note(format!("{LIST}: image `{}`: {path} is not in the bundle", image.key));
            continue;
        };
        match crate::media::process(bytes) {
            Ok(processed) if processed.key == image.key => out.push((image, processed)),
            Ok(processed) => problems.note(format!(
                "{path}: its content is the image `{}`, not `{}` (a key names its content)",
                processed.key, image.key
            )),
            Err(refused) => problems.note(format!("{path}: {refused}")),
        }
    }
    if problems.0.is_empty() { Ok(out) } else { Err(problems) }
}

/// `images.toml` for these images, and where each original goes.
pub fn write(images: &[Image]) -> anyhow::Result<String> {
    let list = ListFile { image: images.to_vec() };
    Ok(toml::to_string(&list)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_names_its_files_and_each_must_be_the_image_its_key_names() {
        let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut bytes = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        let key = crate::media::process(&bytes).unwrap().key;
        let entry = Image { key: key.clone(), file: format!("{key}.png"), name: "a.png".into(), alt: BTreeMap::new() };
        let text = write(std::slice::from_ref(&entry)).unwrap();
        let texts = vec![(LIST.to_owned(), text.clone())];
        let files = vec![(format!("images/{key}.png"), bytes.clone())];
        let read_back = read(&texts, &files).unwrap();
        assert_eq!(read_back[0].0, entry);
        // The file missing, or another image under this key: refused, both listed.
        let wrong = text.replace(&key, "img-000000000000-40x30");
        let problems =
            read(&[(LIST.to_owned(), wrong)], &[("images/img-000000000000-40x30.png".into(), bytes)]).unwrap_err();
        assert!(problems.0[0].contains("not `img-000000000000-40x30`"), "{problems:?}");
        let problems = read(&texts, &[]).unwrap_err();
        assert!(problems.0[0].contains("is not in the bundle"), "{problems:?}");
    }
}
