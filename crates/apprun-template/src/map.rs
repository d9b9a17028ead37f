//! An ordered map of template values, compact for the small maps templates
//! are made of.
//!
//! Most mappings in a template have a handful of keys (a resource's `Type`
//! and `Properties`, a tag's `Key` and `Value`, a function call's single
//! key): for those a hash table costs more than the entries themselves,
//! and a linear search over a few keys is as fast as hashing one. So a map
//! of up to [`SMALL`] entries is just its entries, in one exact-size
//! allocation; a larger one adds a hash index over them (keyed SipHash, as
//! std's `HashMap`: a template crafted to collide keys cannot make inserts
//! quadratic). The map is 16 bytes, which keeps [`Value`] at 16.
//!
//! The API is the part of `indexmap::IndexMap` templates use, with the same
//! meaning: insertion order kept, `insert` of an existing key replaces its
//! value in place, `shift_remove` keeps the order of the rest, and equality
//! ignores order.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

use crate::packed::{PackedSlice, Str};
use crate::value::Value;

/// Entries up to which a map has no hash index.
pub const SMALL: usize = 8;

/// Keys are [`Str`]s: the short keys of templates (`Type`, `Key`) are held
/// inline, without an allocation each.
type Entry = (Str, Value);

/// An ordered map from keys to values; see the module documentation.
#[derive(Clone, Default)]
pub struct Map {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// Exact size: an insert rebuilds the block (at most [`SMALL`] entries).
    Small(PackedSlice<Entry>),
    Large(Box<Large>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Small(PackedSlice::new())
    }
}

/// The entries of a large map and an index of their positions by key.
///
/// Positions are `u32`s: five bytes a slot with the table's control byte,
/// not nine (a flow mapping of three-letter keys without values,
/// `{abc, abd, ...}`, has an entry every four bytes, and its index took a
/// third of its room). A map cannot have 2^32 entries: the readers' size
/// limit (at most 1 GiB) keeps it far below, and a packed length would
/// refuse one first (see packed.rs).
#[derive(Clone)]
struct Large {
    entries: Vec<Entry>,
    index: HashTable<u32>,
    hasher: RandomState,
}

/// A position in the index.
fn slot(i: usize) -> u32 {
    match u32::try_from(i) {
        Ok(i) => i,
        Err(_) => panic!("a template map of over 2^32 entries"),
    }
}

impl Large {
    fn new(entries: Vec<Entry>) -> Self {
        let mut large = Large {
            entries,
            index: HashTable::new(),
            hasher: RandomState::new(),
        };
        large.reindex();
        large
    }

    /// Rebuilds the index from the entries (after a removal shifts them).
    fn reindex(&mut self) {
        let Large {
            entries,
            index,
            hasher,
        } = self;
        index.clear();
        index.reserve(entries.len(), |&i| {
            hasher.hash_one(entries[i as usize].0.as_str())
        });
        for (i, (key, _)) in entries.iter().enumerate() {
            let hash = hasher.hash_one(key.as_str());
            index.insert_unique(hash, slot(i), |&j| {
                hasher.hash_one(entries[j as usize].0.as_str())
            });
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(key);
        self.index
            .find(hash, |&i| self.entries[i as usize].0 == key)
            .map(|&i| i as usize)
    }

    /// Appends an entry whose key is not in the map.
    fn push(&mut self, key: Str, value: Value) {
        let Large {
            entries,
            index,
            hasher,
        } = self;
        let hash = hasher.hash_one(key.as_str());
        index.insert_unique(hash, slot(entries.len()), |&j| {
            hasher.hash_one(entries[j as usize].0.as_str())
        });
        entries.push((key, value));
    }
}

impl Map {
    pub const fn new() -> Self {
        Map {
            repr: Repr::Small(PackedSlice::new()),
        }
    }

