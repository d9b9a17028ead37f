//! apprun's global allocator: the system allocator, except that blocks of
//! at most 16 bytes come from one region of 16-byte cells.
//!
//! Why: a parsed template is a tree of 16-byte values, and a nest of
//! one-item lists (`[[[x]]]`) or short strings allocates one 16-byte block
//! per level. glibc gives every block an 8-byte header and rounds to 16
//! with 32 bytes the smallest, so each of those costs 32 bytes, twice its
//! content, and such a file took 16 times its size (issue 16 bounds
//! `apprun check` at 10). A cell here costs exactly 16 bytes.
//!
//! mimalloc, which has no per-block header either, was measured and
//! dropped: its per-size-class pages keep what a parse frees for sizes the
//! tree never asks for again, and peak memory rose 2-3x on the same inputs.
//! Here only the one size class is separate, and glibc still serves (and
//! coalesces) everything else, including the in-place `mremap` growth of
//! large vectors.
//!
//! The region is reserved once (address space, not memory: pages count
//! only once touched) and cells are handed out in order; a freed cell goes
//! on a free list threaded through the cells themselves and is reused
//! first. If the region cannot be reserved, or is used up, blocks come
//! from the system allocator as before.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The size (and alignment) of a cell.
const CELL: usize = 16;
/// Address space reserved for cells: 64 Mi cells.
const REGION: usize = 1 << 30;
/// "No cell" in the free list.
const NONE: usize = usize::MAX;

/// The allocator; see the module documentation.
pub struct SmallBlocks;

/// The region's bounds, readable without the lock (set once, under it):
/// `dealloc` and `realloc` only need to know whether a block is a cell.
static START: AtomicUsize = AtomicUsize::new(0);
static END: AtomicUsize = AtomicUsize::new(0);

static CELLS: Mutex<Cells> = Mutex::new(Cells {
    base: std::ptr::null_mut(),
    reserved: false,
    fresh: 0,
    free: NONE,
});

struct Cells {
    /// The region (null until reserved, or when reserving failed).
    base: *mut u8,
    /// Reserving was tried (it is tried once).
    reserved: bool,
    /// Offset of the first cell never handed out.
    fresh: usize,
    /// Offset of the first freed cell; each free cell holds the next one's.
    free: usize,
}

// SAFETY: `base` is the region's address, only used under the mutex.
unsafe impl Send for Cells {}

impl Cells {
    fn reserve(&mut self) {
        self.reserved = true;
        // SAFETY: an anonymous private mapping at an address of the
        // kernel's choice; MAP_NORESERVE: no memory is committed until a
        // page is touched.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                REGION,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return;
        }
        self.base = base.cast::<u8>();
        START.store(self.base.addr(), Ordering::Release);
        END.store(self.base.addr() + REGION, Ordering::Release);
    }

    /// A cell, or null when there is no region or it is used up.
    fn take(&mut self) -> *mut u8 {
        if !self.reserved {
            self.reserve();
        }
        if self.base.is_null() {
            return std::ptr::null_mut();
        }
        if self.free != NONE {
            // SAFETY: `free` is the offset of a cell in the region, which
            // holds the offset of the next free cell (see `give_back`).
            let cell = unsafe { self.base.add(self.free) };
            self.free = unsafe { cell.cast::<usize>().read() };
            return cell;
        }
        if self.fresh + CELL > REGION {
            return std::ptr::null_mut();
        }
        // SAFETY: within the region (checked above).
        let cell = unsafe { self.base.add(self.fresh) };
        self.fresh += CELL;
        cell
    }

    /// Puts a cell on the free list.
    fn give_back(&mut self, cell: *mut u8) {
        // SAFETY: `cell` is a cell of the region (the caller checked) that
        // its owner freed: its first word is free to hold the list link.
        unsafe { cell.cast::<usize>().write(self.free) };
        self.free = cell.addr() - self.base.addr();
    }
}

fn cells() -> std::sync::MutexGuard<'static, Cells> {
    // Nothing in the critical sections can panic; a poisoned lock still
    // holds consistent state.
    CELLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn fits_a_cell(layout: Layout) -> bool {
    layout.size() <= CELL && layout.align() <= CELL
}

fn is_cell(ptr: *mut u8) -> bool {
    let addr = ptr.addr();
    addr >= START.load(Ordering::Acquire) && addr < END.load(Ordering::Acquire)
}

