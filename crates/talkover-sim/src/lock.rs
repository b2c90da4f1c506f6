//! The one way this crate locks a mutex, shared by the state and the rate limiter.
//!
//! A module of its own so that `state` and `faults` both depend on it rather than on
//! each other: imports in this crate go one way.

use std::sync::{Mutex, MutexGuard};

/// Locks ignoring poison: a handler that panicked mid-request cannot leave these
/// structures half-updated (every mutation is a single assignment after validation),
/// so the simulator keeps serving rather than failing every later request.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
