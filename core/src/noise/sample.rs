//! Exact samplers for the discrete Laplace and the discrete Gaussian
//! (Canonne, Kamath & Steinke 2020, "The discrete Gaussian for differential
//! privacy", NeurIPS, algorithms 1-3).
//!
//! Every decision is a comparison of uniform integers with exact rationals:
//! no floating point in the sampling path, so the output distribution is the
//! stated one exactly and carries none of the floating-point leaks Mironov
//! (2012) attacked. Scales are exact fractions (`Fraction`). Arithmetic is in
//! machine integers (u128 products of u64 parameters); the Gaussian's
//! acceptance exponent falls back to big integers only when a product does
//! not fit.

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, PrimInt, Zero};
use rand_core::Rng;

use crate::random::{uniform_below, Generator};

/// A positive exact fraction num/den, reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fraction {
    pub num: u64,
    pub den: u64,
}

impl Fraction {
    /// num/den reduced; None when either is 0.
    pub fn new(num: u64, den: u64) -> Option<Fraction> {
        if num == 0 || den == 0 {
            return None;
        }
        let g = num.gcd(&den);
        Some(Fraction { num: num / g, den: den / g })
    }

    /// `text` as an exact positive fraction: `"1/3"`, `"0.25"`, `"2"`.
    pub fn parse(text: &str) -> Option<Fraction> {
        let text = text.trim();
        if let Some((n, d)) = text.split_once('/') {
            let (n, d) = (Fraction::parse(n)?, Fraction::parse(d)?);
            return Fraction::from_u128(n.num as u128 * d.den as u128, n.den as u128 * d.num as u128);
        }
        let (whole, decimals) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() && decimals.is_empty() || !(whole.chars().chain(decimals.chars()).all(|c| c.is_ascii_digit())) {
            return None;
        }
        let decimals = decimals.trim_end_matches('0');
        let den = 10u128.checked_pow(decimals.len() as u32)?;
        let num: u128 = format!("{whole}{decimals}").trim_start_matches('0').parse().unwrap_or(0);
        Fraction::from_u128(num, den)
    }

    fn from_u128(num: u128, den: u128) -> Option<Fraction> {
        if num == 0 || den == 0 {
            return None;
        }
        let g = num.gcd(&den);
        Some(Fraction { num: u64::try_from(num / g).ok()?, den: u64::try_from(den / g).ok()? })
    }

    /// self * other, exactly (None if it no longer fits 64-bit parts).
    pub fn times(self, other: Fraction) -> Option<Fraction> {
        Fraction::from_u128(self.num as u128 * other.num as u128, self.den as u128 * other.den as u128)
    }

    /// self / other, exactly.
    pub fn divided_by(self, other: Fraction) -> Option<Fraction> {
        Fraction::from_u128(self.num as u128 * other.den as u128, self.den as u128 * other.num as u128)
    }

    pub fn as_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl std::fmt::Display for Fraction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.den == 1 { write!(f, "{}", self.num) } else { write!(f, "{}/{}", self.num, self.den) }
    }
}

/// Random bits for the samplers: ChaCha20 words used one bit at a time, so
/// that a Bernoulli draw costs about two bits instead of a 64-bit word.
pub struct RandomBits {
    rng: Generator,
    word: u64,
    left: u32,
}

impl RandomBits {
    pub fn new(rng: Generator) -> RandomBits {
        RandomBits { rng, word: 0, left: 0 }
    }

    /// A generator of its own, keyed by 256 bits from this one: work split
    /// across threads draws the same numbers in any order.
    pub fn split(&mut self) -> RandomBits {
        let mut key = [0u8; 32];
        self.rng.fill_bytes(&mut key);
        RandomBits::new(<Generator as rand_core::SeedableRng>::from_seed(key))
    }

    fn bit(&mut self) -> bool {
        if self.left == 0 {
            self.word = self.rng.next_u64();
            self.left = 64;
        }
        let b = self.word & 1 == 1;
        self.word >>= 1;
        self.left -= 1;
        b
    }

    /// `k` (1..=32) random bits as a number below 2^k.
    fn take(&mut self, k: u32) -> u64 {
        if self.left >= k {
            let x = self.word & ((1u64 << k) - 1);
            self.word >>= k;
            self.left -= k;
            return x;
        }
        // The bits left, then the rest from a fresh word.
        let (low, have) = (self.word, self.left);
        self.word = self.rng.next_u64();
        self.left = 64;
        let high = self.take(k - have);
        low | (high << have)
    }

    /// A uniform integer in [0, n) for n <= 2^32, from about log2(n) + 1
    /// bits (rejection of values at or above n).
    fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0 && n <= 1 << 32);
        let k = 64 - (n - 1).leading_zeros();
        if k == 0 {
            return 0;
        }
        loop {
            let x = self.take(k);
            if x < n {
                return x;
            }
        }
    }

    /// Whole words, for uniform integers.
    pub fn rng(&mut self) -> &mut Generator {
        &mut self.rng
    }
}

