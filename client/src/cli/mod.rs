//! Command-line parsing and dispatch.

mod files;
mod genesis_cmd;
mod keys_cmd;

use clap::{Parser, Subcommand, ValueEnum};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// One JSON document on stdout.
    Json,
}

#[derive(Parser, Debug)]
#[command(
    name = "concordat",
    version,
    about = "Concordat client: keys, genesis, transactions, proofs"
)]
struct Cli {
    /// Output format.
    #[arg(long, value_enum, global = true, default_value = "text")]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create and inspect ed25519 key files.
    #[command(subcommand)]
    Keys(keys_cmd::KeysCmd),
    /// Create, fill in and validate a genesis file.
    #[command(subcommand)]
    Genesis(genesis_cmd::GenesisCmd),
}

/// Prints `value` as JSON, or `text` for people.
pub fn emit(output: Output, value: &serde_json::Value, text: &str) {
    match output {
        Output::Json => println!("{value}"),
        Output::Text => println!("{text}"),
    }
}

/// Runs the CLI and returns the process exit code (0 ok, 1 refused input, 2 usage).
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Keys(c) => keys_cmd::run(c, cli.output),
        Command::Genesis(c) => genesis_cmd::run(c, cli.output),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            if cli.output == Output::Json {
                println!("{}", serde_json::json!({ "error": format!("{e:#}") }));
            }
            eprintln!("error: {e:#}");
            1
        }
    }
}
