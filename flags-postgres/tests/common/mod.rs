//! What the PostgreSQL store's tests share.

pub mod proxy;
