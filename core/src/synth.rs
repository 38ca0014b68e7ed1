//! Synthetic microdata of children on the move, following the shapes of
//! published statistics (the project's DATA.md: UNHCR, US CBP, Mexico's
//! UPMRIP, Panama, Chile's INE/SERMIG, Colombia): six countries with their
//! real numbers of admin-1 and admin-2 units (codes nest by prefix), points
//! of entry, daily dates with seasonality and waves, a long tail of 60
//! nationalities under 5 world regions, single years of age, sex,
//! accompaniment, migratory status, and families whose children share place,
//! date, nationality and status. In flow mode a record is an event (a child
//! counted at each crossing), in stock mode a child.
//!
//! Records are produced batch by batch ([`SynthReader`] is a
//! `RecordBatchReader`), so any number of them streams to a file in bounded
//! memory. The "world" (units, points of entry, each country's ranking of
//! nationalities) is the same for every seed; the seed draws the records.

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use rand_core::Rng;

use crate::error::Fallible;
use crate::fail;
use crate::random::Generator;

/// Records per batch.
pub const BATCH_ROWS: usize = 1 << 16;

/// Country, share of children, admin-1 units, admin-2 units, points of entry.
const COUNTRIES: [(&str, f64, usize, usize, usize); 6] = [
    ("MEX", 0.30, 32, 2475, 60),
    ("COL", 0.30, 33, 1122, 30),
    ("CHL", 0.15, 16, 346, 12),
    ("PAN", 0.15, 13, 82, 8),
    ("HND", 0.05, 18, 298, 6),
    ("SLV", 0.05, 14, 44, 3),
];

/// 60 nationalities (ISO 3166-1 alpha-3) under 5 world regions.
pub const NATIONALITIES: [(&str, &str); 60] = [
    ("VEN", "AMERICAS"), ("HTI", "AMERICAS"), ("COL", "AMERICAS"), ("ECU", "AMERICAS"), ("HND", "AMERICAS"),
    ("GTM", "AMERICAS"), ("SLV", "AMERICAS"), ("NIC", "AMERICAS"), ("CUB", "AMERICAS"), ("PER", "AMERICAS"),
    ("BOL", "AMERICAS"), ("MEX", "AMERICAS"), ("DOM", "AMERICAS"), ("BRA", "AMERICAS"), ("CHL", "AMERICAS"),
    ("PRY", "AMERICAS"), ("ARG", "AMERICAS"), ("URY", "AMERICAS"), ("PAN", "AMERICAS"), ("CRI", "AMERICAS"),
    ("AFG", "ASIA"), ("CHN", "ASIA"), ("IND", "ASIA"), ("NPL", "ASIA"), ("BGD", "ASIA"),
    ("PAK", "ASIA"), ("UZB", "ASIA"), ("VNM", "ASIA"), ("LKA", "ASIA"), ("IRN", "ASIA"),
    ("SYR", "ASIA"), ("YEM", "ASIA"), ("KAZ", "ASIA"), ("PHL", "ASIA"),
    ("SEN", "AFRICA"), ("CMR", "AFRICA"), ("GIN", "AFRICA"), ("AGO", "AFRICA"), ("COD", "AFRICA"),
    ("GHA", "AFRICA"), ("NGA", "AFRICA"), ("SOM", "AFRICA"), ("ERI", "AFRICA"), ("ETH", "AFRICA"),
    ("MLI", "AFRICA"), ("BFA", "AFRICA"), ("SLE", "AFRICA"), ("MRT", "AFRICA"),
    ("RUS", "EUROPE"), ("UKR", "EUROPE"), ("TUR", "EUROPE"), ("GEO", "EUROPE"), ("ESP", "EUROPE"),
    ("ITA", "EUROPE"), ("ROU", "EUROPE"), ("ALB", "EUROPE"),
    ("USA", "OTHER"), ("CAN", "OTHER"), ("AUS", "OTHER"), ("XXX", "OTHER"),
];

