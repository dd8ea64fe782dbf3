//! Where LaunchDarkly's SDK keeps the flag data it receives, so that this crate sees each change
//! as it is stored: the SDK has no change listener, but it writes every change (a stream's `put`
//! and `patch`, a poll, [`TestData`](launchdarkly_server_sdk::TestData)'s updates) to its data
//! store, and a persistent store is the one the SDK lets an application supply.
//!
//! The SDK keeps its own cache over it, for ever ([`PersistentDataStoreBuilder::cache_forever`]),
//! and reads from the cache; this store keeps each item as the SDK hands it over and, beside it,
//! the flag or segment read from it, so that a change costs one parse of the items it carries.
//! A write that changes nothing (an item no newer than the one kept) changes no generation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use launchdarkly_server_sdk::{
    AllData, DataKind, Flag, PersistentDataStore, PersistentDataStoreBuilder,
    PersistentDataStoreFactory, PersistentStoreError, Segment, SerializedItem,
};
use tokio::sync::Notify;

use crate::data::Data;

/// What the store and the source share: the flag data as last stored, how many changes it has
/// seen, and a wake-up for the driver.
#[derive(Default)]
pub(crate) struct Watch {
    generation: AtomicU64,
    items: Mutex<Items>,
    changed: Notify,
}

#[derive(Default)]
struct Items {
    initialized: bool,
    flags: HashMap<String, Item<Flag>>,
    segments: HashMap<String, Item<Segment>>,
}

/// One item as the SDK stored it, and what it is: `None` when it is deleted, an error (saying
/// why) when it is not LaunchDarkly's JSON, which refuses the whole data until it is replaced.
struct Item<T> {
    serialized: SerializedItem,
    read: Result<Option<Arc<T>>, String>,
}

impl Watch {
    /// How many changes the store has taken: equal generations, equal data.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Waits for the next change after this call.
    pub(crate) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    /// The data as stored now, with its generation; `None` before LaunchDarkly first sent any.
    pub(crate) fn data(&self) -> Option<Result<(Data, u64), String>> {
        let items = lock(&self.items);
        if !items.initialized {
            return None;
        }
        let flags = live(&items.flags);
        let segments = live(&items.segments);
        let data = flags.and_then(|flags| Ok(Data::new(flags, segments?)));
        Some(data.map(|data| (data, self.generation())))
    }

    /// The store the SDK is given, over this watch.
    pub(crate) fn store(self: &Arc<Self>) -> PersistentDataStoreBuilder {
        let mut builder = PersistentDataStoreBuilder::new(Arc::new(Factory(Arc::clone(self))));
        builder.cache_forever();
        builder
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_waiters();
        // A driver between two waits takes the permit.
        self.changed.notify_one();
    }
}

struct Factory(Arc<Watch>);

impl PersistentDataStoreFactory for Factory {
    fn create_persistent_data_store(&self) -> Result<Box<dyn PersistentDataStore>, std::io::Error> {
        Ok(Box::new(Store(Arc::clone(&self.0))))
    }
}

struct Store(Arc<Watch>);

impl PersistentDataStore for Store {
    fn init(
        &mut self,
        all_data: AllData<SerializedItem, SerializedItem>,
    ) -> Result<(), PersistentStoreError> {
        let mut items = lock(&self.0.items);
        let flags = read_all(all_data.flags, "flag");
        let segments = read_all(all_data.segments, "segment");
        let same = items.initialized
            && same_versions(&items.flags, &flags)
            && same_versions(&items.segments, &segments);
        *items = Items {
            initialized: true,
            flags,
            segments,
        };
        drop(items);
        if !same {
            self.0.bump();
        }
        Ok(())
    }

    fn flag(&self, key: &str) -> Result<Option<SerializedItem>, PersistentStoreError> {
        let items = lock(&self.0.items);
        Ok(items.flags.get(key).map(|item| item.serialized.clone()))
    }

    fn segment(&self, key: &str) -> Result<Option<SerializedItem>, PersistentStoreError> {
        let items = lock(&self.0.items);
        Ok(items.segments.get(key).map(|item| item.serialized.clone()))
    }

    fn all_flags(&self) -> Result<HashMap<String, SerializedItem>, PersistentStoreError> {
        let items = lock(&self.0.items);
        let flags = items.flags.iter();
        Ok(flags
            .map(|(key, item)| (key.clone(), item.serialized.clone()))
            .collect())
    }

    fn upsert(
        &mut self,
        kind: DataKind,
        key: &str,
        serialized_item: SerializedItem,
    ) -> Result<bool, PersistentStoreError> {
        let mut items = lock(&self.0.items);
        let newer = match kind {
            DataKind::Flag => upsert(&mut items.flags, key, serialized_item, "flag"),
            DataKind::Segment => upsert(&mut items.segments, key, serialized_item, "segment"),
        };
        drop(items);
        if newer {
            self.0.bump();
        }
        Ok(newer)
    }

    fn is_initialized(&self) -> bool {
        lock(&self.0.items).initialized
    }
}

/// The items that are not deleted, each as read; why not, naming each that cannot be read.
fn live<T>(items: &HashMap<String, Item<T>>) -> Result<HashMap<String, Arc<T>>, String> {
    let mut live = HashMap::with_capacity(items.len());
    let mut unreadable = Vec::new();
    for (key, item) in items {
        match &item.read {
            Ok(Some(read)) => {
                live.insert(key.clone(), Arc::clone(read));
            }
            Ok(None) => {}
            Err(why) => unreadable.push(why.as_str()),
        }
    }
    unreadable.sort_unstable();
    match unreadable.is_empty() {
        true => Ok(live),
        false => Err(unreadable.join("; ")),
    }
}

