//! Test support for both suites: blog-core's own tests (which cannot depend on
//! blog-e2e) and the end-to-end tests. Only what needs no AWS lives here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a panic is a failure report

pub mod api;
pub mod content;
pub mod photos;
pub mod site;