/// A uniform u128 in [0, n) (n > 0), without bias.
fn uniform_below_u128(rng: &mut Generator, n: u128) -> u128 {
    if let Ok(small) = u64::try_from(n) {
        return uniform_below(rng, small) as u128;
    }
    let zone = u128::MAX - (u128::MAX - n + 1) % n;
    loop {
        let x = ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128;
        if x <= zone {
            return x % n;
        }
    }
}

/// A uniform big integer in [0, n) (n > 0), by rejection from random bits.
fn uniform_below_big(rng: &mut Generator, n: &BigUint) -> BigUint {
    let bits = n.bits();
    let words = bits.div_ceil(32) as usize;
    let top = bits % 32;
    loop {
        let mut digits: Vec<u32> = (0..words).map(|_| rng.next_u32()).collect();
        if top != 0 {
            if let Some(last) = digits.last_mut() {
                *last &= (1u32 << top) - 1;
            }
        }
        let x = BigUint::from_slice(&digits);
        if &x < n {
            return x;
        }
    }
}

/// Bernoulli(num/den) (certain outcomes draw nothing): the bits of a
/// uniform U in [0, 1) are compared one by one with the binary expansion of
/// num/den (long division); the first difference decides U < num/den. Exact,
/// and two bits are used on average. Needs den <= T::MAX / 2.
#[inline]
fn bernoulli_bits<T: PrimInt>(bits: &mut RandomBits, num: T, den: T) -> bool {
    if num.is_zero() || num >= den {
        return !num.is_zero();
    }
    let mut rest = num;
    loop {
        rest = rest + rest;
        let p_bit = rest >= den;
        if p_bit {
            rest = rest - den;
        }
        if bits.bit() != p_bit {
            return p_bit;
        }
        if rest.is_zero() {
            // The expansion ends: U, equal so far, is not below it.
            return false;
        }
    }
}

/// Bernoulli(num/den) for any u128 fraction.
fn bernoulli(bits: &mut RandomBits, num: u128, den: u128) -> bool {
    if den > u128::MAX / 2 && num < den {
        return uniform_below_u128(bits.rng(), den) < num;
    }
    bernoulli_bits(bits, num, den)
}

/// Bernoulli(exp(-num/den)) for num/den in [0, 1] (CKS algorithm 1, first
/// part): K = 1, 2, ... while Bernoulli(gamma/K) succeeds; true when the
/// last K is odd.
fn bernoulli_exp_unit(rng: &mut RandomBits, num: u128, den: u128) -> bool {
    if let (Ok(num), Ok(den)) = (u64::try_from(num), u32::try_from(den)) {
        return bernoulli_exp_unit_small(rng, num, den as u64);
    }
    let mut k: u128 = 1;
    loop {
        let Some(scaled) = den.checked_mul(k) else {
            // (num/den)/k below 2^-64: the next Bernoulli fails but for a
            // vanishing chance; decide it exactly in big integers.
            return bernoulli_exp_unit_big(rng, &BigUint::from(num), &BigUint::from(den), k);
        };
        if !bernoulli(rng, num, scaled) {
            return k % 2 == 1;
        }
        k += 1;
    }
}

/// [`bernoulli_exp_unit`] in 64-bit words (den below 2^32, so den * k and
/// twice the remainder fit while k < 2^31, which is never reached).
fn bernoulli_exp_unit_small(rng: &mut RandomBits, num: u64, den: u64) -> bool {
    let mut k: u64 = 1;
    loop {
        let scaled = den * k;
        let success = bernoulli_bits(rng, num, scaled);
        if !success {
            return k % 2 == 1;
        }
        k += 1;
        if k >= 1 << 31 {
            return bernoulli_exp_unit_big(rng, &BigUint::from(num), &BigUint::from(den), k as u128);
        }
    }
}

/// Bernoulli(exp(-num/den)), any num/den >= 0 (CKS algorithm 1): one
/// Bernoulli(exp(-1)) per whole unit of the exponent, then the remainder.
pub fn bernoulli_exp(rng: &mut RandomBits, num: u128, den: u128) -> bool {
    // (u128 division is slow: skip it when the exponent is below 1, the usual case.)
    let (whole, rest) = if num < den { (0, num) } else { (num / den, num % den) };
    let mut i = 0;
    while i < whole {
        if !bernoulli_exp_unit(rng, 1, 1) {
            return false;
        }
        i += 1;
    }
    bernoulli_exp_unit(rng, rest, den)
}

fn bernoulli_exp_unit_big(rng: &mut RandomBits, num: &BigUint, den: &BigUint, first_k: u128) -> bool {
    let mut k = BigUint::from(first_k);
    loop {
        if uniform_below_big(rng.rng(), &(den * &k)) >= *num {
            return k.is_odd();
        }
        k += 1u32;
    }
}

