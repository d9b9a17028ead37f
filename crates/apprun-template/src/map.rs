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
///
/// Keys and values are two lists, not one of pairs: a pair is padded from
/// 28 to 32 bytes (a value's 8-byte alignment after a 12-byte key).
#[derive(Clone)]
struct Large {
    keys: Vec<Str>,
    values: Vec<Value>,
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
        let (keys, values) = entries.into_iter().unzip();
        let mut large = Large {
            keys,
            values,
            index: HashTable::new(),
            hasher: RandomState::new(),
        };
        large.reindex();
        large
    }

    /// Rebuilds the index from the entries (after a removal shifts them).
    fn reindex(&mut self) {
        let Large {
            keys,
            index,
            hasher,
            ..
        } = self;
        index.clear();
        index.reserve(keys.len(), |&i| hasher.hash_one(keys[i as usize].as_str()));
        for (i, key) in keys.iter().enumerate() {
            let hash = hasher.hash_one(key.as_str());
            index.insert_unique(hash, slot(i), |&j| {
                hasher.hash_one(keys[j as usize].as_str())
            });
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(key);
        self.index
            .find(hash, |&i| self.keys[i as usize] == key)
            .map(|&i| i as usize)
    }

    /// Appends an entry whose key is not in the map.
    fn push(&mut self, key: Str, value: Value) {
        let Large {
            keys,
            values,
            index,
            hasher,
        } = self;
        let hash = hasher.hash_one(key.as_str());
        index.insert_unique(hash, slot(keys.len()), |&j| {
            hasher.hash_one(keys[j as usize].as_str())
        });
        keys.push(key);
        values.push(value);
    }
}

impl Map {
    pub const fn new() -> Self {
        Map {
            repr: Repr::Small(PackedSlice::new()),
        }
    }

    /// The key and value at a position (`i < len`).
    fn at(&self, i: usize) -> (&Str, &Value) {
        match &self.repr {
            Repr::Small(entries) => (&entries[i].0, &entries[i].1),
            Repr::Large(large) => (&large.keys[i], &large.values[i]),
        }
    }

    fn value_mut_at(&mut self, i: usize) -> &mut Value {
        match &mut self.repr {
            Repr::Small(entries) => &mut entries[i].1,
            Repr::Large(large) => &mut large.values[i],
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        match &self.repr {
            Repr::Small(entries) => entries.iter().position(|(k, _)| k == key),
            Repr::Large(large) => large.position(key),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(entries) => entries.len(),
            Repr::Large(large) => large.keys.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> Option<&Value> {
        self.position(key.as_ref()).map(|i| self.at(i).1)
    }

    pub fn get_mut<Q: AsRef<str> + ?Sized>(&mut self, key: &Q) -> Option<&mut Value> {
        let i = self.position(key.as_ref())?;
        Some(self.value_mut_at(i))
    }

    pub fn get_key_value<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> Option<(&Str, &Value)> {
        self.position(key.as_ref()).map(|i| self.at(i))
    }

    pub fn contains_key<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> bool {
        self.position(key.as_ref()).is_some()
    }

    /// Sets a key's value: an existing key keeps its place and its old
    /// value is returned; a new key goes last.
    pub fn insert(&mut self, key: Str, value: Value) -> Option<Value> {
        if let Some(i) = self.position(key.as_str()) {
            return Some(std::mem::replace(self.value_mut_at(i), value));
        }
        self.push(key, value);
        None
    }

    /// Appends an entry whose key is not in the map; a small map that
    /// outgrows [`SMALL`] gets its index here.
    fn push(&mut self, key: Str, value: Value) -> usize {
        match &mut self.repr {
            Repr::Small(entries) if entries.len() < SMALL => entries.push((key, value)),
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
                let removed = (large.keys.remove(i), large.values.remove(i));
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
                // Kept entries move forward in order, the others back.
                let mut kept = 0;
                for i in 0..large.keys.len() {
                    if keep(&large.keys[i], &mut large.values[i]) {
                        large.keys.swap(kept, i);
                        large.values.swap(kept, i);
                        kept += 1;
                    }
                }
                large.keys.truncate(kept);
                large.values.truncate(kept);
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
        self.iter().next()
    }

    pub fn last(&self) -> Option<(&Str, &Value)> {
        self.iter().next_back()
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            map: self,
            at: 0..self.len(),
        }
    }

    pub fn iter_mut(&mut self) -> IterMut<'_> {
        match &mut self.repr {
            Repr::Small(entries) => IterMut::Small(entries.iter_mut()),
            Repr::Large(large) => IterMut::Large(large.keys.iter().zip(large.values.iter_mut())),
        }
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Str> + ExactSizeIterator + Clone {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.iter().map(|(_, v)| v)
    }

    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.iter_mut().map(|(_, v)| v)
    }

    /// Gives back the room growth left (a parsed tree of small maps would
    /// otherwise be mostly room).
    pub fn shrink_to_fit(&mut self) {
        match &mut self.repr {
            // Exact size already.
            Repr::Small(_) => {}
            Repr::Large(large) => {
                let Large {
                    keys,
                    values,
                    index,
                    hasher,
                } = &mut **large;
                fit(keys);
                fit(values);
                index.shrink_to_fit(|&i| hasher.hash_one(keys[i as usize].as_str()));
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

/// The entries of a map in order, from [`Map::iter`].
#[derive(Clone)]
pub struct Iter<'a> {
    map: &'a Map,
    at: std::ops::Range<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Str, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.at.next().map(|i| self.map.at(i))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.at.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.at.next_back().map(|i| self.map.at(i))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The entries of a map in order, values to change, from [`Map::iter_mut`].
pub enum IterMut<'a> {
    Small(std::slice::IterMut<'a, Entry>),
    Large(std::iter::Zip<std::slice::Iter<'a, Str>, std::slice::IterMut<'a, Value>>),
}

impl<'a> Iterator for IterMut<'a> {
    type Item = (&'a Str, &'a mut Value);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            IterMut::Small(entries) => entries.next().map(|(k, v)| (&*k, v)),
            IterMut::Large(pairs) => pairs.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            IterMut::Small(entries) => entries.size_hint(),
            IterMut::Large(pairs) => pairs.size_hint(),
        }
    }
}

impl DoubleEndedIterator for IterMut<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            IterMut::Small(entries) => entries.next_back().map(|(k, v)| (&*k, v)),
            IterMut::Large(pairs) => pairs.next_back(),
        }
    }
}

impl ExactSizeIterator for IterMut<'_> {}

/// The entries of a map in order, moved out, from `Map::into_iter`.
pub enum IntoIter {
    Small(std::vec::IntoIter<Entry>),
    Large(std::iter::Zip<std::vec::IntoIter<Str>, std::vec::IntoIter<Value>>),
}

impl Iterator for IntoIter {
    type Item = (Str, Value);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            IntoIter::Small(entries) => entries.next(),
            IntoIter::Large(pairs) => pairs.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            IntoIter::Small(entries) => entries.size_hint(),
            IntoIter::Large(pairs) => pairs.size_hint(),
        }
    }
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
        map.value_mut_at(at)
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
    type IntoIter = IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        match self.repr {
            Repr::Small(entries) => IntoIter::Small(entries.into_vec().into_iter()),
            Repr::Large(large) => {
                let Large { keys, values, .. } = *large;
                IntoIter::Large(keys.into_iter().zip(values))
            }
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