const FLOW_STATUSES: [&str; 3] = ["irregular", "asylum_seeker", "other"];
const STOCK_STATUSES: [&str; 4] = ["regular", "in_regularisation", "irregular", "refugee_asylum"];

/// Stock (a child per record) or flow (an event per record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Stock,
    Flow,
}

impl std::str::FromStr for Mode {
    type Err = crate::Error;
    fn from_str(s: &str) -> Fallible<Mode> {
        match s {
            "stock" => Ok(Mode::Stock),
            "flow" => Ok(Mode::Flow),
            other => fail!(Policy, "mode `{other}`: use stock (a record per child) or flow (a record per event)"),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub records: u64,
    pub mode: Mode,
    /// Country codes (MEX, COL, CHL, PAN, HND, SLV); empty: all six.
    pub countries: Vec<String>,
    /// Years of dates (1 to 5), from `first_year`.
    pub years: u32,
    pub first_year: i32,
    pub seed: u64,
}

impl Default for SynthOptions {
    fn default() -> SynthOptions {
        SynthOptions { records: 10_000, mode: Mode::Flow, countries: Vec::new(), years: 1, first_year: 2024, seed: 1 }
    }
}

/// A categorical draw from fixed weights (inverse CDF, binary search).
#[derive(Debug, Clone)]
struct Weighted {
    cdf: Vec<f64>,
}

impl Weighted {
    fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut cdf: Vec<f64> = Vec::new();
        let mut total = 0.0;
        for w in weights {
            total += w;
            cdf.push(total);
        }
        cdf.iter_mut().for_each(|c| *c /= total);
        Weighted { cdf }
    }
    fn zipf(n: usize, s: f64) -> Weighted {
        Weighted::new((1..=n).map(|k| 1.0 / (k as f64).powf(s)))
    }
    fn draw(&self, u: f64) -> usize {
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

struct Country {
    code: &'static str,
    /// Per admin-1: its admin-2 codes' range in `admin2_of`, and the draw within it.
    admin1: Vec<(String, Vec<String>, Weighted)>,
    admin1_draw: Weighted,
    /// Points of entry: code, admin-1 index, admin-2 index.
    points: Vec<(String, usize, usize)>,
    point_draw: Weighted,
    /// The country's ranking of nationalities (indexes into NATIONALITIES).
    ranking: Vec<usize>,
}

/// One family's shared draws.
struct Family {
    country: usize,
    admin1: usize,
    admin2: usize,
    point: usize,
    day: u32,
    nationality: usize,
    status: &'static str,
}

/// The generator: a `RecordBatchReader` of synthetic records.
pub struct SynthReader {
    options: SynthOptions,
    schema: SchemaRef,
    rng: Generator,
    countries: Vec<Country>,
    country_draw: Weighted,
    nationality_draw: Weighted,
    /// Children per family: 1, 2, 3, 4 or more.
    family_size: Weighted,
    /// A singleton's accompaniment: accompanied, separated, unaccompanied.
    singleton: Weighted,
    status_draw: Weighted,
    /// Flow mode's age bands 0-4, 5-11, 12-17.
    age_band: Weighted,
    days: u32,
    emitted: u64,
    next_family: u64,
    next_person: u64,
}

/// One record, as it goes into a batch.
struct Record<'a> {
    country: &'a str,
    admin1: &'a str,
    admin2: &'a str,
    point: Option<&'a str>,
    day: u32,
    nationality: &'static str,
    age: u32,
    sex: &'static str,
    accompaniment: &'static str,
    status: &'static str,
    family: u64,
    person: u64,
    key: f64,
}

impl SynthReader {
    pub fn new(options: SynthOptions) -> Fallible<SynthReader> {
        if !(1..=5).contains(&options.years) {
            fail!(Policy, "years = {}: generate 1 to 5 years", options.years);
        }
        if options.records == 0 {
            fail!(Policy, "records = 0: generate at least one record");
        }
        let chosen: Vec<usize> = if options.countries.is_empty() {
            (0..COUNTRIES.len()).collect()
        } else {
            options
                .countries
                .iter()
                .map(|c| {
                    COUNTRIES.iter().position(|k| k.0 == c.as_str()).ok_or_else(|| {
                        crate::err!(Policy, "country `{c}`: the generator knows {}", COUNTRIES.iter().map(|k| k.0).collect::<Vec<_>>().join(", "))
                    })
                })
                .collect::<Fallible<_>>()?
        };
        // The world is fixed: built from its own seed, whatever the records' seed.
        let mut world = crate::random::seeded(0x416d_7061_726f);
        let countries: Vec<Country> = chosen.iter().map(|&i| build_country(i, &mut world)).collect();
        let country_draw = Weighted::new(chosen.iter().map(|&i| COUNTRIES[i].1));
        let mut fields = vec![
            Field::new("country", DataType::Utf8, false),
            Field::new("admin1", DataType::Utf8, false),
            Field::new("admin2", DataType::Utf8, false),
        ];
        if options.mode == Mode::Flow {
            fields.push(Field::new("point_of_entry", DataType::Utf8, false));
        }
        fields.extend([
            Field::new("date", DataType::Utf8, false),
            Field::new("month", DataType::Utf8, false),
            Field::new("year", DataType::Utf8, false),
            Field::new("nationality", DataType::Utf8, false),
            Field::new("age", DataType::Utf8, false),
            // The bands tables publish: UNHCR's, Mexico's, the censuses'.
            Field::new("age_band", DataType::Utf8, false),
            Field::new("age_group", DataType::Utf8, false),
            Field::new("age_band_census", DataType::Utf8, false),
            Field::new("sex", DataType::Utf8, false),
            Field::new("accompaniment", DataType::Utf8, false),
            Field::new("migratory_status", DataType::Utf8, false),
            Field::new("family_id", DataType::UInt64, false),
            Field::new("child_id", DataType::UInt64, false),
            Field::new("record_key", DataType::Float64, false),
        ]);
        Ok(SynthReader {
            rng: crate::random::seeded(options.seed),
            days: 365 * options.years,
            schema: Arc::new(Schema::new(fields)),
            countries,
            country_draw,
            nationality_draw: Weighted::zipf(NATIONALITIES.len(), 1.6),
            family_size: Weighted::new([0.45, 0.30, 0.15, 0.10]),
            // 22.5% of children are singletons: 3% unaccompanied and 1.5% separated overall.
            singleton: Weighted::new([0.8, 0.067, 0.133]),
            status_draw: match options.mode {
                Mode::Flow => Weighted::new([0.9, 0.05, 0.05]),
                Mode::Stock => Weighted::new([0.55, 0.15, 0.25, 0.05]),
            },
            age_band: Weighted::new([0.38, 0.35, 0.27]),
            options,
            emitted: 0,
            next_family: 0,
            next_person: 0,
        })
    }


    fn below(&mut self, n: u32) -> u32 {
        crate::random::uniform_below(&mut self.rng, n as u64) as u32
    }

    /// A day with seasonality (+-30% over the year) and three waves a year (x3 for a month).
    fn day(&mut self) -> u32 {
        loop {
            let day = self.below(self.days);
            let doy = (day % 365) as f64;
            let mut weight = 1.0 + 0.3 * (2.0 * std::f64::consts::PI * doy / 365.0).sin();
            let year = (day / 365) as u64;
            for wave in 0..3u64 {
                let centre = (splitmix(year * 3 + wave) % 365) as f64;
                if (doy - centre).abs() < 15.0 {
                    weight *= 3.0;
                }
            }
            if uniform(&mut self.rng) * 3.9 < weight {
                return day;
            }
        }
    }

    fn family(&mut self) -> Family {
        let country = self.country_draw.draw(uniform(&mut self.rng));
        let mode = self.options.mode;
        let c = &self.countries[country];
        // Flow: where the point of entry is; stock: an admin-1 unit, then an admin-2 unit in it.
        let (admin1, admin2, point) = if mode == Mode::Flow {
            let p = c.point_draw.draw(uniform(&mut self.rng));
            (c.points[p].1, c.points[p].2, p)
        } else {
            let a1 = c.admin1_draw.draw(uniform(&mut self.rng));
            (a1, c.admin1[a1].2.draw(uniform(&mut self.rng)), 0)
        };
        let nationality = self.countries[country].ranking[self.nationality_draw.draw(uniform(&mut self.rng))];
        let day = self.day();
        let k = self.status_draw.draw(uniform(&mut self.rng));
        let status = match mode {
            Mode::Flow => FLOW_STATUSES[k],
            Mode::Stock => STOCK_STATUSES[k],
        };
        Family { country, admin1, admin2, point, day, nationality, status }
    }

    fn next_batch(&mut self) -> Option<RecordBatch> {
        let wanted = (self.options.records - self.emitted).min(BATCH_ROWS as u64) as usize;
        if wanted == 0 {
            return None;
        }
        let mut b = Builders::new(wanted, self.options.mode == Mode::Flow);
        let first_year = self.options.first_year;
        while b.rows < wanted {
            let family = self.family();
            self.next_family += 1;
            let size = match self.family_size.draw(uniform(&mut self.rng)) {
                3 => 4 + self.below(3) as usize,
                k => k + 1,
            };
            let mut age = self.first_age();
            for child in 0..size {
                if child > 0 {
                    let step = 1 + self.below(4) as i64;
                    let next = if self.below(2) == 0 { age as i64 + step } else { age as i64 - step };
                    age = next.clamp(0, 17) as u32;
                }
                // Singletons carry the unaccompanied and separated children.
                let accompaniment = if size == 1 {
                    ["accompanied", "separated", "unaccompanied"][self.singleton.draw(uniform(&mut self.rng))]
                } else {
                    "accompanied"
                };
                if accompaniment == "unaccompanied" && uniform(&mut self.rng) < 0.8 {
                    age = 12 + self.below(6);
                }
                let male = if accompaniment == "unaccompanied" { 0.78 } else { 0.505 };
                let u = uniform(&mut self.rng);
                let sex = if u < 0.005 { "U" } else if u < 0.005 + male { "M" } else { "F" };
                let key = (self.rng.next_u32() as f64) / 4_294_967_296.0;
                let person = self.next_person;
                self.next_person += 1;
                let events = if self.options.mode == Mode::Flow { 1 + poisson(uniform(&mut self.rng), 0.15) } else { 1 };
                for event in 0..events {
                    if b.rows == wanted {
                        break;
                    }
                    let day = if event == 0 { family.day } else { self.day() };
                    let c = &self.countries[family.country];
                    let (admin1, admin2s, _) = &c.admin1[family.admin1];
                    let record = Record {
                        country: c.code,
                        admin1,
                        admin2: &admin2s[family.admin2],
                        point: (self.options.mode == Mode::Flow).then(|| c.points[family.point].0.as_str()),
                        day,
                        nationality: NATIONALITIES[family.nationality].0,
                        age,
                        sex,
                        accompaniment,
                        status: family.status,
                        family: self.next_family,
                        person,
                        key,
                    };
                    b.push(&record, first_year);
                }
            }
        }
        self.emitted += b.rows as u64;
        crate::progress::report("generating records", self.emitted, Some(self.options.records));
        Some(b.finish(self.schema.clone()))
    }

    /// The first child's age: flow 0-4 38%, 5-11 35%, 12-17 27%; stock flat.
    fn first_age(&mut self) -> u32 {
        match self.options.mode {
            Mode::Stock => self.below(18),
            Mode::Flow => match self.age_band.draw(uniform(&mut self.rng)) {
                0 => self.below(5),
                1 => 5 + self.below(7),
                _ => 12 + self.below(6),
            },
        }
    }
}

impl Iterator for SynthReader {
    type Item = Result<RecordBatch, ArrowError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().map(Ok)
    }
}

impl RecordBatchReader for SynthReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

const AGES: [&str; 18] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17"];

struct Builders {
    rows: usize,
    date: String,
    text: Vec<StringBuilder>,
    point: Option<StringBuilder>,
    ids: [UInt64Builder; 2],
    key: Float64Builder,
}

impl Builders {
    fn new(rows: usize, flow: bool) -> Builders {
        Builders {
            rows: 0,
            date: String::with_capacity(10),
            text: (0..14).map(|_| StringBuilder::with_capacity(rows, rows * 8)).collect(),
            point: flow.then(|| StringBuilder::with_capacity(rows, rows * 12)),
            ids: [UInt64Builder::with_capacity(rows), UInt64Builder::with_capacity(rows)],
            key: Float64Builder::with_capacity(rows),
        }
    }

