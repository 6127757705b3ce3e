//! Images editors upload: checked by their content (not their name),
//! decoded within limits (a small file must not claim a huge canvas),
//! turned upright, and re-encoded into resized JPEG and WebP variants.
//! Re-encoding from pixels leaves every byte of metadata behind: EXIF,
//! GPS positions, camera serial numbers. The original is kept beside the
//! variants and never served.
//!
//! An image's key names its content and size, `img-<hash>-<w>x<h>`, so a
//! page can be rendered from its Markdown alone (`![alt](media:<key>)`,
//! see `markdown`) and a file, once written, never changes.

use std::io::Cursor;
use std::path::Path;

use anyhow::{Context, Result};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

/// The largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
/// The widths variants are made in (none wider than the image itself).
pub const WIDTHS: [u32; 4] = [480, 960, 1600, 2400];
/// The largest canvas decoded: 50 megapixels, 12,000 pixels a side.
const MAX_PIXELS: u64 = 50_000_000;
const MAX_SIDE: u32 = 12_000;
const JPEG_QUALITY: u8 = 82;
const WEBP_QUALITY: f32 = 80.0;

/// Why an upload is not an image Casefile takes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("the file is not a JPEG, PNG, GIF or WebP image (its content decides, not its name)")]
    NotAnImage,
    #[error("the image is larger than {MAX_SIDE} pixels a side or {MAX_PIXELS} pixels in all")]
    TooLarge,
    #[error("the image could not be read: {0}")]
    Broken(String),
}

/// An image made ready: its key and size, its variants and the original.
pub struct Processed {
    pub key: String,
    pub width: u32,
    pub height: u32,
    /// `(width, JPEG bytes, WebP bytes)`, narrowest first.
    pub variants: Vec<(u32, Vec<u8>, Vec<u8>)>,
    pub original: Vec<u8>,
    /// `jpg`, `png`, `gif` or `webp`.
    pub extension: &'static str,
}

impl std::fmt::Debug for Processed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let widths: Vec<u32> = self.variants.iter().map(|v| v.0).collect();
        f.debug_struct("Processed").field("key", &self.key).field("widths", &widths).finish_non_exhaustive()
    }
}

/// Checks, decodes and re-encodes an uploaded image.
pub fn process(bytes: &[u8]) -> Result<Processed, Refused> {
    let format = image::guess_format(bytes).map_err(|_| Refused::NotAnImage)?;
    let extension = match format {
        ImageFormat::Jpeg => "jpg",
        ImageFormat::Png => "png",
        ImageFormat::Gif => "gif",
        ImageFormat::WebP => "webp",
        _ => return Err(Refused::NotAnImage),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refused)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Refused::TooLarge);
    }
    let orientation = decoder.orientation().map_err(refused)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(refused)?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    let hash = crate::ids::to_hex(&Sha256::digest(bytes)[..6]);
    let key = format!("img-{hash}-{width}x{height}");
    let variants = widths(width)
        .into_iter()
        .map(|w| {
            let h = (u64::from(height) * u64::from(w) / u64::from(width)).max(1) as u32;
            let resized = if w == width { image.clone() } else { image.resize_exact(w, h, image::imageops::Lanczos3) };
            let rgb = resized.to_rgb8();
            Ok((w, jpeg(&rgb)?, webp(&rgb)))
        })
        .collect::<Result<_, Refused>>()?;
    Ok(Processed { key, width, height, variants, original: bytes.to_vec(), extension })
}

fn refused(e: image::ImageError) -> Refused {
    match e {
        image::ImageError::Limits(_) => Refused::TooLarge,
        image::ImageError::Unsupported(_) => Refused::NotAnImage,
        other => Refused::Broken(other.to_string()),
    }
}

/// The widths of an image's variants: the standard ones narrower than
/// it, and its own width when that is below the widest.
pub fn widths(width: u32) -> Vec<u32> {
    let mut out: Vec<u32> = WIDTHS.into_iter().filter(|&w| w < width).collect();
    if width <= WIDTHS[WIDTHS.len() - 1] {
        out.push(width);
    } else if out.last() != Some(&WIDTHS[WIDTHS.len() - 1]) {
        out.push(WIDTHS[WIDTHS.len() - 1]);
    }
    out
}

/// The width and height a key names (`img-…-1200x800`).
pub fn size_of_key(key: &str) -> Option<(u32, u32)> {
    let (w, h) = key.rsplit('-').next()?.split_once('x')?;
    Some((w.parse().ok()?, h.parse().ok()?))
}

/// Whether `key` is an image key (no path can be built from one).
pub fn is_key(key: &str) -> bool {
    let mut parts = key.splitn(3, '-');
    parts.next() == Some("img")
        && parts.next().is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        && size_of_key(key).is_some()
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn jpeg(rgb: &image::RgbImage) -> Result<Vec<u8>, Refused> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
    rgb.write_with_encoder(encoder).map_err(|e| Refused::Broken(e.to_string()))?;
    Ok(out)
}

fn webp(rgb: &image::RgbImage) -> Vec<u8> {
    webp::Encoder::from_rgb(rgb.as_raw(), rgb.width(), rgb.height()).encode(WEBP_QUALITY).to_vec()
}

