//! A table of values parked under small keys, reused once taken.
//!
//! The edge parks a request's state here while the runtime works for it (`edge/parking.rs`: a
//! waiting task, an awaited promise) and binds the key into a callback made once per isolate, so
//! the callback needs no new closure per request. A key carries the generation of its entry: a callback
//! that comes late, after its value was taken or dropped and the entry reused, finds nothing.

/// Where a value is parked; stale once the value is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub index: u32,
    pub generation: u32,
}

struct Entry<T> {
    generation: u32,
    value: Option<T>,
}

pub struct Slots<T> {
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slots<T> {
    pub fn insert(&mut self, value: T) -> Key {
        if let Some(index) = self.free.pop() {
            let entry = &mut self.entries[index as usize];
            entry.generation = entry.generation.wrapping_add(1);
            entry.value = Some(value);
            return Key {
                index,
                generation: entry.generation,
            };
        }
        self.entries.push(Entry {
            generation: 0,
            value: Some(value),
        });
        Key {
            index: (self.entries.len() - 1) as u32,
            generation: 0,
        }
    }

    fn entry(&mut self, key: Key) -> Option<&mut Entry<T>> {
        self.entries
            .get_mut(key.index as usize)
            .filter(|e| e.generation == key.generation)
    }

    /// The value under `key`, once: a second take of the same key finds nothing.
    pub fn take(&mut self, key: Key) -> Option<T> {
        let value = self.entry(key)?.value.take()?;
        self.free.push(key.index);
        Some(value)
    }

    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        self.entry(key)?.value.as_mut()
    }

    /// Takes out every value `abandoned` says will never be taken, handing them back: the caller
    /// drops them once it no longer borrows the table (a dropped value may reach for it).
    #[must_use = "the values taken out are the caller's to drop"]
    pub fn take_where(&mut self, abandoned: impl Fn(&T) -> bool) -> Vec<T> {
        let mut taken = Vec::new();
        for (index, entry) in self.entries.iter_mut().enumerate() {
            if entry.value.as_ref().is_some_and(&abandoned) {
                taken.extend(entry.value.take());
                self.free.push(index as u32);
            }
        }
        taken
    }

    /// Every parked value.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().filter_map(|e| e.value.as_ref())
    }

    pub fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const NOWHERE: Key = Key {
        index: 99,
        generation: 0,
    };

    #[test]
    fn a_value_is_taken_once_under_its_own_key() {
        let mut s = Slots::default();
        let a = s.insert("a");
        let b = s.insert("b");
        assert_ne!(a, b);
        assert_eq!(s.take(b), Some("b"));
        assert_eq!(s.take(b), None);
        assert_eq!(s.take(a), Some("a"));
        assert_eq!(s.take(NOWHERE), None);
        assert!(s.is_empty());
    }

    #[test]
    fn a_stale_key_finds_nothing_once_its_entry_is_reused() {
        let mut s = Slots::default();
        let old = s.insert("old");
        assert_eq!(s.take(old), Some("old"));
        let new = s.insert("new");
        assert_eq!(new.index, old.index, "the entry is reused");
        assert_eq!(s.get_mut(old), None);
        assert_eq!(s.take(old), None);
        assert_eq!(s.take(new), Some("new"));
    }

    #[test]
    fn a_parked_value_can_be_changed_in_place_until_taken() {
        let mut s = Slots::default();
        let k = s.insert(1);
        *s.get_mut(k).unwrap() += 1;
        assert_eq!(s.take(k), Some(2));
        assert_eq!(s.get_mut(k), None);
        assert_eq!(s.get_mut(NOWHERE), None);
    }

    #[test]
    fn abandoned_values_are_removed_and_their_keys_reused() {
        let mut s = Slots::default();
        let keys: Vec<Key> = (0..10).map(|i| s.insert(i)).collect();
        assert_eq!(s.take_where(|v| v % 2 == 0), vec![0, 2, 4, 6, 8]);
        assert_eq!(s.values().count(), 5);
        assert_eq!(s.len(), 5);
        assert_eq!(s.take(keys[0]), None);
        assert_eq!(s.take(keys[1]), Some(1));
        for i in 0..6 {
            s.insert(100 + i);
        }
        assert!(s.entries.len() <= 10);
    }

    #[test]
    fn keys_are_reused_so_the_table_stays_as_large_as_the_peak() {
        let mut s = Slots::default();
        for round in 0..1000 {
            let keys: Vec<Key> = (0..16).map(|i| s.insert(round * 16 + i)).collect();
            for k in keys {
                assert!(s.take(k).is_some());
            }
        }
        assert!(s.entries.len() <= 16);
        assert_eq!(s.len(), 0);
    }
}
