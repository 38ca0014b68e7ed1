//! `amparo`: protect tables of counts before publication, from the command line.
//!
//! Exit codes: 0 success (`audit`: the table is safe); 1 the audit found
//! cells an attacker can narrow below their protection (`protect` still writes
//! the table: do not publish it); 2 the run could not be done (bad input, bad
//! policy, unreadable file), with the reason on standard error.
//!
//! A library as well as the `amparo` binary: the Python wheel's `amparo`
//! command runs [`main_with_args`], so `pip install amparo` gives the same
//! command without a Rust toolchain.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use amparo::{Fallible, OutputOptions, Policy};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "amparo", version, about = "Statistical disclosure control for tables of counts of children on the move")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Report progress of long runs on standard error (rows read, cells
    /// protected), a line every few seconds. On by default when standard
    /// error is a terminal.
    #[arg(long, global = true)]
    progress: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Build the table from the input and protect it as the policy says.
    Protect {
        /// The policy file (TOML).
        #[arg(long, short)]
        policy: PathBuf,
        /// Input table: .csv, .parquet, .arrow/.feather or .arrows.
        input: PathBuf,
        /// Output table: .csv (with a .meta.json beside it), .parquet, .arrow or .arrows.
        /// For a policy with [tables] (linked tables): a folder, one <table>.csv in it each.
        #[arg(long, short)]
        output: PathBuf,
        /// Add the original counts as a `value` column (never publish such a file).
        #[arg(long)]
        keep_original: bool,
        /// Also write the publication file here (as `amparo publish` does),
        /// when the audit passed: .csv, .sdmx.csv, .xlsx, .parquet, .arrow.
        /// The output (-o) is the producer's table, NOT for publication.
        #[arg(long)]
        publish_to: Option<PathBuf>,
        /// Replace output files that already exist.
        #[arg(long)]
        overwrite: bool,
        /// How to print what the protection did and cost: text (default), or
        /// json (per table: cells hidden by status and reason, children
        /// hidden, each level's share hidden, or the changes' sizes and
        /// distribution; with the files written).
        #[arg(long, default_value = "text")]
        format: String,
        /// Language of the summary: en or es (default: from LC_ALL / LC_MESSAGES / LANG, else en).
        #[arg(long)]
        lang: Option<String>,
    },
    /// Write the file people publish from a protected table: the dimension
    /// columns and the published values, one marker in every hidden cell,
    /// nothing else (no status, reason, interval or original count).
    /// Refuses a table whose audit failed or that another policy made.
    Publish {
        #[arg(long, short)]
        policy: PathBuf,
        /// The protected table(s) `amparo protect` wrote (for a policy with
        /// [tables]: one per table in the policy's order, or the folder).
        #[arg(num_args = 1.., required = true)]
        table: Vec<PathBuf>,
        /// The publication: .csv, .sdmx.csv (SDMX-CSV), .xlsx (Excel), .parquet,
        /// .arrow or .arrows. Linked tables: a folder, or one .xlsx workbook.
        #[arg(long, short)]
        output: PathBuf,
        /// long (a row per cell) or wide (one dimension across the columns;
        /// [publication] across). Default: the policy's [publication] layout.
        #[arg(long)]
        layout: Option<String>,
        /// csv, sdmx, xlsx, parquet, arrow or arrows (default: from the output's name).
        #[arg(long)]
        format: Option<String>,
        /// Replace output files that already exist.
        #[arg(long)]
        overwrite: bool,
    },
    /// Check the input against the policy (columns, codes, counts, margins); changes nothing.
    Validate {
        #[arg(long, short)]
        policy: PathBuf,
        input: PathBuf,
    },
    /// Audit a table as it will be published (one Amparo did not make, too):
    /// no visible cell below the threshold, the published cells add up, and no
    /// hidden cell can be shown to be below the threshold or computed exactly.
    Audit {
        #[arg(long, short)]
        policy: PathBuf,
        /// The published table: dimension columns, and the published values.
        /// For a policy with [tables] (linked tables): one per table, in the
        /// policy's order, or the folder that holds one <table>.<ext> each.
        #[arg(num_args = 1.., required = true)]
        table: Vec<PathBuf>,
        /// Column of published values (default: `published`, OBS_VALUE in SDMX-CSV,
        /// else the policy's [publication] value_column, [input] count, or `count`).
        #[arg(long)]
        value_column: Option<String>,
        /// Marks of a hidden cell, comma-separated (default: empty, NA, .., x, c, -, *).
        #[arg(long, value_delimiter = ',')]
        hidden_symbols: Option<Vec<String>>,
        /// Report format: text (default), json (schema: `amparo schema --audit-report`),
        /// junit (a test suite per table, a test case per check), github (workflow
        /// annotations), html (a self-contained page with a heat map of each table).
        #[arg(long, default_value = "text")]
        format: String,
        /// Also write a Markdown summary here (with --format github, default: $GITHUB_STEP_SUMMARY).
        #[arg(long)]
        summary: Option<PathBuf>,
        /// Language of the report: en or es (default: from LC_ALL / LC_MESSAGES / LANG, else en).
        #[arg(long)]
        lang: Option<String>,
    },
    /// Why one cell of a published table is hidden or flagged, and which of the
    /// hidden cells beside it would reveal it if they were published.
    Explain {
        #[arg(long, short)]
        policy: PathBuf,
        /// The published table (for a policy with [tables]: one per table, in the policy's order).
        #[arg(num_args = 1.., required = true)]
        table: Vec<PathBuf>,
        /// The cell, as dimension=code pairs: `district=D01,sex=F` (a dimension left out is its total).
        #[arg(required = true)]
        cell: String,
        #[arg(long)]
        value_column: Option<String>,
        /// Marks of a hidden cell, comma-separated (default: empty, NA, .., x, c, -, *).
        #[arg(long, value_delimiter = ',')]
        hidden_symbols: Option<Vec<String>>,
        /// Language: en or es (default: from the locale, else en).
        #[arg(long)]
        lang: Option<String>,
    },
    /// Give every record of a microdata file a record key for the cell key
    /// method: writes a new file with one more column (never over the input).
    /// Do it once and keep the keyed file: the same records must keep the
    /// same keys in every release.
    Keys {
        /// Microdata: .csv, .parquet, .arrow/.feather or .arrows.
        input: PathBuf,
        /// The keyed copy (format by extension); must not exist yet.
        #[arg(long, short)]
        output: PathBuf,
        /// Name of the new column of keys in [0, 1).
        #[arg(long, default_value = "record_key")]
        column: String,
        /// Draw the keys from this seed (reproducible, for tests) instead of the operating system's secure source.
        #[arg(long)]
        seed: Option<u64>,
        /// Replace the output if it exists (keys are kept across releases: replace only keys never used).
        #[arg(long)]
        overwrite: bool,
    },
    /// Generate synthetic microdata of children on the move (the shapes of
    /// published statistics: six countries, their admin units, a long tail of
    /// nationalities, families), streamed batch by batch to a new file.
    Synth {
        /// Number of records.
        #[arg(long, short = 'n', default_value_t = 10_000)]
        records: u64,
        /// stock (a record per child) or flow (a record per event: children counted at each crossing).
        #[arg(long, default_value = "flow")]
        mode: String,
        /// Countries, comma-separated (default: MEX, COL, CHL, PAN, HND, SLV).
        #[arg(long, value_delimiter = ',')]
        countries: Vec<String>,
        /// Years of dates (1 to 5).
        #[arg(long, default_value_t = 1)]
        years: u32,
        #[arg(long, default_value_t = 2024)]
        first_year: i32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The new file: .parquet, .csv, .arrow or .arrows.
        #[arg(long, short)]
        output: PathBuf,
        /// Also write the nationality codes table (code, parent: nationalities under world regions) here.
        #[arg(long)]
        nationality_codes: Option<PathBuf>,
        /// Replace output files that already exist.
        #[arg(long)]
        overwrite: bool,
    },
    /// Print the JSON Schema of the policy file (or, with --audit-report, of `audit --format json`).
    Schema {
        #[arg(long)]
        audit_report: bool,
    },
}

