//! An accumulator of diagnostics, so one build reports every mistake (after serde's `Ctxt`).

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// The errors found so far. [`Ctxt::check`] must be called before it is dropped: a context
/// dropped with its errors unchecked would lose them, so it panics instead.
pub struct Ctxt {
    /// `None` once checked.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Default for Ctxt {
    fn default() -> Self {
        Self {
            errors: RefCell::new(Some(Vec::new())),
        }
    }
}

impl Ctxt {
    /// Records an error pointing at `tokens`.
    pub fn error_spanned_by(&self, tokens: impl ToTokens, message: impl Display) {
        self.syn_error(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error syn produced.
    pub fn syn_error(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("a checked context takes no more errors")
            .push(error);
    }

    /// Every recorded error, combined into one in source order, or `Ok` when there is none.
    pub fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.take().expect("a context is checked once");
        // Checks run by kind (keys, then the whole struct); a reader goes top to bottom.
        errors.sort_by_key(position);
        let mut errors = errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("a derive's errors were dropped without being checked");
        }
    }
}

/// Where an error starts (line, column); `(0, 0)` outside a macro expansion, which keeps the
/// order errors were found in.
fn position(error: &syn::Error) -> (usize, usize) {
    if !proc_macro::is_available() {
        return (0, 0);
    }
    let start = error.span().unwrap();
    (start.line(), start.column())
}
