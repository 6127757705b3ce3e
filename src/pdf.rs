//! Reading the text of PDFs for search, in a child process.
//!
//! A PDF from an upload or an imported bundle is untrusted, and the parser
//! (`pdf-extract`) is third-party code: a hostile file can make it loop,
//! allocate without end or overflow its stack, which no `catch_unwind`
//! survives. So the text is read by this same program started again as
//! `casefile pdf-text` (a hidden subcommand), under a limit on memory and
//! CPU time and a deadline after which it is killed. The server only ever
//! learns "here is the text" or "it could not be read".

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The most text kept per document for search.
const MAX_TEXT_CHARS: usize = 200_000;

/// How a PDF's text is read.
#[derive(Debug, Clone)]
pub enum PdfReader {
    /// By `program pdf-text`, limited (the program is Casefile itself).
    Child { program: PathBuf, limits: Limits },
    /// In this process: only for the PDFs compiled into the binary (the
    /// built-in default site), which are not untrusted.
    InProcess,
}

/// What a child reading one PDF may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Address space, in bytes.
    pub memory: u64,
    /// Wall-clock time until it is killed (its CPU time is capped too).
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { memory: 1024 * 1024 * 1024, time: Duration::from_secs(30) }
    }
}

/// Why a PDF's text could not be read; the file itself may still be fine
/// (browsers read PDFs the parser cannot).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("its text could not be read: {0}")]
    Unreadable(String),
    #[error("reading its text took longer than {0} s and was stopped")]
    TooSlow(u64),
    #[error("reading its text failed ({0}); it may need more memory than allowed")]
    Crashed(String),
    #[error("the program that reads PDFs could not be started: {0}")]
    Start(std::io::Error),
}

impl PdfReader {
    /// This program as the reader, with the default limits.
    pub fn this_program() -> PdfReader {
        match std::env::current_exe() {
            Ok(program) => PdfReader::Child { program, limits: Limits::default() },
            // Without a path to ourselves (deleted binary) nothing can be
            // started; reading fails cleanly per file.
            Err(_) => PdfReader::Child { program: PathBuf::from("/nonexistent/casefile"), limits: Limits::default() },
        }
    }

    /// The text of `bytes`, whitespace collapsed, at most
    /// [`MAX_TEXT_CHARS`] characters.
    pub fn text(&self, bytes: &[u8]) -> Result<String, ReadError> {
        match self {
            PdfReader::InProcess => extract(bytes).map_err(ReadError::Unreadable),
            PdfReader::Child { program, limits } => in_child(program, *limits, bytes),
        }
    }
}

/// The text of a PDF in this process, whitespace collapsed. A panic in the
/// parser becomes an error.
pub fn extract(bytes: &[u8]) -> Result<String, String> {
    let text = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes))
        .map_err(|_| "the parser gave up on it".to_owned())?
        .map_err(|e| e.to_string())?;
    Ok(text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_TEXT_CHARS).collect())
}

/// `casefile pdf-text OUT`: reads a PDF on standard input and writes its
/// text to `OUT` (standard output is left to the parser, which may print).
pub fn child_main(out: &Path) -> anyhow::Result<()> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes)?;
    let text = extract(&bytes).map_err(anyhow::Error::msg)?;
    std::fs::write(out, text)?;
    Ok(())
}

fn in_child(program: &Path, limits: Limits, bytes: &[u8]) -> Result<String, ReadError> {
    let dir = tempfile::tempdir().map_err(ReadError::Start)?;
    let (input, output, errors) = (dir.path().join("in.pdf"), dir.path().join("out.txt"), dir.path().join("err"));
    std::fs::write(&input, bytes).map_err(ReadError::Start)?;
    let open = |p: &Path| std::fs::File::open(p).map_err(ReadError::Start);
    let mut command = std::process::Command::new(program);
    command
        .arg("pdf-text")
        .arg(&output)
        .env_clear()
        .stdin(open(&input)?)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&errors).map_err(ReadError::Start)?);
    limit(&mut command, limits);
    let mut child = command.spawn().map_err(ReadError::Start)?;
    let deadline = Instant::now() + limits.time;
    let status = loop {
        match child.try_wait().map_err(ReadError::Start)? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ReadError::TooSlow(limits.time.as_secs().max(1)));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    if status.success() {
        let text = std::fs::read_to_string(&output).map_err(|e| ReadError::Unreadable(e.to_string()))?;
        return Ok(text.chars().take(MAX_TEXT_CHARS).collect());
    }
    let said = std::fs::read_to_string(&errors).unwrap_or_default();
    // The child's own `error: …` line, if it got as far as saying one.
    match said.lines().rev().find_map(|l| l.strip_prefix("error: ")) {
        Some(reason) => Err(ReadError::Unreadable(reason.chars().take(200).collect())),
        None => Err(ReadError::Crashed(status.to_string())),
    }
}

/// Caps the child's address space and CPU time (the deadline is the
/// backstop for a child that sleeps).
#[cfg(unix)]
fn limit(command: &mut std::process::Command, limits: Limits) {
    use std::os::unix::process::CommandExt;
    let cpu = limits.time.as_secs().max(1);
    let memory = limits.memory;
    // SAFETY: between fork and exec only setrlimit runs, which is
    // async-signal-safe; nothing is allocated or locked.
    unsafe {
        command.pre_exec(move || {
            let set = |resource, value: u64| {
                let lim = libc::rlimit { rlim_cur: value, rlim_max: value };
                if libc::setrlimit(resource, &lim) == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
            };
            set(libc::RLIMIT_AS, memory)?;
            set(libc::RLIMIT_CPU, cpu)?;
            set(libc::RLIMIT_CORE, 0)
        });
    }
}

#[cfg(not(unix))]
fn limit(_command: &mut std::process::Command, _limits: Limits) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pdf_is_an_error_not_a_panic() {
        assert!(extract(b"%PDF-1.4 but not really a pdf").is_err());
        assert!(PdfReader::InProcess.text(b"%PDF-1.4 nothing").is_err());
    }

    #[test]
    fn a_reader_that_cannot_start_says_so() {
        let reader = PdfReader::Child { program: "/nonexistent/casefile".into(), limits: Limits::default() };
        assert!(matches!(reader.text(b"%PDF-1.4"), Err(ReadError::Start(_))));
    }
}
