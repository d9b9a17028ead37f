//! Twelve-byte boxed slices and strings: what keeps [`Value`] at 16 bytes.
//!
//! A parsed template is mostly small containers and short scalars, and a
//! dense one (a long list of digits, a deep nest of one-item lists) has one
//! value for every two or three bytes of text. A `Vec` (24 bytes) or a
//! `Box<[T]>` (16) inside an enum makes every value 24 or 32 bytes, and then
//! such a file costs more than ten times its size in memory. Here the
//! length is a `u32` packed beside the pointer (4-byte alignment), so a
//! [`PackedSlice`] or a [`Str`] is 12 bytes and an enum of them, `i64`s and
//! boxes fits in 16.
//!
//! Both hold an exact-size heap block (no capacity: a slice is built whole,
//! from a `Vec`, and changed by rebuilding); a [`Str`] of up to
//! [`Str::INLINE`] bytes holds them in place of the pointer, without any
//! allocation. Lengths past `u32::MAX` cannot be represented: the template
//! readers refuse inputs long before (a template is at most 1 MiB unless
//! `--max-template-size` raises it, which it caps at 1 GiB), and building
//! one panics (as `Vec` does past `isize::MAX`).
//!
//! [`Value`]: crate::Value

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// The length of a slice or string as stored: a `u32`.
fn packed_len(len: usize) -> u32 {
    match u32::try_from(len) {
        Ok(len) => len,
        Err(_) => panic!("a template list, map or string of {len} items (at most 2^32 - 1)"),
    }
}

/// A boxed slice in 12 bytes: a `u32` length and a pointer, 4-byte aligned.
#[repr(C, packed(4))]
pub struct PackedSlice<T> {
    len: u32,
    ptr: NonNull<T>,
}

// SAFETY: a PackedSlice owns its elements exactly as a Box<[T]> does.
unsafe impl<T: Send> Send for PackedSlice<T> {}
// SAFETY: as above; shared access only hands out &T.
unsafe impl<T: Sync> Sync for PackedSlice<T> {}

impl<T> PackedSlice<T> {
    pub const fn new() -> Self {
        PackedSlice {
            len: 0,
            ptr: NonNull::dangling(),
        }
    }

    /// Takes ownership of a boxed slice's block (exact size already).
    fn from_box(items: Box<[T]>) -> Self {
        let len = packed_len(items.len());
        // A Box<[T]> of any length has a non-null, aligned pointer (dangling
        // when empty), which is what `Deref` and `Drop` give back to std.
        let ptr = NonNull::from(Box::leak(items)).cast::<T>();
        PackedSlice { len, ptr }
    }

    pub fn as_slice(&self) -> &[T] {
        self
    }

    /// The elements as a `Vec` (no copy: the block becomes the vector's).
    pub fn into_vec(self) -> Vec<T> {
        let this = std::mem::ManuallyDrop::new(self);
        let (ptr, len) = (this.ptr, this.len as usize);
        // SAFETY: ptr/len came from a Box<[T]> in `from_box` and ownership
        // moves out here (self is not dropped).
        unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr.as_ptr(), len)) }.into_vec()
    }

    /// Appends an item: the block is reallocated one item larger (in
    /// place where the allocator can), not rebuilt by a growing `Vec`.
    /// Each push may copy every item: for building a template and for
    /// small maps, not for a loop over a large list.
    pub fn push(&mut self, item: T) {
        self.update(|items| {
            items.reserve_exact(1);
            items.push(item);
        });
    }

    /// Keeps the items `keep` accepts, in order (rebuilds the block).
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.update(|items| items.retain(keep));
    }

    /// Rebuilds the slice with `change` applied to it as a `Vec` (pushes,
    /// removals): one new exact-size block.
    pub fn update<R>(&mut self, change: impl FnOnce(&mut Vec<T>) -> R) -> R {
        let mut items = std::mem::take(self).into_vec();
        let result = change(&mut items);
        *self = items.into();
        result
    }
}

impl<T> Default for PackedSlice<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for PackedSlice<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        let (ptr, len) = (self.ptr, self.len as usize);
        // SAFETY: the block holds `len` initialized elements (see from_box).
        unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) }
    }
}

impl<T> DerefMut for PackedSlice<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        let (ptr, len) = (self.ptr, self.len as usize);
        // SAFETY: as in deref, and &mut self makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), len) }
    }
}

impl<T> Drop for PackedSlice<T> {
    fn drop(&mut self) {
        let (ptr, len) = (self.ptr, self.len as usize);
        // SAFETY: the block and its elements are owned (see from_box).
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr.as_ptr(), len)) });
    }
}

impl<T> From<Vec<T>> for PackedSlice<T> {
    fn from(mut items: Vec<T>) -> Self {
        crate::map::fit(&mut items);
        Self::from_box(items.into_boxed_slice())
    }
}

impl<T> FromIterator<T> for PackedSlice<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        items.into_iter().collect::<Vec<T>>().into()
    }
}

impl<T: Clone> Clone for PackedSlice<T> {
    fn clone(&self) -> Self {
        Self::from_box(self.iter().cloned().collect())
    }
}

impl<T: PartialEq> PartialEq for PackedSlice<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for PackedSlice<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        **self == **other
    }
}

impl<T: fmt::Debug> fmt::Debug for PackedSlice<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> IntoIterator for PackedSlice<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl<'a, T> IntoIterator for &'a PackedSlice<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut PackedSlice<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

