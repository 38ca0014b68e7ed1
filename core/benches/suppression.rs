//! Secondary suppression and the audit on tables built from `amparo synth`
//! microdata (Colombia-like stock, 10^5 children): department x age band x
//! sex (protection LPs) and department x nationality x age band x sex
//! (hypercube patterns for `interval`, elimination for `fast`); the audit
//! alone on each table `interval` protected. Run with
//! `cargo bench -p amparo-core --bench suppression`.

use std::path::Path;

use amparo::Policy;
use amparo::synth::{Mode, SynthOptions, SynthReader};
use amparo::{Cube, Protected};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};

fn policy(dimensions: &str, method: &str, audit: bool) -> Policy {
    let text = format!(
        "version = 1\n[input]\nkind = \"microdata\"\n{dimensions}\n[primary]\nthreshold = 5\n[secondary]\nmethod = \"{method}\"\n[audit]\nenabled = {audit}\n"
    );
    Policy::from_toml(&text, Path::new(".")).unwrap()
}

const SMALL: &str = "[dimensions.department]\ncolumn = \"admin1\"\ncode_lengths = [3, 5]\n\
                     [dimensions.age_band]\ncolumn = \"age_band_census\"\ntree = { \"0-17\" = [\"0-4\", \"5-9\", \"10-14\", \"15-17\"] }\n\
                     [dimensions.sex]\n";
const LARGE: &str = "[dimensions.department]\ncolumn = \"admin1\"\ncode_lengths = [3, 5]\n[dimensions.nationality]\n\
                     [dimensions.age_band]\ncolumn = \"age_band_census\"\ntree = { \"0-17\" = [\"0-4\", \"5-9\", \"10-14\", \"15-17\"] }\n\
                     [dimensions.sex]\n";

fn records() -> SynthReader {
    SynthReader::new(SynthOptions { records: 100_000, mode: Mode::Stock, countries: vec!["COL".to_owned()], seed: 1, ..SynthOptions::default() }).unwrap()
}

fn protect(p: &Policy) -> Protected {
    amparo::protect(p, &mut records()).unwrap()
}

fn cube(p: &Policy) -> Cube {
    amparo::build_cube(p, &mut records()).unwrap()
}

fn suppression(c: &mut Criterion) {
    let mut group = c.benchmark_group("suppression");
    group.sample_size(10);
    for (name, dims, methods) in [("department x age x sex", SMALL, &["interval", "fast"][..]), ("department x nationality x age x sex", LARGE, &["interval", "fast"][..])] {
        let cells = cube(&policy(dims, "none", false)).len();
        for &method in methods {
            // `interval` is checked by its audit; `fast` runs without it here.
            let p = policy(dims, method, method == "interval");
            group.bench_with_input(BenchmarkId::new(format!("{method} ({})", if method == "interval" { "with its audit" } else { "no audit" }), format!("{name}, {cells} cells")), &p, |b, p| {
                b.iter(|| protect(p))
            });
        }
    }
    group.finish();
}

fn audit(c: &mut Criterion) {
    let mut group = c.benchmark_group("audit");
    group.sample_size(10);
    // (The audit of `fast`'s output of the larger table, 12.5k hidden cells of
    // which many are exposed, takes about a minute: bench/tables.sh measures
    // audits of that kind.)
    for (name, dims, method) in [("department x age x sex", SMALL, "interval"), ("department x nationality x age x sex", LARGE, "interval")] {
        let p = policy(dims, method, method == "interval");
        let protected = protect(&p);
        let hidden = protected.marks.published.iter().filter(|v| v.is_none()).count();
        let limit = p.file.audit.interval_limit;
        let promise = amparo::rules::OutsiderPromise::of(&p.file.primary, false);
        group.bench_function(BenchmarkId::new(format!("after {method}"), format!("{name}, {} cells, {hidden} hidden", protected.cube.len())), |b| {
            b.iter_batched(
                || protected.marks.clone(),
                |mut marks| amparo::audit::run(&protected.cube, &mut marks, limit, true, promise.as_ref(), None).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, suppression, audit);
criterion_main!(benches);