/// Each item of a full data set, read.
fn read_all<T: serde::de::DeserializeOwned>(
    serialized: HashMap<String, SerializedItem>,
    kind: &str,
) -> HashMap<String, Item<T>> {
    let items = serialized.into_iter().map(|(key, serialized)| {
        let read = read(&serialized, kind, &key);
        (key, Item { serialized, read })
    });
    items.collect()
}

/// Keeps `serialized` as the item `key` when it is newer than the one kept; whether it was.
fn upsert<T: serde::de::DeserializeOwned>(
    items: &mut HashMap<String, Item<T>>,
    key: &str,
    serialized: SerializedItem,
    kind: &str,
) -> bool {
    if let Some(kept) = items.get(key)
        && kept.serialized.version >= serialized.version
    {
        return false;
    }
    let read = read(&serialized, kind, key);
    items.insert(key.to_owned(), Item { serialized, read });
    true
}

/// The flag or segment in `serialized`: `None` when it is deleted.
fn read<T: serde::de::DeserializeOwned>(
    serialized: &SerializedItem,
    kind: &str,
    key: &str,
) -> Result<Option<Arc<T>>, String> {
    if serialized.deleted {
        return Ok(None);
    }
    match serde_json::from_str(&serialized.serialized_item) {
        Ok(item) => Ok(Some(Arc::new(item))),
        Err(error) => Err(format!(
            "{kind} `{key}` is not LaunchDarkly's JSON for a {kind}: {error}"
        )),
    }
}

/// Whether two sets hold the same keys at the same versions.
fn same_versions<T>(kept: &HashMap<String, Item<T>>, new: &HashMap<String, Item<T>>) -> bool {
    kept.len() == new.len()
        && kept.iter().all(|(key, item)| {
            new.get(key)
                .is_some_and(|other| other.serialized.version == item.serialized.version)
        })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(key: &str, version: u64) -> SerializedItem {
        let flag = serde_json::json!({
            "key": key, "version": version, "on": true, "targets": [], "rules": [],
            "prerequisites": [], "fallthrough": {"variation": 0}, "offVariation": 0,
            "variations": [true], "salt": "s",
        });
        SerializedItem {
            version,
            deleted: false,
            serialized_item: flag.to_string(),
        }
    }

    fn all(flags: &[(&str, SerializedItem)]) -> AllData<SerializedItem, SerializedItem> {
        AllData {
            flags: flags
                .iter()
                .map(|(key, item)| ((*key).to_owned(), item.clone()))
                .collect(),
            segments: HashMap::new(),
        }
    }

    fn store() -> (Arc<Watch>, Store) {
        let watch = Arc::new(Watch::default());
        (Arc::clone(&watch), Store(watch))
    }

    #[test]
    fn a_full_data_set_at_the_same_versions_is_no_change() {
        let (watch, mut store) = store();
        assert!(watch.data().is_none(), "nothing before the first data");
        store.init(all(&[("a", flag("a", 1))])).unwrap();
        assert_eq!(watch.generation(), 1);
        // A stream that reconnects sends everything again.
        store.init(all(&[("a", flag("a", 1))])).unwrap();
        assert_eq!(watch.generation(), 1);
        store.init(all(&[("a", flag("a", 2))])).unwrap();
        assert_eq!(watch.generation(), 2);
        store.init(all(&[])).unwrap();
        assert_eq!(watch.generation(), 3);
    }

    #[test]
    fn an_item_no_newer_than_the_one_kept_is_ignored() {
        let (watch, mut store) = store();
        store.init(all(&[("a", flag("a", 5))])).unwrap();
        assert!(!store.upsert(DataKind::Flag, "a", flag("a", 5)).unwrap());
        assert!(!store.upsert(DataKind::Flag, "a", flag("a", 4)).unwrap());
        assert_eq!(watch.generation(), 1);
        assert!(store.upsert(DataKind::Flag, "a", flag("a", 6)).unwrap());
        assert_eq!(watch.generation(), 2);
        let (data, generation) = watch.data().unwrap().unwrap();
        assert_eq!((data.flag_of("a").unwrap().version, generation), (6, 2));
    }

    #[test]
    fn a_deleted_flag_is_gone_and_an_unreadable_one_refuses_the_data_until_replaced() {
        let (watch, mut store) = store();
        store
            .init(all(&[("a", flag("a", 1)), ("b", flag("b", 1))]))
            .unwrap();
        let tombstone = SerializedItem {
            version: 2,
            deleted: true,
            serialized_item: String::new(),
        };
        store.upsert(DataKind::Flag, "a", tombstone).unwrap();
        let (data, _) = watch.data().unwrap().unwrap();
        assert!(data.flag_of("a").is_none());
        assert_eq!(data.len(), 1);

        let garbage = SerializedItem {
            version: 2,
            deleted: false,
            serialized_item: String::from("{\"key\": 7}"),
        };
        store.upsert(DataKind::Flag, "b", garbage).unwrap();
        let Some(Err(refused)) = watch.data() else {
            panic!("the data is taken with an unreadable flag");
        };
        assert!(
            refused.starts_with("flag `b` is not LaunchDarkly's JSON"),
            "{refused}"
        );
        store.upsert(DataKind::Flag, "b", flag("b", 3)).unwrap();
        assert!(watch.data().unwrap().is_ok());
    }
}
