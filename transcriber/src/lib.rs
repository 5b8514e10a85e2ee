//! Speech to time-stamped text.