/// Bernoulli(exp(-num/den)) in big integers.
fn bernoulli_exp_big(rng: &mut RandomBits, num: &BigUint, den: &BigUint) -> bool {
    let (whole, rest) = num.div_rem(den);
    let mut i = BigUint::zero();
    while i < whole {
        if !bernoulli_exp_unit(rng, 1, 1) {
            return false;
        }
        i += BigUint::one();
    }
    bernoulli_exp_unit_big(rng, &rest, den, 1)
}

/// One draw of the discrete Laplace with scale `scale` = t/s:
/// P(z) proportional to exp(-|z| s/t) (CKS algorithm 2).
pub fn discrete_laplace(rng: &mut RandomBits, scale: Fraction) -> i64 {
    let (t, s) = (scale.num as u128, scale.den as u128);
    loop {
        let u = if t <= 1 << 32 { rng.below(t as u64) as u128 } else { uniform_below_u128(rng.rng(), t) };
        if !bernoulli_exp(rng, u, t) {
            continue;
        }
        let mut v: u128 = 0;
        while bernoulli_exp_unit(rng, 1, 1) {
            v += 1;
        }
        let x = u + t * v;
        let y = match (s, u64::try_from(x)) {
            (1, _) => x,
            (_, Ok(x)) => (x / s as u64) as u128,
            _ => x / s,
        };
        let negative = rng.bit();
        if negative && y == 0 {
            continue;
        }
        // |y| beyond i64 has probability below exp(-2^63 / scale): saturate.
        let y = i64::try_from(y).unwrap_or(i64::MAX);
        return if negative { -y } else { y };
    }
}

/// A discrete Gaussian sampler for variance parameter sigma^2 = a/b
/// (CKS algorithm 3): discrete Laplace proposals with scale t = floor(sigma) + 1,
/// accepted with probability exp(-(|y| - sigma^2/t)^2 / (2 sigma^2)).
#[derive(Debug, Clone, Copy)]
pub struct DiscreteGaussian {
    a: u128,
    b: u128,
    t: u64,
}

impl DiscreteGaussian {
    pub fn new(variance: Fraction) -> DiscreteGaussian {
        let (a, b) = (variance.num as u128, variance.den as u128);
        // floor(sqrt(a/b)) = isqrt(floor(a/b)).
        let t = num_integer::Roots::sqrt(&(a / b)) as u64 + 1;
        DiscreteGaussian { a, b, t }
    }

    pub fn sample(&self, rng: &mut RandomBits) -> i64 {
        let proposal = Fraction { num: self.t, den: 1 };
        loop {
            let y = discrete_laplace(rng, proposal);
            let magnitude = y.unsigned_abs() as u128;
            // gamma = (|y| b t - a)^2 / (2 a b t^2).
            let t = self.t as u128;
            let fast = (|| {
                let shifted = magnitude.checked_mul(self.b)?.checked_mul(t)?.abs_diff(self.a);
                let num = shifted.checked_mul(shifted)?;
                let den = self.a.checked_mul(self.b)?.checked_mul(t)?.checked_mul(t)?.checked_mul(2)?;
                Some((num, den))
            })();
            let accept = match fast {
                Some((num, den)) => bernoulli_exp(rng, num, den),
                None => {
                    let (a, b, t) = (BigUint::from(self.a), BigUint::from(self.b), BigUint::from(t));
                    let scaled = BigUint::from(magnitude) * &b * &t;
                    let shifted = if scaled >= a { &scaled - &a } else { &a - &scaled };
                    let num = &shifted * &shifted;
                    let den = &a * &b * &t * &t * 2u32;
                    bernoulli_exp_big(rng, &num, &den)
                }
            };
            if accept {
                return y;
            }
        }
    }
}

/// The exact probability mass of the discrete Laplace with `scale` at z
/// (for tests and the stated error): (1 - q)/(1 + q) q^|z|, q = exp(-1/scale).
pub fn laplace_pmf(scale: f64, z: i64) -> f64 {
    let q = (-1.0 / scale).exp();
    (1.0 - q) / (1.0 + q) * q.powi(z.unsigned_abs().min(i32::MAX as u64) as i32)
}

/// The discrete Gaussian's probability mass function for variance parameter
/// sigma^2: exp(-z^2 / (2 sigma^2)) normalised over the integers.
pub fn gaussian_pmf(variance: f64) -> impl Fn(i64) -> f64 {
    let reach = (variance.sqrt() * 40.0).ceil() as i64 + 1;
    let norm: f64 = (-reach..=reach).map(|k| (-((k * k) as f64) / (2.0 * variance)).exp()).sum();
    move |z| (-((z as f64).powi(2)) / (2.0 * variance)).exp() / norm
}