/// Progress on standard error: rewritten in place on a terminal, else a
/// line at most every `LOG_EVERY` (for CI logs).
fn progress_sink() -> amparo::progress::Sink {
    use std::io::IsTerminal;
    const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
    let terminal = std::io::stderr().is_terminal();
    let start = std::time::Instant::now();
    let mut last: Option<(String, std::time::Instant)> = None;
    Box::new(move |stage: &str, done: u64, total: Option<u64>| {
        let now = std::time::Instant::now();
        let same_stage = last.as_ref().is_some_and(|(s, _)| s == stage);
        let finished = total == Some(done);
        if !terminal && same_stage && !finished && last.as_ref().is_some_and(|(_, t)| now.duration_since(*t) < LOG_EVERY) {
            return;
        }
        let of = total.map(|t| format!(" of {t}")).unwrap_or_default();
        let line = format!("amparo: {stage}: {done}{of} ({:.1} s)", start.elapsed().as_secs_f64());
        if terminal {
            let newline = if last.is_some() && !same_stage { "\n" } else { "" };
            eprint!("{newline}\r{line}\x1b[K");
        } else {
            eprintln!("{line}");
        }
        last = Some((stage.to_owned(), now));
    })
}

/// Run the command line `args` (the program's name first, as
/// `std::env::args_os` gives it) and return the exit code.
pub fn main_with_args<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    use std::io::IsTerminal;
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // --help and --version print and end with 0; a usage error with 2.
        Err(e) => {
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    // An interrupted run leaves no temporary file behind (outputs are
    // written to one beside the target, then moved into place).
    let _ = ctrlc::set_handler(|| {
        amparo::io::temp_files::remove_all();
        eprintln!("\namparo: interrupted; no output was written");
        std::process::exit(130);
    });
    let show_progress = cli.progress || std::io::stderr().is_terminal();
    let outcome = if show_progress {
        let outcome = amparo::progress::with_sink(progress_sink(), || run(cli.command));
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
        outcome
    } else {
        run(cli.command)
    };
    let code = match outcome {
        Ok(Verdict::Safe) => 0,
        Ok(Verdict::Unsafe) => 1,
        Err(e) => {
            eprintln!("amparo: {e}");
            2
        }
    };
    // Run from Python, no Rust runtime flushes standard output at exit.
    let _ = std::io::stdout().flush();
    code
}

