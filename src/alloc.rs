//! The allocator's habits, on Linux with glibc: it keeps a malloc arena per
//! thread (up to eight per core) and keeps what threads free inside the
//! heap resident. Loading a snapshot and building a search index allocate
//! and free hundreds of megabytes on a large site, so both habits are
//! corrected here (BENCHMARKS.md has the measurements). Elsewhere these do
//! nothing.

/// Two arenas: no slower here, and far less memory kept after rebuilds on
/// the blocking pool. `MALLOC_ARENA_MAX` in the environment wins. Call it
/// in `main` before any other thread exists (not for `casefile export`,
/// which exits when done and gains from an arena per thread).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn limit_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a parameter of the allocator; the caller
        // runs it before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// Gives the pages that are free inside the heap back to the system, after
/// a snapshot or search index was built and the previous one dropped.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_memory() {
    // SAFETY: malloc_trim is thread-safe and only returns free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_arenas() {}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}
