//! apprun's global allocator: the system allocator, except that blocks of
//! at most 48 bytes come from one region of cells of 16, 32 or 48 bytes.
//!
//! Why: a parsed template is a tree of 16-byte values, and a nest of
//! one-item lists (`[[[x]]]`) or short strings allocates one 16-byte block
//! per level, a short function (`!Ref x`) one 32-byte block. glibc gives
//! every block an 8-byte header and rounds to 16, with 32 bytes the
//! smallest, so those cost 32 and 48 bytes, and such files took 12 to 16
//! times their size (issue 16 bounds `apprun check` at 10). A cell costs
//! exactly its size.
//!
//! mimalloc, which has no per-block header either, was measured and
//! dropped: its per-size-class pages keep what a parse frees for sizes the
//! tree never asks for again, and peak memory rose 2-3x on the same inputs.
//! Here only the three smallest classes are separate, and glibc still
//! serves (and coalesces) everything else, including the in-place `mremap`
//! growth of large vectors.
//!
//! The region is reserved once (address space, not memory: pages count
//! only once touched) and cells of every size are handed out in order from
//! it; a freed cell goes on its size's free list, threaded through the
//! cells themselves, and is reused first. If the region cannot be reserved, or is used up, blocks come
//! from the system allocator as before.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The alignment of every cell, and the size step between classes.
const CELL: usize = 16;
/// The sizes of cells: 16, 32 and 48 bytes.
const CLASSES: usize = 3;
/// The largest block served as a cell.
const LARGEST: usize = CELL * CLASSES;
/// Address space reserved for cells (1 GiB).
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
    free: [NONE; CLASSES],
});

struct Cells {
    /// The region (null until reserved, or when reserving failed).
    base: *mut u8,
    /// Reserving was tried (it is tried once).
    reserved: bool,
    /// Offset of the first cell never handed out.
    fresh: usize,
    /// Per class, the offset of the first freed cell; each free cell
    /// holds the next one's.
    free: [usize; CLASSES],
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

    /// A cell of class `class`, or null when there is no region or it is
    /// used up.
    fn take(&mut self, class: usize) -> *mut u8 {
        if !self.reserved {
            self.reserve();
        }
        if self.base.is_null() {
            return std::ptr::null_mut();
        }
        if self.free[class] != NONE {
            // SAFETY: `free` is the offset of a cell in the region, which
            // holds the offset of the next free cell (see `give_back`).
            let cell = unsafe { self.base.add(self.free[class]) };
            self.free[class] = unsafe { cell.cast::<usize>().read() };
            return cell;
        }
        let size = size_of_class(class);
        if self.fresh + size > REGION {
            return std::ptr::null_mut();
        }
        // SAFETY: within the region (checked above).
        let cell = unsafe { self.base.add(self.fresh) };
        self.fresh += size;
        cell
    }

    /// Puts a cell of class `class` on its free list.
    fn give_back(&mut self, cell: *mut u8, class: usize) {
        // SAFETY: `cell` is a cell of the region (the caller checked) that
        // its owner freed: its first word is free to hold the list link.
        unsafe { cell.cast::<usize>().write(self.free[class]) };
        self.free[class] = cell.addr() - self.base.addr();
    }
}

fn cells() -> std::sync::MutexGuard<'static, Cells> {
    // Nothing in the critical sections can panic; a poisoned lock still
    // holds consistent state.
    CELLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The class of a block that fits a cell (none for larger sizes, larger
/// alignments and zero sizes).
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (size > 0 && size <= LARGEST && layout.align() <= CELL).then(|| (size - 1) / CELL)
}

fn size_of_class(class: usize) -> usize {
    (class + 1) * CELL
}

fn is_cell(ptr: *mut u8) -> bool {
    let addr = ptr.addr();
    addr >= START.load(Ordering::Acquire) && addr < END.load(Ordering::Acquire)
}

// SAFETY: every block handed out is either a whole 16-aligned cell of the
// region, of the smallest class its layout fits, or a block of the system
// allocator with the layout asked for; each is released the way it was
// made (`is_cell` tells them apart, and the layout given back names the
// same class), and a cell is never handed out twice before it is freed.
unsafe impl GlobalAlloc for SmallBlocks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some(class) = class_of(layout) {
            let cell = cells().take(class);
            if !cell.is_null() {
                return cell;
            }
        }
        // SAFETY: the caller's layout, as GlobalAlloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if let Some(class) = class_of(layout) {
            let cell = cells().take(class);
            if !cell.is_null() {
                // SAFETY: a whole cell, ours until freed.
                unsafe { cell.write_bytes(0, size_of_class(class)) };
                return cell;
            }
        }
        // SAFETY: as in alloc.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class_of(layout) {
            // A cell was made for this layout's class (or the system
            // allocator, when the region was used up: is_cell tells).
            Some(class) if is_cell(ptr) => cells().give_back(ptr, class),
            _ => {
                // SAFETY: not a cell, so the system allocator made it.
                unsafe { System.dealloc(ptr, layout) }
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees a valid layout for the new size.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let (old_class, new_class) = (class_of(layout), class_of(new_layout));
        let from_cell = old_class.is_some() && is_cell(ptr);
        if from_cell && old_class == new_class {
            // The cell holds its class's size whatever was asked.
            return ptr;
        }
        if !from_cell && new_class.is_none() {
            // Large to large: glibc grows in place where it can (mremap
            // for mapped blocks), which a copy would lose.
            // SAFETY: the system allocator made ptr with `layout`.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // To another class, or between a cell and a system block: move.
        // SAFETY: new_layout is valid (see above).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks hold at least this many bytes and are
            // distinct (the old one is still allocated).
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
            // 17 to 48 bytes: the two larger classes, cells that do not
            // overlap.
            let m = a.alloc(layout(17, 8));
            let l = a.alloc(layout(48, 16));
            assert!(is_cell(m) && is_cell(l));
            m.write_bytes(1, 32);
            l.write_bytes(2, 48);
            assert!(
                (0..32).all(|i| *m.add(i) == 1),
                "a 32-byte cell keeps its bytes"
            );
            a.dealloc(m, layout(17, 8));
            a.dealloc(l, layout(48, 16));
            let big = a.alloc(layout(49, 8));
            assert!(!is_cell(big), "49 bytes come from the system allocator");
            a.dealloc(big, layout(49, 8));
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
            let same = a.realloc(p, layout(12, 4), 16);
            assert_eq!(same, p, "growing within a cell's size stays in place");
            let p = a.realloc(same, layout(16, 4), 40);
            assert!(is_cell(p) && p != same, "to the 48-byte class: moved");
            assert!(
                (0..12).all(|i| *p.add(i) == i as u8),
                "bytes kept between classes"
            );
            let p = a.realloc(p, layout(40, 4), 100);
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