fn load(policy: &Path, input: &Path) -> Fallible<(Policy, amparo::io::BatchReader)> {
    let policy = Policy::from_file(policy)?;
    let reader = amparo::io::read_table(input)?;
    Ok((policy, reader))
}

enum Verdict {
    Safe,
    Unsafe,
}

fn run(command: Command) -> Fallible<Verdict> {
    match command {
        Command::Protect { policy: policy_path, input, output, keep_original, publish_to, overwrite, format, lang } => {
            let lang = amparo::i18n::Lang::resolve(lang.as_deref())?;
            let json = match format.as_str() {
                "text" => false,
                "json" => true,
                other => return Err(amparo::Error::new(amparo::ErrorKind::Policy, format!("--format {other} is not a summary format; use text or json"))),
            };
            let policy = Policy::from_file(&policy_path)?;
            let linked = policy.linked_tables();
            // One output file, or one per linked table inside the output folder.
            let paths: Vec<PathBuf> = if linked.is_empty() {
                vec![output.clone()]
            } else {
                linked.iter().map(|(name, _)| output.join(format!("{name}.csv"))).collect()
            };
            let mut reads: Vec<PathBuf> = vec![input.clone(), policy_path.clone()];
            reads.extend(policy.read_files());
            let read_refs: Vec<&Path> = reads.iter().map(PathBuf::as_path).collect();
            for path in paths.iter().chain(&publish_to) {
                amparo::io::check_output_path(path, &read_refs, overwrite)?;
            }
            if publish_to.as_ref().is_some_and(|p| paths.contains(p)) {
                return Err(amparo::Error::new(amparo::ErrorKind::Io, "--publish-to and -o name the same file; the publication and the producer's table are two files"));
            }
            let mut reader = amparo::io::read_table(&input)?;
            let clock = std::time::Instant::now();
            let results = if linked.is_empty() {
                vec![(String::new(), amparo::protect(&policy, &mut *reader)?)]
            } else {
                std::fs::create_dir_all(&output).map_err(|e| {
                    amparo::Error::new(amparo::ErrorKind::Io, format!("cannot create the output folder {}: {e}", output.display()))
                })?;
                amparo::protect_tables(&policy, &mut *reader)?
            };
            // Every table is written before any is moved into place.
            if std::env::var_os("AMPARO_DEBUG").is_some() {
                eprintln!("protect: protected at {:?}", clock.elapsed());
            }
            // In batches as they are written: one batch of text in memory, not the table's.
            let staged = paths
                .iter()
                .zip(&results)
                .map(|(p, (_, r))| {
                    // Rows built on one core while the other encodes them.
                    amparo::io::with_batches_ahead(r.record_batches(OutputOptions { keep_original }), |batches| {
                        amparo::io::stage_stream(batches, p, Some(&r.metadata))
                    })
                })
                .collect::<Fallible<Vec<_>>>()?;
            if std::env::var_os("AMPARO_DEBUG").is_some() {
                eprintln!("protect: written at {:?}", clock.elapsed());
            }
            amparo::io::commit_all(staged)?;
            let mut verdict = Verdict::Safe;
            let mut report = Vec::new();
            for ((_, result), path) in results.iter().zip(&paths) {
                let summary = result.summary();
                if json {
                    report.push(serde_json::json!({ "summary": summary, "written": path.display().to_string(), "audit_outcome": result.metadata.audit_outcome.as_str() }));
                } else {
                    println!("{}", summary.render(lang));
                    println!("{}", lang.text("cli.written", &[("path", path.display().to_string().into())]));
                }
                if !result.metadata.audit_outcome.publishable() {
                    verdict = Verdict::Unsafe;
                }
            }
            let mut published = Vec::new();
            if matches!(verdict, Verdict::Unsafe) {
                eprintln!(
                    "amparo: the table is not safe to publish (see the audit above): its audit failed or did not run; \
                     [secondary] method = \"interval\" with the audit on guarantees every protection level"
                );
            } else if let Some(target) = publish_to {
                let options = amparo::publish::PublishOptions { overwrite, ..Default::default() };
                for (path, _) in amparo::publish::publish_files(&policy, Some(&policy_path), std::slice::from_ref(&output), &target, &options)? {
                    if !json {
                        println!("published: {}", path.display());
                    }
                    published.push(path.display().to_string());
                }
            }
            if json {
                println!("{}", serde_json::json!({ "tables": report, "published": published, "safe": matches!(verdict, Verdict::Safe) }));
            }
            Ok(verdict)
        }
        Command::Publish { policy: policy_path, table, output, layout, format, overwrite } => {
            let policy = Policy::from_file(&policy_path)?;
            let options = amparo::publish::PublishOptions {
                format: format.as_deref().map(amparo::publish::PublicationFormat::from_name).transpose()?,
                layout: layout.as_deref().map(amparo::policy::Layout::from_name).transpose()?,
                overwrite,
            };
            let written = amparo::publish::publish_files(&policy, Some(&policy_path), &table, &output, &options)?;
            let mut verdict = Verdict::Safe;
            for (path, publication) in &written {
                println!("published: {} (table {}; hidden cells marked `{}`)", path.display(), publication.table, policy.file.publication.hidden_marker);
                if !publication.outcome.publishable() {
                    verdict = Verdict::Unsafe;
                    eprintln!("amparo: {}: its hidden cells were NOT AUDITED ([audit] skip); `amparo audit` fails such a table", path.display());
                }
            }
            Ok(verdict)
        }
        Command::Validate { policy, input } => {
            let (policy, mut reader) = load(&policy, &input)?;
            println!("{}", amparo::validate(&policy, &mut *reader)?);
            Ok(Verdict::Safe)
        }
        Command::Audit { policy, table, value_column, hidden_symbols, format, summary, lang } => {
            let format: amparo::audit::report::ReportFormat = format.parse()?;
            let lang = amparo::i18n::Lang::resolve(lang.as_deref())?;
            let audited = Policy::from_file(&policy).and_then(|policy| {
                let tables = amparo::audit::report::expand_linked_folder(&policy, &table)?;
                amparo::audit::report::audit_files(&policy, &tables, value_column.as_deref(), hidden_symbols.as_deref(), lang)
            });
            let report = match audited {
                Ok(report) => report,
                Err(e) => {
                    // A CI system that expects a report gets one, saying why there is no audit.
                    let names: Vec<String> = table.iter().map(|t| t.display().to_string()).collect();
                    print!("{}", amparo::audit::report::render_error(format, &names, &e.to_string()));
                    return Err(e);
                }
            };
            print!("{}", report.render(format));
            let summary = summary.or_else(|| {
                (format == amparo::audit::report::ReportFormat::Github).then(|| std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from)).flatten()
            });
            if let Some(path) = summary {
                // The step summary is appended to, as GitHub expects.
                use std::io::Write;
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| amparo::Error::new(amparo::ErrorKind::Io, format!("cannot write the summary to {}: {e}", path.display())))?;
                file.write_all(report.to_markdown().as_bytes()).map_err(amparo::Error::from)?;
            }
            Ok(if report.passed { Verdict::Safe } else { Verdict::Unsafe })
        }
        Command::Explain { policy, table, cell, value_column, hidden_symbols, lang } => {
            let lang = amparo::i18n::Lang::resolve(lang.as_deref())?;
            let policy = Policy::from_file(&policy)?;
            print!("{}", amparo::audit::explain::explain_files(&policy, &table, &cell, value_column.as_deref(), hidden_symbols.as_deref(), lang)?);
            Ok(Verdict::Safe)
        }
        Command::Keys { input, output, column, seed, overwrite } => {
            let randomness = amparo::cellkey::add_record_keys_to_file(&input, &output, &column, seed, overwrite)?;
            println!("record keys: column `{column}`, {}", randomness.describe());
            println!("written:     {}", output.display());
            Ok(Verdict::Safe)
        }
        Command::Synth { records, mode, countries, years, first_year, seed, output, nationality_codes, overwrite } => {
            let options = amparo::synth::SynthOptions { records, mode: mode.parse()?, countries, years, first_year, seed };
            if let Some(path) = &nationality_codes {
                amparo::io::check_output_path(path, &[&output], overwrite)?;
            }
            let written = amparo::synth::write_synth(options, &output, overwrite)?;
            println!("records: {written} (seed {seed})");
            println!("written: {}", output.display());
            if let Some(path) = nationality_codes {
                amparo::io::write_bytes(&path, amparo::synth::nationality_codes_csv().as_bytes())?;
                println!("written: {}", path.display());
            }
            Ok(Verdict::Safe)
        }
        Command::Schema { audit_report } => {
            print!("{}", if audit_report { amparo::audit::report::json_schema() } else { amparo::policy::json_schema() });
            Ok(Verdict::Safe)
        }
    }
}