/// Where an image's files are: `<files>/media/<key>/`.
pub fn folder(files: &Path, key: &str) -> std::path::PathBuf {
    files.join("media").join(key)
}

/// Writes an image's variants (`<w>.jpg`, `<w>.webp`) and its original
/// into a staging folder, then renames it into place: a reader never sees
/// half an image. An image stored before (the same key) is kept.
pub fn store(files: &Path, image: &Processed) -> Result<()> {
    let target = folder(files, &image.key);
    if target.exists() {
        return Ok(());
    }
    let parent = files.join("media");
    std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new().prefix(".upload-").tempdir_in(&parent)?;
    for (w, jpg, webp) in &image.variants {
        std::fs::write(staging.path().join(format!("{w}.jpg")), jpg)?;
        std::fs::write(staging.path().join(format!("{w}.webp")), webp)?;
    }
    std::fs::write(staging.path().join(format!("original.{}", image.extension)), &image.original)?;
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, &target) {
        let _ = std::fs::remove_dir_all(&staged);
        if !target.exists() {
            return Err(e).with_context(|| format!("cannot store {}", target.display()));
        }
    }
    Ok(())
}

/// A variant's file name, if `name` is one (`960.jpg`, `480.webp`) of the
/// image `key`; the original is never one.
pub fn variant(key: &str, name: &str) -> Option<(u32, &'static str)> {
    let (w, ext) = name.split_once('.')?;
    let w: u32 = w.parse().ok().filter(|w: &u32| w.to_string().len() == name.len() - ext.len() - 1)?;
    let content_type = match ext {
        "jpg" => "image/jpeg",
        "webp" => "image/webp",
        _ => return None,
    };
    widths(size_of_key(key)?.0).contains(&w).then_some((w, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG of `w`×`h` with an EXIF segment holding a GPS marker.
    fn photo(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut plain = Vec::new();
        img.write_to(&mut Cursor::new(&mut plain), ImageFormat::Jpeg).unwrap();
        // APP1 "Exif" right after SOI, as a camera writes it.
        let payload = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 48.1351 SECRET-SERIAL-4711";
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn variants_are_resized_reencoded_and_carry_no_metadata() {
        let upload = photo(1200, 800);
        assert!(upload.windows(13).any(|w| w == b"SECRET-SERIAL"), "the test file has the marker");
        let p = process(&upload).unwrap();
        assert!(p.key.starts_with("img-") && p.key.ends_with("-1200x800"), "{}", p.key);
        assert!(is_key(&p.key));
        let made: Vec<u32> = p.variants.iter().map(|v| v.0).collect();
        assert_eq!(made, [480, 960, 1200]);
        for (w, jpg, webp) in &p.variants {
            for bytes in [jpg, webp] {
                assert!(!bytes.windows(4).any(|x| x == b"Exif"), "{w}: no EXIF");
                assert!(!bytes.windows(13).any(|x| x == b"SECRET-SERIAL"), "{w}: no metadata");
                let decoded = image::load_from_memory(bytes).unwrap();
                assert_eq!((decoded.width(), decoded.height()), (*w, w * 800 / 1200));
            }
            assert!(webp.starts_with(b"RIFF") && jpg.starts_with(&[0xFF, 0xD8]));
        }
    }

    #[test]
    fn what_is_not_an_image_or_too_large_is_refused() {
        assert_eq!(process(b"<html><script>alert(1)</script>").err(), Some(Refused::NotAnImage));
        assert_eq!(process(b"%PDF-1.7 not an image").err(), Some(Refused::NotAnImage));
        assert_eq!(process(b"<svg xmlns='http://www.w3.org/2000/svg'/>").err(), Some(Refused::NotAnImage));
        // A PNG header claiming 100,000 × 100,000 pixels, in a few bytes.
        let mut chunk = b"IHDR".to_vec();
        chunk.extend_from_slice(&100_000u32.to_be_bytes());
        chunk.extend_from_slice(&100_000u32.to_be_bytes());
        chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut crc = flate2::Crc::new();
        crc.update(&chunk);
        let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\r".to_vec();
        bomb.extend_from_slice(&chunk);
        bomb.extend_from_slice(&crc.sum().to_be_bytes());
        assert_eq!(process(&bomb).err(), Some(Refused::TooLarge));
        // A file cut off before its pixels (the decoder fills a JPEG cut
        // later with grey, which is no harm).
        let cut = photo(300, 200);
        assert!(matches!(process(&cut[..40]), Err(Refused::Broken(_))), "{:?}", process(&cut[..40]).err());
    }

    #[test]
    fn only_variant_names_are_files_to_serve() {
        let key = "img-0123456789ab-1200x800";
        assert_eq!(variant(key, "960.jpg"), Some((960, "image/jpeg")));
        assert_eq!(variant(key, "1200.webp"), Some((1200, "image/webp")));
        for name in ["original.jpg", "2400.jpg", "960.png", "0960.jpg", "../x", "960.jpg.html", "+960.jpg"] {
            assert_eq!(variant(key, name), None, "{name}");
        }
        assert_eq!(widths(3000), [480, 960, 1600, 2400]);
        assert_eq!(widths(300), [300]);
        assert!(!is_key("img-../../etc-1x1") && !is_key("img-0123456789ab-1200") && !is_key("x"));
    }
}
