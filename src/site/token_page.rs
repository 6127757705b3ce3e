//! A cached form page with a hole for the per-request form token.
//!
//! Form pages carry a signed token that is new on every request, so they
//! cannot be cached whole. Instead the page is rendered once with a marker
//! where the token goes and kept as the parts around it. A request joins the
//! parts with its token. For gzip each part is kept compressed as raw
//! deflate that ends on a byte boundary (a sync flush), so the compressed
//! answer is the parts with the token between them as a stored block, a
//! final empty block and the gzip trailer (RFC 1951, 3.2.4; RFC 1952): a
//! copy and a CRC, no compression on the request path.

use std::io::Write;
use std::sync::OnceLock;

use bytes::Bytes;

/// A page rendered with [`marker`] where the token goes, kept in parts.
pub struct TokenBody {
    /// The page's bytes between the tokens.
    parts: Vec<Bytes>,
    /// Each part as raw deflate, flushed to a byte boundary.
    deflated: Vec<Bytes>,
    /// The Content-Type header value.
    pub content_type: &'static str,
}

/// What stands for the token while a page renders: random per process, so
/// no content can contain it by chance or on purpose.
pub fn marker() -> &'static str {
    static MARKER: OnceLock<String> = OnceLock::new();
    MARKER.get_or_init(|| format!("cf-token-{}", crate::ids::nonce()))
}

/// The gzip header: deflate, no name, no time, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// A final, empty stored block: ends the deflate stream.
const FINAL_BLOCK: [u8; 5] = [1, 0, 0, 0xff, 0xff];

impl TokenBody {
    /// Splits `html` at every [`marker`] and compresses the parts.
    pub fn new(html: &str, content_type: &'static str) -> TokenBody {
        let parts: Vec<Bytes> = html.split(marker()).map(|p| Bytes::copy_from_slice(p.as_bytes())).collect();
        let deflated = parts.iter().map(|p| Bytes::from(deflate_flushed(p))).collect();
        TokenBody { parts, deflated, content_type }
    }

    /// The page with `token` in place, uncompressed.
    pub fn identity(&self, token: &str) -> Bytes {
        let len = self.parts.iter().map(Bytes::len).sum::<usize>() + token.len() * (self.parts.len() - 1);
        let mut out = Vec::with_capacity(len);
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(token.as_bytes());
            }
            out.extend_from_slice(part);
        }
        out.into()
    }

    /// The page with `token` in place, as gzip.
    pub fn gzip(&self, token: &str) -> Bytes {
        let len = self.deflated.iter().map(Bytes::len).sum::<usize>() + (token.len() + 5) * self.parts.len() + 32;
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&GZIP_HEADER);
        let mut crc = flate2::Crc::new();
        for (i, (part, deflated)) in self.parts.iter().zip(&self.deflated).enumerate() {
            if i > 0 {
                stored_blocks(&mut out, token.as_bytes());
                crc.update(token.as_bytes());
            }
            out.extend_from_slice(deflated);
            crc.update(part);
        }
        out.extend_from_slice(&FINAL_BLOCK);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&crc.amount().to_le_bytes());
        out.into()
    }
}

/// `data` as raw deflate blocks, none final, ending on a byte boundary.
fn deflate_flushed(data: &[u8]) -> Vec<u8> {
    let mut e =
        flate2::write::DeflateEncoder::new(Vec::with_capacity(data.len() / 3 + 16), flate2::Compression::new(9));
    e.write_all(data).expect("writing to a Vec cannot fail");
    // `flush` is a sync flush: what was written is out, byte-aligned, and
    // the stream is not finished. The encoder's own final block, written
    // when it drops, goes into the emptied Vec and is discarded.
    e.flush().expect("writing to a Vec cannot fail");
    std::mem::take(e.get_mut())
}

/// `data` as uncompressed (stored) deflate blocks, none final.
fn stored_blocks(out: &mut Vec<u8>, data: &[u8]) {
    for chunk in data.chunks(usize::from(u16::MAX)) {
        let len = chunk.len() as u16;
        out.push(0);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> String {
        let mut s = String::new();
        flate2::read::GzDecoder::new(bytes).read_to_string(&mut s).expect("valid gzip");
        s
    }

    #[test]
    fn the_token_goes_wherever_the_marker_was() {
        let m = marker();
        let page = "<p>lorem ipsum </p>".repeat(200);
        for html in [
            format!("<form><input value=\"{m}\">{page}</form>"),
            format!("{m}{page}{m}"),
            format!("{page}<a>{m}</a><b>{m}</b>"),
            page.clone(),
            String::new(),
        ] {
            let body = TokenBody::new(&html, "text/html");
            for token in ["1700000000000.abc", "", &"t".repeat(70_000)] {
                let want = html.replace(m, token);
                assert_eq!(body.identity(token), want.as_bytes());
                assert_eq!(gunzip(&body.gzip(token)), want, "gzip with a {}-byte token", token.len());
            }
        }
    }

    #[test]
    fn the_compressed_page_is_much_smaller() {
        let html = format!("{}<input value=\"{}\">", "<p>the same paragraph again</p>\n".repeat(500), marker());
        let body = TokenBody::new(&html, "text/html");
        assert!(body.gzip("token").len() * 10 < html.len());
    }

    #[test]
    fn markers_are_unlikely_to_be_guessed() {
        assert!(marker().len() > 20);
        assert_eq!(marker(), marker(), "one per process");
    }
}
