//! The cell key method (ABS TableBuilder; Eurostat and ONS census 2021):
//! each record carries a random key in [0, 1); a cell's key is the sum of
//! its records' keys modulo 1, and the cell's count n is published as n + v,
//! where v is looked up from the cell key in the perturbation table's row
//! for n. The same records give the same key, so the same cell gets the same
//! value in every table.
//!
//! This version builds and checks perturbation tables ([`ptable`]); the
//! record keys, the cell keys and the lookup are not wired into the policy
//! yet (`[noise] method = "cell_key"` is refused with a clear error).

pub mod ptable;
