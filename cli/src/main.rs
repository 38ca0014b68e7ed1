//! `amparo`: protect tables of counts before publication, from the command line.
//!
//! Exit codes: 0 success; 1 the table was written but the audit found
//! sensitive cells an attacker can narrow below their protection (do not
//! publish it); 2 the run could not be done (bad input, bad policy,
//! unreadable file), with the reason on standard error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use amparo::{Fallible, OutputOptions, Policy};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "amparo", version, about = "Statistical disclosure control for tables of counts of children on the move")]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
        #[arg(long, short)]
        output: PathBuf,
        /// Add the original counts as a `value` column (never publish such a file).
        #[arg(long)]
        keep_original: bool,
    },
    /// Check the input against the policy (columns, codes, counts, margins); changes nothing.
    Validate {
        #[arg(long, short)]
        policy: PathBuf,
        input: PathBuf,
    },
    /// Print the JSON Schema of the policy file.
    Schema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(Verdict::Safe) => ExitCode::SUCCESS,
        Ok(Verdict::Unsafe) => ExitCode::from(1),
        Err(e) => {
            eprintln!("amparo: {e}");
            ExitCode::from(2)
        }
    }
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
        Command::Protect { policy: policy_path, input, output, keep_original } => {
            amparo::io::check_output_path(&output, &[&input, &policy_path])?;
            let (policy, mut reader) = load(&policy_path, &input)?;
            let result = amparo::protect(&policy, &mut *reader)?;
            let batch = result.to_record_batch(OutputOptions { keep_original });
            amparo::io::write_table(&batch, &output, Some(&result.metadata))?;
            println!("{}", result.summary());
            println!("written:   {}", output.display());
            if result.audit.as_ref().is_some_and(|a| !a.passed()) {
                eprintln!("amparo: the audit failed: this table is not safe to publish (see above); add [secondary] method = \"interval\" to the policy");
                return Ok(Verdict::Unsafe);
            }
            Ok(Verdict::Safe)
        }
        Command::Validate { policy, input } => {
            let (policy, mut reader) = load(&policy, &input)?;
            println!("{}", amparo::validate(&policy, &mut *reader)?);
            Ok(Verdict::Safe)
        }
        Command::Schema => {
            print!("{}", amparo::policy::json_schema());
            Ok(Verdict::Safe)
        }
    }
}