    /// The entries in order.
    fn entries(&self) -> &[Entry] {
        match &self.repr {
            Repr::Small(entries) => entries,
            Repr::Large(large) => &large.entries,
        }
    }

    fn entries_mut(&mut self) -> &mut [Entry] {
        match &mut self.repr {
            Repr::Small(entries) => entries,
            Repr::Large(large) => &mut large.entries,
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        match &self.repr {
            Repr::Small(entries) => entries.iter().position(|(k, _)| k == key),
            Repr::Large(large) => large.position(key),
        }
    }

    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    pub fn get<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> Option<&Value> {
        self.position(key.as_ref()).map(|i| &self.entries()[i].1)
    }

    pub fn get_mut<Q: AsRef<str> + ?Sized>(&mut self, key: &Q) -> Option<&mut Value> {
        let i = self.position(key.as_ref())?;
        Some(&mut self.entries_mut()[i].1)
    }

    pub fn get_key_value<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> Option<(&Str, &Value)> {
        self.position(key.as_ref()).map(|i| {
            let (k, v) = &self.entries()[i];
            (k, v)
        })
    }

    pub fn contains_key<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> bool {
        self.position(key.as_ref()).is_some()
    }

    /// Sets a key's value: an existing key keeps its place and its old
    /// value is returned; a new key goes last.
    pub fn insert(&mut self, key: Str, value: Value) -> Option<Value> {
        if let Some(i) = self.position(key.as_str()) {
            return Some(std::mem::replace(&mut self.entries_mut()[i].1, value));
        }
        self.push(key, value);
        None
    }

    /// Appends an entry whose key is not in the map; a small map that
    /// outgrows [`SMALL`] gets its index here.
    fn push(&mut self, key: Str, value: Value) -> usize {
        match &mut self.repr {
            Repr::Small(entries) if entries.len() < SMALL => {
                entries.update(|e| e.push((key, value)))
            }
            Repr::Small(entries) => {
                let mut large = Large::new(std::mem::take(entries).into_vec());
                large.push(key, value);
                self.repr = Repr::Large(Box::new(large));
            }
            Repr::Large(large) => large.push(key, value),
        }
        self.len() - 1
    }

    /// Removes a key, keeping the order of the other entries.
    pub fn shift_remove<Q: AsRef<str> + ?Sized>(&mut self, key: &Q) -> Option<Value> {
        let i = self.position(key.as_ref())?;
        let (_, value) = match &mut self.repr {
            Repr::Small(entries) => entries.update(|e| e.remove(i)),
            Repr::Large(large) => {
                let removed = large.entries.remove(i);
                large.reindex();
                removed
            }
        };
        Some(value)
    }

    /// Keeps the entries `keep` accepts, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Str, &mut Value) -> bool) {
        match &mut self.repr {
            Repr::Small(entries) => entries.update(|e| e.retain_mut(|(k, v)| keep(k, v))),
            Repr::Large(large) => {
                large.entries.retain_mut(|(k, v)| keep(k, v));
                large.reindex();
            }
        }
    }

    /// The entry of a key, to read or fill in place.
    pub fn entry(&mut self, key: Str) -> MapEntry<'_> {
        match self.position(key.as_str()) {
            Some(at) => MapEntry::Occupied(Occupied { map: self, at }),
            None => MapEntry::Vacant(Vacant { map: self, key }),
        }
    }

    pub fn first(&self) -> Option<(&Str, &Value)> {
        self.entries().first().map(|(k, v)| (k, v))
    }

    pub fn last(&self) -> Option<(&Str, &Value)> {
        self.entries().last().map(|(k, v)| (k, v))
    }

