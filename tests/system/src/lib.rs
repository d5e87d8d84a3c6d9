//! Helpers for the rumprun system tests (work in progress).
