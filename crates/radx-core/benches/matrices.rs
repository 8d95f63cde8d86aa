//! Criterion benches (filled in by the builders).
fn main() {}