/// An immutable string in 12 bytes: up to [`Str::INLINE`] bytes in place,
/// longer ones in an exact-size heap block.
#[repr(C, packed(4))]
pub struct Str {
    len: u32,
    /// Inline: the bytes themselves (zero-padded; a pointer without
    /// provenance, never dereferenced). Heap: the block.
    ptr: *mut u8,
}

// SAFETY: a Str owns its block as a Box<str> does and never shares it.
unsafe impl Send for Str {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Str {}

impl Str {
    /// The longest string held without an allocation.
    pub const INLINE: usize = std::mem::size_of::<*mut u8>();

    pub const fn new() -> Self {
        Str {
            len: 0,
            ptr: std::ptr::null_mut(),
        }
    }

    fn is_inline(&self) -> bool {
        self.len as usize <= Self::INLINE
    }

    pub fn as_str(&self) -> &str {
        let len = self.len as usize;
        let bytes = if self.is_inline() {
            // SAFETY: the pointer field's bytes are the string's (see
            // From<&str>); u8 needs no alignment, and the field lives as
            // long as &self.
            unsafe { std::slice::from_raw_parts((&raw const self.ptr).cast::<u8>(), len) }
        } else {
            let ptr = self.ptr;
            // SAFETY: a heap Str's block holds `len` bytes (From<Box<str>>).
            unsafe { std::slice::from_raw_parts(ptr, len) }
        };
        // SAFETY: the bytes were copied or taken from a str.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// The string as an owned `String` (the heap block moves, no copy).
    pub fn into_string(self) -> String {
        if self.is_inline() {
            return self.as_str().to_owned();
        }
        let this = std::mem::ManuallyDrop::new(self);
        let (ptr, len) = (this.ptr, this.len as usize);
        // SAFETY: a heap block from Box<str> (see from_boxed), moved out.
        let boxed = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) };
        // SAFETY: the bytes came from a str.
        unsafe { String::from_utf8_unchecked(boxed.into_vec()) }
    }

    fn from_boxed(text: Box<str>) -> Self {
        if text.len() <= Self::INLINE {
            return Str::from(&*text);
        }
        let len = packed_len(text.len());
        let ptr = Box::into_raw(text).cast::<u8>();
        Str { len, ptr }
    }
}

impl Drop for Str {
    fn drop(&mut self) {
        if !self.is_inline() {
            let (ptr, len) = (self.ptr, self.len as usize);
            // SAFETY: a heap Str owns the block it took from a Box<str>.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
        }
    }
}

impl From<&str> for Str {
    fn from(text: &str) -> Self {
        if text.len() > Self::INLINE {
            return Str::from_boxed(text.into());
        }
        let mut bytes = [0u8; Self::INLINE];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Str {
            len: packed_len(text.len()),
            ptr: std::ptr::without_provenance_mut(usize::from_ne_bytes(bytes)),
        }
    }
}

impl From<String> for Str {
    fn from(text: String) -> Self {
        if text.len() <= Self::INLINE {
            return Str::from(text.as_str());
        }
        let mut text = text;
        crate::map::fit_string(&mut text);
        Str::from_boxed(text.into_boxed_str())
    }
}

impl From<&String> for Str {
    fn from(text: &String) -> Self {
        Str::from(text.as_str())
    }
}

impl From<&Str> for Str {
    fn from(text: &Str) -> Self {
        text.clone()
    }
}

impl From<Box<str>> for Str {
    fn from(text: Box<str>) -> Self {
        Str::from_boxed(text)
    }
}

impl From<char> for Str {
    fn from(c: char) -> Self {
        Str::from(c.encode_utf8(&mut [0; 4]) as &str)
    }
}

impl From<Str> for String {
    fn from(text: Str) -> Self {
        text.into_string()
    }
}

impl Default for Str {
    fn default() -> Self {
        Str::new()
    }
}

impl Clone for Str {
    fn clone(&self) -> Self {
        Str::from(self.as_str())
    }
}

impl Deref for Str {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Str> for String {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Str) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Str {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_are_twelve_bytes() {
        assert_eq!(std::mem::size_of::<Str>(), 12);
        assert_eq!(std::mem::size_of::<PackedSlice<u64>>(), 12);
    }

    #[test]
    fn strings_round_trip_inline_and_on_the_heap() {
        for text in [
            "",
            "a",
            "Type",
            "12345678",
            "123456789",
            "AWS::S3::Bucket",
            "ünïcødé ✓",
        ] {
            let s = Str::from(text);
            assert_eq!(s.as_str(), text);
            assert_eq!(s.clone(), s);
            assert_eq!(Str::from(text.to_owned()).as_str(), text);
            assert_eq!(s.into_string(), text);
        }
        assert!(Str::from("12345678").is_inline());
        assert!(!Str::from("123456789").is_inline());
    }

    #[test]
    fn slices_round_trip_and_update() {
        let mut s: PackedSlice<String> = vec!["a".to_owned(), "b".to_owned()].into();
        assert_eq!(s.len(), 2);
        s.update(|v| v.push("c".to_owned()));
        assert_eq!(&*s, ["a", "b", "c"]);
        let c = s.clone();
        assert_eq!(c, s);
        assert_eq!(s.into_vec(), ["a", "b", "c"]);
        let empty: PackedSlice<String> = Vec::new().into();
        assert!(empty.is_empty());
        assert_eq!(empty.clone().into_iter().count(), 0);
    }
}
