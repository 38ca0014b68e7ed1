//! Amparo: statistical disclosure control for tables of counts of children on the move.
//!
//! The engine builds a table (a [`Cube`](table::Cube) of counts with every
//! margin) from microdata or aggregated counts, applies the protection a
//! [`Policy`](plan::Policy) asks for, and returns a table of published
//! values with each cell's status. The CLI, the Python package and the R
//! package are thin frontends over [`protect`] and [`validate`].
//!
//! ```
//! use std::path::Path;
//! let policy = amparo::Policy::from_toml(r#"
//!     version = 1
//!     [input]
//!     kind = "aggregated"
//!     count = "n"
//!     [dimensions.sex]
//!     [primary]
//!     threshold = 5
//! "#, Path::new(".")).unwrap();
//! let csv = "sex,n\nF,3\nM,12\n";
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("in.csv");
//! std::fs::write(&path, csv).unwrap();
//! let mut input = amparo::io::read_table(&path).unwrap();
//! let result = amparo::protect(&policy, &mut *input).unwrap();
//! // F = 3 is below the threshold of 5 and hidden; the total (15) and M (12) are published.
//! assert_eq!(result.marks.published, vec![Some(15), None, Some(12)]);
//! ```

pub mod attacker;
pub mod audit;
pub mod cellkey;
pub mod error;
pub mod hierarchy;
pub mod i18n;
pub mod io;
pub mod loss;
pub mod marks;
pub mod noise;
pub mod output;
pub(crate) mod parallel;
pub mod plan;
pub mod policy;
pub mod progress;
pub mod protect;
pub mod publish;
pub mod random;
pub mod rounding;
pub mod rules;
pub mod suggest;
pub mod suppression;
pub mod synth;
pub mod table;

/// The arrow-rs crates the engine is built on, re-exported so that frontends
/// use exactly the same version (pinned once, in the workspace).
pub mod arrow {
    pub use arrow_array as array;
    pub use arrow_cast as cast;
    pub use arrow_schema as schema;
    pub use arrow_select as select;
}

pub use error::{Error, ErrorKind, Fallible};
pub use marks::{CellMarks, Status};
pub use output::{output_schema, AuditOutcome, Metadata, OutputOptions, Protected, Summary};
pub use random::Randomness;
pub use plan::{Policy, Protection};
pub use protect::{aggregate_partials, build_cube, merge_partials, protect, protect_linked, protect_partials, protect_tables, validate, Validation};
pub use audit::{audit_published, audit_published_tables, read_published_tables};
pub use table::{Additive, Cube, CubeBuilder};

/// Version of the engine, recorded in every output.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
