//! radx cohorts: a case list run through one engine `Extractor`, written as one wide table
//! (CSV, JSON lines, Parquet) atomically, with a resume journal, shards and merge. Progress
//! is reported through a callback; nothing here prints.
#![forbid(unsafe_code)]

pub mod batch;
pub mod cases;
pub mod journal;
pub mod pyradiomics;
pub mod rows;
pub mod table;
