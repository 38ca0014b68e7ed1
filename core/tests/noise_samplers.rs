//! The exact samplers against their probability mass functions: chi-square
//! goodness of fit over 10^6 seeded draws (p > 0.001), and mean and variance
//! within 4 standard errors, at small, fractional, ordinary and large scales.
//! (The benchmark script runs 10^7-draw checks.)

use amparo::noise::sample::{discrete_laplace, gaussian_pmf, laplace_pmf, DiscreteGaussian, Fraction, RandomBits};
use amparo::random::seeded;

/// Draws per case: 10^6, or AMPARO_NOISE_DRAWS (bench/noise.sh runs 10^7).
fn draws() -> usize {
    std::env::var("AMPARO_NOISE_DRAWS").ok().and_then(|d| d.parse().ok()).unwrap_or(1_000_000)
}

/// Wilson-Hilferty: the chi-square quantile with `k` degrees of freedom at upper tail 0.001.
fn chi_square_critical(k: f64) -> f64 {
    let z = 3.0902; // standard normal upper 0.001 quantile
    k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
}

/// Check `draws` against `pmf`: chi-square over bins with expected counts of
/// at least 20 (tails pooled), then the mean (0) and the variance.
fn check(what: &str, draws: &[i64], pmf: impl Fn(i64) -> f64) {
    let n = draws.len() as f64;
    // Support where the expected count is at least 20; the rest is two pooled tails.
    let mut reach = 0i64;
    while pmf(reach + 1) * n >= 20.0 {
        reach += 1;
    }
    let mut observed = vec![0f64; (2 * reach + 3) as usize];
    for &z in draws {
        let bin = if z < -reach { 0 } else if z > reach { observed.len() - 1 } else { (z + reach + 1) as usize };
        observed[bin] += 1.0;
    }
    let inner: Vec<f64> = (-reach..=reach).map(&pmf).collect();
    let tail = ((1.0 - inner.iter().sum::<f64>()) / 2.0).max(0.0);
    let mut expected = vec![tail];
    expected.extend(inner);
    expected.push(tail);
    let (mut statistic, mut bins) = (0.0, 0);
    let (mut pooled_o, mut pooled_e) = (0.0, 0.0);
    for (o, e) in observed.iter().zip(&expected) {
        let e = e * n;
        if e < 20.0 {
            // Tails too thin to test alone are pooled together.
            pooled_o += o;
            pooled_e += e;
            continue;
        }
        statistic += (o - e).powi(2) / e;
        bins += 1;
    }
    if pooled_e >= 20.0 {
        statistic += (pooled_o - pooled_e).powi(2) / pooled_e;
        bins += 1;
    } else {
        assert!(pooled_o <= 20.0 + pooled_e * 5.0, "{what}: {pooled_o} draws where {pooled_e} are expected");
    }
    if bins >= 2 {
        let critical = chi_square_critical((bins - 1) as f64);
        assert!(statistic < critical, "{what}: chi-square {statistic:.1} over {bins} bins, critical {critical:.1} at p = 0.001");
    }
    // Moments of the exact distribution (summed far into the tails).
    let far = (reach * 4).max(50);
    let variance: f64 = (-far..=far).map(|z| (z * z) as f64 * pmf(z)).sum();
    let fourth: f64 = (-far..=far).map(|z| (z as f64).powi(4) * pmf(z)).sum();
    let mean = draws.iter().map(|&z| z as f64).sum::<f64>() / n;
    let sample_variance = draws.iter().map(|&z| (z as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let se_mean = (variance / n).sqrt();
    let se_variance = ((fourth - variance * variance) / n).sqrt();
    assert!(mean.abs() <= 4.0 * se_mean + 1e-12, "{what}: mean {mean} (standard error {se_mean})");
    assert!((sample_variance - variance).abs() <= 4.0 * se_variance + 1e-12, "{what}: variance {sample_variance} vs {variance} (standard error {se_variance})");
}

#[test]
fn discrete_laplace_draws_follow_the_exact_distribution_at_every_scale() {
    for (seed, scale) in ["1/100", "1/3", "1", "2", "10", "1000", "7/2"].into_iter().enumerate() {
        let scale = Fraction::parse(scale).unwrap();
        let mut rng = RandomBits::new(seeded(seed as u64));
        let draws: Vec<i64> = (0..draws()).map(|_| discrete_laplace(&mut rng, scale)).collect();
        check(&format!("discrete Laplace, scale {scale}"), &draws, |z| laplace_pmf(scale.as_f64(), z));
    }
}

#[test]
fn discrete_gaussian_draws_follow_the_exact_distribution_at_every_scale() {
    let big = Fraction::new((1 << 63) + 1, (1 << 62) - 1).unwrap(); // products past u128: the big-integer path
    for (seed, variance) in [Fraction::parse("1/16").unwrap(), Fraction::parse("1/3").unwrap(), Fraction::parse("1").unwrap(), Fraction::parse("4").unwrap(), Fraction::parse("100").unwrap(), Fraction::parse("1000000").unwrap(), big]
        .into_iter()
        .enumerate()
    {
        let sampler = DiscreteGaussian::new(variance);
        let mut rng = RandomBits::new(seeded(100 + seed as u64));
        let draws: Vec<i64> = (0..draws()).map(|_| sampler.sample(&mut rng)).collect();
        check(&format!("discrete Gaussian, sigma^2 = {variance}"), &draws, gaussian_pmf(variance.as_f64()));
    }
}

#[test]
fn a_wrong_distribution_fails_the_check() {
    // The test has power: Laplace draws are not Gaussian draws of the same variance.
    let mut rng = RandomBits::new(seeded(9));
    let scale = Fraction::parse("2").unwrap();
    let draws: Vec<i64> = (0..draws()).map(|_| discrete_laplace(&mut rng, scale)).collect();
    let variance: f64 = (-200..=200).map(|z| (z * z) as f64 * laplace_pmf(2.0, z)).sum();
    let failed = std::panic::catch_unwind(|| check("Laplace as Gaussian", &draws, gaussian_pmf(variance))).is_err();
    assert!(failed);
}

#[test]
fn fractions_are_parsed_exactly() {
    assert_eq!(Fraction::parse("1/3"), Fraction::new(1, 3));
    assert_eq!(Fraction::parse("0.1"), Fraction::new(1, 10));
    assert_eq!(Fraction::parse("2.50"), Fraction::new(5, 2));
    assert_eq!(Fraction::parse("0.5/3"), Fraction::new(1, 6));
    assert_eq!(Fraction::parse("12"), Fraction::new(12, 1));
    for bad in ["0", "-1", "1/0", "abc", "", "1e3", "."] {
        assert_eq!(Fraction::parse(bad), None, "{bad}");
    }
}
