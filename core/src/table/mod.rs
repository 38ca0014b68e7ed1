//! Dimensions, the cube with its margins and constraints, and its construction from rows.

mod cube;
mod ingest;

pub use cube::{Constraint, Cube, Dimension, MAX_CELLS};
pub use ingest::CubeBuilder;
