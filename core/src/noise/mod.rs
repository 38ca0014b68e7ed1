//! Differential privacy for tables of counts: exact discrete noise.

pub mod sample;
