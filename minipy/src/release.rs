//! Freeing deeply nested data without deep native recursion. Dropping a
//! list that holds a list that holds a list … recurses once per level in
//! Rust's drop glue, and twenty million levels overflow the native stack.
//! Like CPython's "trashcan", a container being freed more than
//! [`MAX_NESTED_FREES`] levels down hands its contents to a pending list
//! instead, and the outermost free empties that list a batch at a time.
//! Containers ([`Items`], dicts, sets, instances, functions) call
//! [`release`] from their `Drop`.

use crate::value::Value;
use std::cell::{Cell, RefCell};

/// How deep frees nest before contents wait for the outermost one.
const MAX_NESTED_FREES: u32 = 500;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static PENDING: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// Frees a container's contents. `free(None)` must drop them now;
/// `free(Some(pending))` must move every contained value into `pending`
/// without dropping any (the pending list is borrowed meanwhile).
pub fn release(free: impl FnOnce(Option<&mut Vec<Value>>)) {
    let depth = DEPTH.get();
    if depth >= MAX_NESTED_FREES {
        // Once the thread's locals are gone (thread exit) nothing is moved,
        // and the drop glue frees the contents as usual.
        let _ = PENDING.try_with(|p| free(Some(&mut p.borrow_mut())));
        return;
    }
    DEPTH.set(depth + 1);
    free(None);
    if depth == 0 {
        while let Ok(batch) = PENDING.try_with(|p| std::mem::take(&mut *p.borrow_mut())) {
            if batch.is_empty() {
                break;
            }
            // May hand over more: the next round frees it.
            drop(batch);
        }
    }
    DEPTH.set(depth);
}

/// The items of a list or tuple: a `Vec<Value>` that frees nested items
/// through [`release`].
#[derive(Clone, Debug, Default)]
pub struct Items(pub Vec<Value>);

impl std::ops::Deref for Items {
    type Target = Vec<Value>;
    #[inline(always)]
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl std::ops::DerefMut for Items {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}

impl From<Vec<Value>> for Items {
    fn from(v: Vec<Value>) -> Items {
        Items(v)
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let items = &mut self.0;
        release(|pending| match pending {
            Some(p) => p.append(items),
            None => items.clear(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deep_list_is_freed_without_deep_recursion() {
        // Deeper than the test thread's stack allows for recursive drops.
        let mut v = Value::list(Vec::new());
        for _ in 0..2_000_000 {
            v = Value::list(vec![v]);
        }
        drop(v);
        assert_eq!(DEPTH.get(), 0);
        assert!(PENDING.with_borrow(Vec::is_empty));
    }
}