    pub fn iter(&self) -> Iter<'_> {
        self.entries().iter().map(pair)
    }

    pub fn iter_mut(&mut self) -> IterMut<'_> {
        self.entries_mut().iter_mut().map(pair_mut)
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Str> + ExactSizeIterator + Clone {
        self.entries().iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.entries().iter().map(|(_, v)| v)
    }

    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.entries_mut().iter_mut().map(|(_, v)| v)
    }

    /// Gives back the room growth left (a parsed tree of small maps would
    /// otherwise be mostly room).
    pub fn shrink_to_fit(&mut self) {
        match &mut self.repr {
            // Exact size already.
            Repr::Small(_) => {}
            Repr::Large(large) => {
                let Large {
                    entries,
                    index,
                    hasher,
                } = &mut **large;
                fit(entries);
                index.shrink_to_fit(|&i| hasher.hash_one(entries[i as usize].0.as_str()));
            }
        }
    }
}

/// Gives back the room a vector's growth left. A small one is moved into
/// an allocation of its exact size rather than shrunk in place: glibc's
/// in-place shrink keeps the block's tail as a free fragment, too small for
/// the next container's growth, and a tree of small containers read one
/// after another then left a hole beside each (peak RSS at three times the
/// live heap for nested one-item lists). Freed whole, the block is reused
/// by the next container's growth. A large one (mapped memory) shrinks in
/// place, where nothing stays behind.
pub(crate) fn fit<T>(items: &mut Vec<T>) {
    const COPIED_UP_TO: usize = 64 * 1024;
    if items.capacity() == items.len() {
        return;
    }
    if items.len() * std::mem::size_of::<T>() > COPIED_UP_TO {
        items.shrink_to_fit();
        return;
    }
    let mut exact = Vec::with_capacity(items.len());
    exact.append(items);
    *items = exact;
}

/// [`fit`] for a string's bytes.
pub(crate) fn fit_string(text: &mut String) {
    if text.capacity() != text.len() {
        let mut bytes = std::mem::take(text).into_bytes();
        fit(&mut bytes);
        // The same bytes, moved: still UTF-8 (the fallback never runs).
        *text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    }
}

type Iter<'a> = std::iter::Map<std::slice::Iter<'a, Entry>, fn(&'a Entry) -> (&'a Str, &'a Value)>;
type IterMut<'a> =
    std::iter::Map<std::slice::IterMut<'a, Entry>, fn(&'a mut Entry) -> (&'a Str, &'a mut Value)>;

fn pair(entry: &Entry) -> (&Str, &Value) {
    (&entry.0, &entry.1)
}

fn pair_mut(entry: &mut Entry) -> (&Str, &mut Value) {
    (&entry.0, &mut entry.1)
}

/// A key's place in a map, from [`Map::entry`].
pub enum MapEntry<'m> {
    Occupied(Occupied<'m>),
    Vacant(Vacant<'m>),
}

pub struct Occupied<'m> {
    map: &'m mut Map,
    at: usize,
}

pub struct Vacant<'m> {
    map: &'m mut Map,
    key: Str,
}

impl<'m> MapEntry<'m> {
    pub fn or_insert(self, value: Value) -> &'m mut Value {
        self.or_insert_with(|| value)
    }

    pub fn or_default(self) -> &'m mut Value {
        self.or_insert_with(|| Value::Null)
    }

    pub fn or_insert_with(self, make: impl FnOnce() -> Value) -> &'m mut Value {
        self.or_insert_with_key(|_| make())
    }

    pub fn or_insert_with_key(self, make: impl FnOnce(&Str) -> Value) -> &'m mut Value {
        let (map, at) = match self {
            MapEntry::Occupied(Occupied { map, at }) => (map, at),
            MapEntry::Vacant(Vacant { map, key }) => {
                let value = make(&key);
                let at = map.push(key, value);
                (map, at)
            }
        };
        &mut map.entries_mut()[at].1
    }
}

impl PartialEq for Map {
    /// Same keys with equal values, in any order (as `IndexMap`).
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k.as_str()) == Some(v))
    }
}

impl std::fmt::Debug for Map {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for Map {
    type Output = Value;

