//! Shared by the benches: a small deterministic generator.

/// A small deterministic generator (xorshift), so the benches need no RNG crate.
pub struct Xorshift(pub u64);

// Each bench uses some of these.
#[allow(dead_code)]
impl Xorshift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Skewed index in 0..n: the square of a uniform puts more mass on small indices.
    pub fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u) * n as f64) as usize
    }

    /// A count with many small values: 0-9 mostly, now and then up to 200.
    pub fn count(&mut self) -> i64 {
        let x = self.next();
        if x % 8 == 0 { (x >> 8) as i64 % 200 } else { (x >> 8) as i64 % 10 }
    }
}
