//! apprun's global allocator: the system allocator, except that blocks of
//! at most 48 bytes come from reserved chunks of cells of 16, 32 or 48 bytes.
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
//! Cells come from chunks of 64 MiB of address space, reserved one at a
//! time as they fill (address space, not memory: pages count only once
//! touched; one chunk serves a 1 MiB template many times over), and are
//! handed out in order; a freed cell goes on its size's free list, threaded
//! through the cells themselves, and is reused first. When a chunk cannot
//! be reserved (`ulimit -v`, strict overcommit) or sixteen are used, blocks
//! come from the system allocator as before.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The alignment of every cell, and the size step between classes.
const CELL: usize = 16;
/// The sizes of cells: 16, 32 and 48 bytes.
const CLASSES: usize = 3;
/// The largest block served as a cell.
const LARGEST: usize = CELL * CLASSES;
/// Address space reserved at a time: one chunk of cells (64 MiB, four
/// million 16-byte cells), another when it is used up.
const CHUNK: usize = 64 << 20;
/// At most this many chunks (1 GiB in all); past them, the system allocator.
const CHUNKS: usize = 16;
/// "No cell" in the free list.
const NONE: usize = usize::MAX;

/// The allocator; see the module documentation.
pub struct SmallBlocks;

/// The chunks' start addresses (0 for none yet), readable without the lock
/// (each set once, under it): `dealloc` and `realloc` only need to know
/// whether a block is a cell.
static STARTS: [AtomicUsize; CHUNKS] = [const { AtomicUsize::new(0) }; CHUNKS];

static CELLS: Mutex<Cells> = Mutex::new(Cells {
    chunks: [std::ptr::null_mut(); CHUNKS],
    reserved: 0,
    exhausted: false,
    fresh: CHUNK,
    free: [NONE; CLASSES],
});

/// A cell's place: its chunk times [`CHUNK`] plus its offset in the chunk.
type Place = usize;

struct Cells {
    /// The chunks reserved so far (the first `reserved`).
    chunks: [*mut u8; CHUNKS],
    reserved: usize,
    /// A reservation failed, or every chunk is used: no more are tried.
    exhausted: bool,
    /// Offset of the first cell never handed out in the last chunk.
    fresh: usize,
    /// Per class, the place of the first freed cell; each free cell holds
    /// the next one's.
    free: [Place; CLASSES],
}

// SAFETY: the chunk pointers are only used under the mutex.
unsafe impl Send for Cells {}

impl Cells {
    /// Reserves one more chunk; false when it cannot (address space
    /// limited by `ulimit -v`, or strict overcommit): the system allocator
    /// then serves every small block from here on.
    fn reserve(&mut self) -> bool {
        if self.exhausted || self.reserved == CHUNKS {
            self.exhausted = true;
            return false;
        }
        // SAFETY: an anonymous private mapping at an address of the
        // kernel's choice; MAP_NORESERVE: no memory is committed until a
        // page is touched.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                CHUNK,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            self.exhausted = true;
            return false;
        }
        self.chunks[self.reserved] = base.cast::<u8>();
        STARTS[self.reserved].store(base.addr(), Ordering::Release);
        self.reserved += 1;
        self.fresh = 0;
        true
    }

    fn at(&self, place: Place) -> *mut u8 {
        // SAFETY: a place names a reserved chunk and an offset within it.
        unsafe { self.chunks[place / CHUNK].add(place % CHUNK) }
    }

    /// A cell of class `class`, or null when no chunk can be had.
    fn take(&mut self, class: usize) -> *mut u8 {
        if self.free[class] != NONE {
            let cell = self.at(self.free[class]);
            // SAFETY: a free cell holds the place of the next free cell
            // (see `give_back`).
            self.free[class] = unsafe { cell.cast::<Place>().read() };
            return cell;
        }
        let size = size_of_class(class);
        if self.fresh + size > CHUNK && !self.reserve() {
            return std::ptr::null_mut();
        }
        let cell = self.at((self.reserved - 1) * CHUNK + self.fresh);
        self.fresh += size;
        cell
    }

    /// Puts a cell of class `class`, in chunk `chunk`, on its free list.
    fn give_back(&mut self, cell: *mut u8, chunk: usize, class: usize) {
        // SAFETY: `cell` is a cell of a chunk that its owner freed: its
        // first word is free to hold the list link.
        unsafe { cell.cast::<Place>().write(self.free[class]) };
        self.free[class] = chunk * CHUNK + (cell.addr() - self.chunks[chunk].addr());
    }
}

/// The chunk a block lies in, when it is a cell.
fn chunk_of(ptr: *mut u8) -> Option<usize> {
    let addr = ptr.addr();
    STARTS.iter().position(|start| {
        let start = start.load(Ordering::Acquire);
        start != 0 && addr >= start && addr < start + CHUNK
    })
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
    chunk_of(ptr).is_some()
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
            Some(class) if let Some(chunk) = chunk_of(ptr) => cells().give_back(ptr, chunk, class),
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
    fn cells_go_on_in_a_further_chunk() {
        // More 48-byte cells than one chunk holds (handed out without being
        // touched, so this costs address space, not memory): the later ones
        // come from a second chunk and are cells all the same.
        let a = SmallBlocks;
        let l = layout(48, 16);
        let n = CHUNK / 48 + 10;
        // SAFETY: blocks freed once, with their layout, never written.
        unsafe {
            let blocks: Vec<*mut u8> = (0..n).map(|_| a.alloc(l)).collect();
            let chunks: std::collections::BTreeSet<usize> = blocks
                .iter()
                .map(|&b| chunk_of(b).expect("a cell"))
                .collect();
            assert!(chunks.len() >= 2, "{chunks:?}");
            for b in blocks {
                a.dealloc(b, l);
            }
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
