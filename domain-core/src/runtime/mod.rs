//! The runtime layer: the registry the macros fill, units of work, handler contexts, dispatch and
//! the `Domain` API. It builds on the model layer (`crate::model`) and the stores
//! (`crate::store`); neither of those imports anything from here.

// Used by the durable stores' delivery only (the in-memory store delivers directly).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) mod chain;
pub(crate) mod context;
pub(crate) mod core;
pub(crate) mod dispatch;
pub(crate) mod domain;
pub(crate) mod engine;
pub(crate) mod entity;
pub(crate) mod handler;
pub(crate) mod query_handler;
pub mod registry;
pub(crate) mod retry;
pub(crate) mod submission;
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) mod subscription;
pub(crate) mod unit_of_work;
