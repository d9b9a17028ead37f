//! A counting global allocator for memory tests: the peak of live heap
//! bytes, deterministic, unlike a process's RSS (bench/check-memory.sh
//! measures that on the release binary). Shared by the memory tests of
//! apprun-template and apprun-check (included by path); each test binary
//! installs it as its global allocator and uses part of what is here.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;

pub static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as the growth only: the system reallocates large blocks
        // in place (mremap), never holding both.
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Relaxed);
        }
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Starts a measure: the live bytes now, which [`peak_since`] subtracts.
pub fn start() -> usize {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    base
}

/// The peak of live bytes above `base` since [`start`] returned it.
pub fn peak_since(base: usize) -> usize {
    PEAK.load(Relaxed) - base
}

/// The size limit of a template (1 MiB).
pub const LIMIT: usize = 1024 * 1024;

/// `head`, then `item(0)`, `item(1)`, ... for as long as the text stays
/// within the limit.
pub fn fill(head: &str, item: impl Fn(usize) -> String) -> String {
    let mut text = head.to_owned();
    for i in 0.. {
        let next = item(i);
        if text.len() + next.len() > LIMIT {
            break;
        }
        text.push_str(&next);
    }
    text
}
