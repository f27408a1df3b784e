//! The allocator, tuned for a process that runs for a year.
//!
//! The kiosk makes large short-lived buffers: a document's paper image and its
//! on-screen preview are megabytes each, made on the runtime's worker threads.
//! glibc's malloc raises its mmap threshold to the largest block freed so far,
//! so after the first preview such buffers come from the heap instead of their
//! own mappings, and each thread's arena keeps the freed space. In a soak of
//! 5,000 visits that held the process at about 150 MiB of RSS for 30 MiB of live
//! heap, and it kept creeping (docs/reliability.md). A fixed threshold returns
//! every large buffer to the system when it is freed, and two arenas bound what
//! the threads keep.

/// Blocks at least this large get their own mapping, returned when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD_BYTES: libc::c_int = 256 * 1024;
/// The main arena and one shared by every other thread.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;

/// Applies the tuning; call it first in `main`, before any thread starts.
/// Returns whether the allocator took it (always `true` off glibc, where there
/// is nothing to tune).
pub fn tune_allocator() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt sets allocator parameters under the allocator's own
        // lock; it takes no pointers.
        let threshold = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) };
        // SAFETY: as above.
        let arenas = unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
        threshold == 1 && arenas == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allocator_takes_the_tuning() {
        assert!(tune_allocator());
    }
}