    /// The value of a key that must be there (panics otherwise, as
    /// `IndexMap`'s indexing): for tests and for keys just inserted.
    fn index(&self, key: &str) -> &Value {
        match self.get(key) {
            Some(v) => v,
            None => panic!("Map: key {key:?} not found"),
        }
    }
}

impl<K: Into<Str>> Extend<(K, Value)> for Map {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, items: I) {
        for (k, v) in items {
            self.insert(k.into(), v);
        }
    }
}

impl<K: Into<Str>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(items: I) -> Self {
        let mut map = Map::new();
        map.extend(items);
        map
    }
}

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = std::vec::IntoIter<Entry>;

    fn into_iter(self) -> Self::IntoIter {
        match self.repr {
            Repr::Small(entries) => entries.into_vec().into_iter(),
            Repr::Large(large) => large.entries.into_iter(),
        }
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a Str, &'a mut Value);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> Map {
        (0..n)
            .map(|i| (format!("k{i}"), Value::Int(i as i64)))
            .collect()
    }

    #[test]
    fn small_and_large_maps_keep_order_and_find_keys() {
        for n in [0, 1, SMALL, SMALL + 1, 500] {
            let mut m = numbered(n);
            assert_eq!(m.len(), n);
            assert!(
                m.keys().map(Str::as_str).eq((0..n)
                    .map(|i| format!("k{i}"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str))
            );
            for i in 0..n {
                assert_eq!(m.get(format!("k{i}").as_str()), Some(&Value::Int(i as i64)));
            }
            assert_eq!(m.get("absent"), None);
            // Replacing keeps the place.
            if n > 0 {
                assert_eq!(m.insert("k0".into(), Value::Null), Some(Value::Int(0)));
                assert_eq!(m.first(), Some((&"k0".into(), &Value::Null)));
            }
        }
    }

    #[test]
    fn removal_shifts_the_rest_and_lookups_follow() {
        let mut m = numbered(20);
        assert_eq!(m.shift_remove("k3"), Some(Value::Int(3)));
        assert_eq!(m.shift_remove("k3"), None);
        assert_eq!(m.len(), 19);
        assert_eq!(m.get("k19"), Some(&Value::Int(19)));
        assert_eq!(m.keys().nth(3).map(Str::as_str), Some("k4"));
        m.retain(|k, _| k != "k4");
        assert_eq!(m.get("k5"), Some(&Value::Int(5)));
        assert!(!m.contains_key("k4"));
    }

    #[test]
    fn entries_fill_in_place() {
        let mut m = numbered(SMALL);
        *m.entry("k1".into()).or_insert(Value::Null) = Value::Bool(true);
        m.entry("new".into()).or_default();
        assert_eq!(m.get("k1"), Some(&Value::Bool(true)));
        assert_eq!(m.last(), Some((&"new".into(), &Value::Null)));
        assert_eq!(m.get("new"), Some(&Value::Null));
    }

    #[test]
    fn equality_ignores_order() {
        let a: Map = [("a", Value::Int(1)), ("b", Value::Int(2))]
            .into_iter()
            .collect();
        let b: Map = [("b", Value::Int(2)), ("a", Value::Int(1))]
            .into_iter()
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, numbered(2));
    }

    #[test]
    fn only_maps_past_small_get_an_index() {
        assert!(matches!(numbered(SMALL).repr, Repr::Small(_)));
        let mut m = numbered(SMALL + 1);
        assert!(matches!(m.repr, Repr::Large(_)));
        // A hostile number of keys stays linear: every insert and lookup
        // goes through the index (a linear scan would take minutes here).
        m.extend((0..100_000).map(|i| (format!("x{i}"), Value::Null)));
        assert_eq!(m.len(), SMALL + 1 + 100_000);
        assert!((0..100_000).all(|i| m.contains_key(&format!("x{i}"))));
    }

    #[test]
    fn a_map_is_two_words() {
        assert_eq!(std::mem::size_of::<Map>(), 16);
    }
}