    fn push(&mut self, r: &Record<'_>, first_year: i32) {
        use std::fmt::Write;
        let (year, month, day) = civil_date(first_year, r.day);
        self.date.clear();
        let _ = write!(self.date, "{year:04}-{month:02}-{day:02}");
        let age = r.age as usize;
        let values: [&str; 14] = [
            r.country,
            r.admin1,
            r.admin2,
            &self.date,
            &self.date[..7],
            &self.date[..4],
            r.nationality,
            AGES[age],
            ["0-4", "5-11", "12-17"][match age { 0..=4 => 0, 5..=11 => 1, _ => 2 }],
            if age < 12 { "0-11" } else { "12-17" },
            ["0-4", "5-9", "10-14", "15-17"][(age / 5).min(3)],
            r.sex,
            r.accompaniment,
            r.status,
        ];
        for (builder, value) in self.text.iter_mut().zip(values) {
            builder.append_value(value);
        }
        if let (Some(b), Some(p)) = (self.point.as_mut(), r.point) {
            b.append_value(p);
        }
        self.ids[0].append_value(r.family);
        self.ids[1].append_value(r.person);
        self.key.append_value(r.key);
        self.rows += 1;
    }

    fn finish(mut self, schema: SchemaRef) -> RecordBatch {
        let mut text: Vec<ArrayRef> = self.text.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        let mut columns: Vec<ArrayRef> = text.drain(..3).collect();
        if let Some(mut p) = self.point.take() {
            columns.push(Arc::new(p.finish()));
        }
        columns.extend(text);
        columns.push(Arc::new(self.ids[0].finish()));
        columns.push(Arc::new(self.ids[1].finish()));
        columns.push(Arc::new(self.key.finish()));
        RecordBatch::try_new(schema, columns).expect("the builders follow the schema")
    }
}

/// Country `i`'s units, points of entry and ranking of nationalities.
fn build_country(i: usize, world: &mut Generator) -> Country {
    let (code, _, n1, n2, n_points) = COUNTRIES[i];
    // Admin-2 units spread over admin-1 units like the people (Zipf 0.9), at least one each.
    let shares = Weighted::zipf(n1, 0.9);
    let mut sizes: Vec<usize> = (0..n1)
        .map(|k| {
            let share = shares.cdf[k] - if k == 0 { 0.0 } else { shares.cdf[k - 1] };
            1 + ((n2 - n1) as f64 * share).floor() as usize
        })
        .collect();
    let short = n2 - sizes.iter().sum::<usize>();
    sizes[0] += short;
    let admin1: Vec<(String, Vec<String>, Weighted)> = sizes
        .iter()
        .enumerate()
        .map(|(k, &m)| {
            let a1 = format!("{code}{:02}", k + 1);
            let units = (1..=m).map(|j| format!("{a1}{j:03}")).collect();
            (a1, units, Weighted::zipf(m, 1.1))
        })
        .collect();
    // Points of entry in the largest admin-1 units' first admin-2 units, round robin.
    let points = (0..n_points)
        .map(|p| {
            let a1 = p % n1.min(8);
            let a2 = (p / n1.min(8)) % sizes[a1];
            (format!("{code}-P{:02}", p + 1), a1, a2)
        })
        .collect();
    // Each country ranks nationalities its own way: the region's neighbours
    // first, shuffled a little.
    let mut ranking: Vec<usize> = (0..NATIONALITIES.len()).collect();
    for k in (1..ranking.len()).rev() {
        let j = (world.next_u64() % (k as u64 + 1)) as usize;
        if k < 20 || world.next_u64() % 4 == 0 {
            ranking.swap(k, j.min(if k < 20 { 19 } else { k }));
        }
    }
    Country { code, admin1, admin1_draw: Weighted::zipf(n1, 0.9), points, point_draw: Weighted::zipf(n_points, 1.5), ranking }
}

/// A uniform draw in [0, 1) with 53 random bits.
fn uniform(rng: &mut Generator) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Poisson(lambda) by inversion (lambda small).
fn poisson(u: f64, lambda: f64) -> usize {
    let (mut k, mut p) = (0usize, (-lambda).exp());
    let mut cdf = p;
    while u > cdf && k < 20 {
        k += 1;
        p *= lambda / k as f64;
        cdf += p;
    }
    k
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Day `n` (0-based, 365-day years) of the years from `first_year` as (year, month, day).
fn civil_date(first_year: i32, n: u32) -> (i32, u32, u32) {
    const MONTH_DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let year = first_year + (n / 365) as i32;
    let mut doy = n % 365;
    for (m, &len) in MONTH_DAYS.iter().enumerate() {
        if doy < len {
            return (year, m as u32 + 1, doy + 1);
        }
        doy -= len;
    }
    unreachable!("a day of the year is below 365")
}

/// Generate into a new file (format by extension), batch by batch; returns the records written.
pub fn write_synth(options: SynthOptions, path: &std::path::Path, overwrite: bool) -> Fallible<u64> {
    crate::io::check_output_path(path, &[], overwrite)?;
    let records = options.records;
    let mut reader = SynthReader::new(options)?;
    crate::io::write_stream(&mut reader, path, None)?;
    Ok(records)
}

/// Most records [`synth_table`] holds in memory; more go to a file.
pub const MAX_IN_MEMORY: u64 = 20_000_000;

/// Generate into one table in memory (Python's and R's `synth()` without a path).
pub fn synth_table(options: SynthOptions) -> Fallible<arrow_array::RecordBatch> {
    if options.records > MAX_IN_MEMORY {
        fail!(
            Policy,
            "records = {}: more than {MAX_IN_MEMORY} records are written to a file, not held in memory; give a path (a .parquet file is read back a batch at a time)",
            options.records
        );
    }
    let reader = SynthReader::new(options)?;
    let schema = arrow_array::RecordBatchReader::schema(&reader);
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| crate::err!(Data, "generating the records: {e}"))?;
    arrow_select::concat::concat_batches(&schema, &batches).map_err(|e| crate::err!(Data, "generating the records: {e}"))
}

/// The nationality codes table (code, parent): nationalities under their regions.
pub fn nationality_codes_csv() -> String {
    let mut out = String::from("code,parent\n");
    for region in ["AMERICAS", "ASIA", "AFRICA", "EUROPE", "OTHER"] {
        out.push_str(&format!("{region},\n"));
    }
    for (code, region) in NATIONALITIES {
        out.push_str(&format!("{code},{region}\n"));
    }
    out
}
