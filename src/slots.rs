//! A table of values parked under small integer keys, reused once taken.
//!
//! The adapter parks a request's state here while the runtime's `fetch` is in flight and hands
//! the key to the promise callback, so the callback can be one function made per isolate instead
//! of a new closure (and a new promise executor) per request.

pub struct Slots<T> {
    entries: Vec<Option<T>>,
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
    pub fn insert(&mut self, value: T) -> u32 {
        if let Some(key) = self.free.pop() {
            self.entries[key as usize] = Some(value);
            return key;
        }
        self.entries.push(Some(value));
        (self.entries.len() - 1) as u32
    }

    /// The value under `key`, once: a second take of the same key finds nothing.
    pub fn take(&mut self, key: u32) -> Option<T> {
        let value = self.entries.get_mut(key as usize)?.take()?;
        self.free.push(key);
        Some(value)
    }

    pub fn get_mut(&mut self, key: u32) -> Option<&mut T> {
        self.entries.get_mut(key as usize)?.as_mut()
    }

    /// Takes out every value `abandoned` says will never be taken; returns how many.
    pub fn remove_where(&mut self, abandoned: impl Fn(&T) -> bool) -> usize {
        let mut removed = 0;
        for (key, entry) in self.entries.iter_mut().enumerate() {
            if entry.as_ref().is_some_and(&abandoned) {
                *entry = None;
                self.free.push(key as u32);
                removed += 1;
            }
        }
        removed
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

    #[test]
    fn a_value_is_taken_once_under_its_own_key() {
        let mut s = Slots::default();
        let a = s.insert("a");
        let b = s.insert("b");
        assert_ne!(a, b);
        assert_eq!(s.take(b), Some("b"));
        assert_eq!(s.take(b), None);
        assert_eq!(s.take(a), Some("a"));
        assert_eq!(s.take(99), None);
        assert!(s.is_empty());
    }

    #[test]
    fn a_parked_value_can_be_changed_in_place_until_taken() {
        let mut s = Slots::default();
        let k = s.insert(1);
        *s.get_mut(k).unwrap() += 1;
        assert_eq!(s.take(k), Some(2));
        assert_eq!(s.get_mut(k), None);
        assert_eq!(s.get_mut(99), None);
    }

    #[test]
    fn abandoned_values_are_removed_and_their_keys_reused() {
        let mut s = Slots::default();
        let keys: Vec<u32> = (0..10).map(|i| s.insert(i)).collect();
        assert_eq!(s.remove_where(|v| v % 2 == 0), 5);
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
            let keys: Vec<u32> = (0..16).map(|i| s.insert(round * 16 + i)).collect();
            for k in keys {
                assert!(s.take(k).is_some());
            }
        }
        assert!(s.entries.len() <= 16);
        assert_eq!(s.len(), 0);
    }
}