// SAFETY: every block handed out is either a whole 16-byte, 16-aligned
// cell of the region (for layouts that fit one) or a block of the system
// allocator with the layout asked for; each is released the way it was
// made (`is_cell` tells them apart), and a cell is never handed out twice
// before it is freed.
unsafe impl GlobalAlloc for SmallBlocks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if fits_a_cell(layout) && layout.size() > 0 {
            let cell = cells().take();
            if !cell.is_null() {
                return cell;
            }
        }
        // SAFETY: the caller's layout, as GlobalAlloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if fits_a_cell(layout) && layout.size() > 0 {
            let cell = cells().take();
            if !cell.is_null() {
                // SAFETY: a whole cell, ours until freed.
                unsafe { cell.write_bytes(0, CELL) };
                return cell;
            }
        }
        // SAFETY: as in alloc.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_cell(ptr) {
            cells().give_back(ptr);
        } else {
            // SAFETY: not a cell, so the system allocator made it.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees a valid layout for the new size.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let from_cell = is_cell(ptr);
        if from_cell && fits_a_cell(new_layout) {
            // The cell holds 16 bytes whatever was asked.
            return ptr;
        }
        if !from_cell && !fits_a_cell(new_layout) {
            // Large to large: glibc grows in place where it can (mremap
            // for mapped blocks), which a copy would lose.
            // SAFETY: the system allocator made ptr with `layout`.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // Between a cell and a system block: move.
        // SAFETY: new_layout is valid (see above).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks hold at least this many bytes and are
            // distinct (one is a cell, the other is not, or a fresh one).
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            // SAFETY: ptr was made for `layout` and is released once.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).expect("valid test layout")
    }

    #[test]
    fn small_blocks_are_cells_and_are_reused() {
        let a = SmallBlocks;
        // SAFETY: each block is used within its layout and freed once.
        unsafe {
            let p = a.alloc(layout(16, 8));
            let q = a.alloc(layout(3, 1));
            assert!(is_cell(p) && is_cell(q), "16- and 3-byte blocks are cells");
            assert_eq!(p.addr() % CELL, 0);
            p.write_bytes(0xAB, 16);
            q.write_bytes(0xCD, 3);
            assert_eq!(
                *p.add(15),
                0xAB,
                "a neighbour's write does not reach a cell"
            );
            a.dealloc(p, layout(16, 8));
            // The free list hands the freed cell out again (other test
            // threads may take it first: then at least it is a cell).
            let r = a.alloc(layout(8, 8));
            assert!(is_cell(r));
            a.dealloc(r, layout(8, 8));
            a.dealloc(q, layout(3, 1));
            let big = a.alloc(layout(17, 8));
            assert!(!is_cell(big), "17 bytes come from the system allocator");
            a.dealloc(big, layout(17, 8));
            let aligned = a.alloc(layout(16, 32));
            assert!(!is_cell(aligned), "an alignment past 16 is not a cell");
            assert_eq!(aligned.addr() % 32, 0);
            a.dealloc(aligned, layout(16, 32));
        }
    }

    #[test]
    fn realloc_moves_between_cells_and_system_blocks_keeping_bytes() {
        let a = SmallBlocks;
        // SAFETY: as above; each realloc result replaces its input.
        unsafe {
            let p = a.alloc(layout(12, 4));
            for i in 0..12 {
                p.add(i).write(i as u8);
            }
            let p = a.realloc(p, layout(12, 4), 16);
            assert!(is_cell(p), "growing within a cell stays in place");
            let p = a.realloc(p, layout(16, 4), 100);
            assert!(!is_cell(p));
            assert!(
                (0..12).all(|i| *p.add(i) == i as u8),
                "bytes kept when moved out"
            );
            let p = a.realloc(p, layout(100, 4), 4000);
            assert!((0..12).all(|i| *p.add(i) == i as u8));
            let p = a.realloc(p, layout(4000, 4), 10);
            assert!(is_cell(p), "shrinking to 10 bytes moves into a cell");
            assert!(
                (0..10).all(|i| *p.add(i) == i as u8),
                "bytes kept when moved in"
            );
            a.dealloc(p, layout(10, 4));
            let z = a.alloc_zeroed(layout(16, 16));
            assert!((0..16).all(|i| *z.add(i) == 0));
            a.dealloc(z, layout(16, 16));
        }
    }

    #[test]
    fn threads_never_share_a_cell() {
        // Each thread fills its cells with its own byte and checks them
        // after the others ran: a cell handed out twice would show a
        // foreign byte.
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                std::thread::spawn(move || {
                    let a = SmallBlocks;
                    let l = layout(16, 8);
                    let mut mine = Vec::new();
                    for round in 0..2000 {
                        // SAFETY: blocks used within the layout, freed once.
                        unsafe {
                            let p = a.alloc(l);
                            p.write_bytes(t, 16);
                            mine.push(p.addr());
                            if round % 3 == 0 {
                                let old = mine.swap_remove(0);
                                let old = p.with_addr(old);
                                assert!((0..16).all(|i| *old.add(i) == t));
                                a.dealloc(old, l);
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in threads {
            all.extend(t.join().expect("thread ran"));
        }
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "no cell was live in two places at once");
    }
}
