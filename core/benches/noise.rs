//! Exact noise sampling: draws per second of the discrete Laplace and the
//! discrete Gaussian at scales (standard deviations) 1, 2, 10 and 1000, with
//! the secure generator (ChaCha20 seeded by the operating system), one core.
//! Run with `cargo bench -p amparo-core --bench noise` (or bench/noise.sh).

use amparo::noise::sample::{discrete_laplace, DiscreteGaussian, Fraction, RandomBits};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const BATCH: u64 = 100_000;

fn samplers(c: &mut Criterion) {
    let (rng, _) = amparo::random::generator(None).unwrap();
    let mut rng = RandomBits::new(rng);
    let mut group = c.benchmark_group("noise");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);
    for scale in [1u64, 2, 10, 1000] {
        let laplace = Fraction::new(scale, 1).unwrap();
        group.bench_with_input(BenchmarkId::new("discrete_laplace", scale), &laplace, |b, &s| {
            b.iter(|| (0..BATCH).map(|_| discrete_laplace(&mut rng, s)).fold(0i64, i64::wrapping_add))
        });
        let gaussian = DiscreteGaussian::new(Fraction::new(scale * scale, 1).unwrap());
        group.bench_with_input(BenchmarkId::new("discrete_gaussian", scale), &gaussian, |b, g| {
            b.iter(|| (0..BATCH).map(|_| g.sample(&mut rng)).fold(0i64, i64::wrapping_add))
        });
    }
    group.finish();
}

criterion_group!(benches, samplers);
criterion_main!(benches);
