//! A rollout or variant decision allocates nothing: it runs on every request.
//!
//! Only the counting thread's allocations count: the test harness allocates on its own threads
//! whenever it likes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use flags_core::rollout::{bucket, variant_bucket};
use flags_core::{FlagValue, Rollout, Variants};

/// The system allocator, counting the allocations of a thread while its `COUNTING` is set.
struct Counting;

thread_local! {
    // Const-initialised and without a destructor: reading it never allocates.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller's layout, as GlobalAlloc::alloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many allocations `body` makes on this thread.
fn allocations(body: impl FnOnce()) -> usize {
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.with(|counting| counting.set(true));
    body();
    COUNTING.with(|counting| counting.set(false));
    ALLOCATIONS.load(Ordering::Relaxed)
}

#[test]
fn decisions_allocate_nothing() {
    let users: Vec<String> = (0..1000).map(|index| format!("user-{index:031}")).collect();
    let plain = Rollout::new("FEATURE_NEW_UI", 30);
    let listed = Rollout::new("FEATURE_NEW_UI", 30)
        .allow(users.iter().step_by(3).cloned())
        .deny(users.iter().step_by(7).cloned());
    let parsed = Rollout::parse_env("50%; allow=user-1, user-2; deny=user-3").unwrap();
    let variants = Variants::new("FEATURE_BUTTON", &[("a", 1), ("b", 2), ("c", 3)]);

    let mut enabled = 0;
    let mut given = 0;
    let counted = allocations(|| {
        for user in &users {
            enabled += usize::from(plain.is_enabled_for(user));
            enabled += usize::from(listed.is_enabled_for(user));
            enabled += usize::from(parsed.is_enabled_for(user));
            given += variants.variant_for(user).len();
            enabled += bucket("FEATURE_NEW_UI", user) as usize;
            given += variant_bucket("FEATURE_BUTTON", user, 6) as usize;
        }
    });
    assert_eq!(counted, 0);
    // The decisions were made, not optimised away.
    assert!(enabled > 0 && given > 0);
}
