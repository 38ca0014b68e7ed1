//! One error type for the whole engine.
//!
//! Every error carries a [`ErrorKind`] (mapped once per frontend: to a Python
//! exception class, to an R condition class, to a CLI exit code) and a message
//! written for the person who must fix the input: it names the column, the row
//! or the code, and says what to do.

use std::fmt;

/// What went wrong, at the granularity a caller may want to catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The policy file is malformed, names an unknown key, or asks for something impossible.
    Policy,
    /// The input table does not have the columns or types the policy expects.
    Schema,
    /// A hierarchy is malformed (cycle, code with two parents) or a code is outside it.
    Hierarchy,
    /// The values in the input are not valid counts, or are inconsistent (duplicates, margins).
    Data,
    /// A protection could not be achieved under the policy's constraints.
    Infeasible,
    /// Reading or writing a file failed.
    Io,
}

impl ErrorKind {
    /// Stable lower-case name, used by frontends to build class names
    /// (`amparo_policy_error` in R, `PolicyError` in Python) and by JSON reports.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Policy => "policy",
            ErrorKind::Schema => "schema",
            ErrorKind::Hierarchy => "hierarchy",
            ErrorKind::Data => "data",
            ErrorKind::Infeasible => "infeasible",
            ErrorKind::Io => "io",
        }
    }

    /// Every kind, for frontends that map them exhaustively.
    pub const ALL: [ErrorKind; 6] = [
        ErrorKind::Policy,
        ErrorKind::Schema,
        ErrorKind::Hierarchy,
        ErrorKind::Data,
        ErrorKind::Infeasible,
        ErrorKind::Io,
    ];
}

/// The engine's error: a kind and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the engine.
pub type Fallible<T> = Result<T, Error>;

/// Build an [`Error`] with a formatted message: `err!(Data, "row {row}: ...")`.
#[macro_export]
macro_rules! err {
    ($kind:ident, $($arg:tt)+) => {
        $crate::error::Error::new($crate::error::ErrorKind::$kind, format!($($arg)+))
    };
}

/// Return early with an [`Error`]: `fail!(Schema, "column {name} ...")`.
#[macro_export]
macro_rules! fail {
    ($kind:ident, $($arg:tt)+) => {
        return Err($crate::err!($kind, $($arg)+))
    };
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io, e.to_string())
    }
}
