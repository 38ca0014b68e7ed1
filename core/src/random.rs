//! Randomness: every random draw of a run comes from here. ChaCha20 seeded
//! by the operating system's secure source by default, from a seed only
//! when the policy asks for reproducibility; the output records which (see
//! [`Randomness`]). The cell key method draws nothing at run time: its
//! randomness is the record keys, made once by [`crate::cellkey`] with a
//! generator from here.
//!
//! The pipeline creates the generator and hands it to the method that draws
//! (rounding, noise); no method creates its own.

use chacha20::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use crate::err;
use crate::error::Fallible;

/// The generator every method draws from.
pub type Generator = ChaCha20Rng;

/// Where the randomness of a run came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Randomness {
    /// The methods used draw no random numbers.
    None,
    /// ChaCha20 seeded by the operating system's secure source.
    Secure,
    /// ChaCha20 from the policy's seed: reproducible, so not for publication as is.
    Seeded(u64),
    /// The cell key method: from the record keys in this column.
    CellKeys(String),
}

impl Randomness {
    pub fn describe(&self) -> String {
        match self {
            Randomness::None => "none (deterministic methods only)".to_owned(),
            Randomness::Secure => "ChaCha20 seeded by the operating system".to_owned(),
            Randomness::Seeded(seed) => format!("ChaCha20 from seed {seed} (reproducible: not for publication as is)"),
            Randomness::CellKeys(column) => format!("cell keys from the record keys in column `{column}`"),
        }
    }
}

/// A ChaCha20 generator: from `seed` when given (reproducible), otherwise
/// from the operating system's secure source; with the record of which.
pub fn generator(seed: Option<u64>) -> Fallible<(Generator, Randomness)> {
    match seed {
        Some(seed) => Ok((seeded(seed), Randomness::Seeded(seed))),
        None => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| err!(Infeasible, "the operating system's random source failed ({e}); give a seed in the policy to run without it"))?;
            Ok((Generator::from_seed(key), Randomness::Secure))
        }
    }
}

/// A generator from `seed` (synthetic data and tests, which are reproducible by design).
pub fn seeded(seed: u64) -> Generator {
    Generator::seed_from_u64(seed)
}

/// A uniform integer in [0, n), exactly (Lemire 2019, "Fast random integer
/// generation in an interval", ACM TOMACS 29: the high word of x * n, with
/// the few biased low words redrawn; a division only on the rare redraw path).
pub fn uniform_below(rng: &mut Generator, n: u64) -> u64 {
    debug_assert!(n > 0);
    let mut m = rng.next_u64() as u128 * n as u128;
    if (m as u64) < n {
        // 2^64 mod n low words would make some results more likely: redraw them.
        let threshold = n.wrapping_neg() % n;
        while (m as u64) < threshold {
            m = rng.next_u64() as u128 * n as u128;
        }
    }
    (m >> 64) as u64
}
