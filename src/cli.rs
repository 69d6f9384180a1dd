//! The command line: clap definitions and the dispatch from a subcommand to the library.
//! Exit codes: 0 success, 2 usage or input error (nothing written).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::Error;
use crate::net::Family;
use crate::output;

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  2  usage or config error; nothing is written";

#[derive(Debug, Parser)]
#[command(
    name = "cilium-ipt",
    version,
    about = "Render a Cilium node's iptables rules as an exact, atomic iptables-restore document",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the full iptables-restore document for a node.
    ///
    /// The document is complete: `iptables-restore` without `--noflush` replaces every table it
    /// names (raw, mangle, filter, nat), which also removes rules other software (kube-proxy,
    /// Docker, firewalld) keeps in those tables. Use it where Cilium is the only owner of
    /// iptables on the node, and for golden files.
    #[command(after_help = "\
Examples:
  cilium-ipt render > rules.v4 && iptables-restore < rules.v4
  cilium-ipt render node.toml --family ipv6 | ip6tables-restore
  cilium-ipt render base.toml node-17.toml --output /etc/cilium-ipt/rules.v4
  cilium-ipt render node.toml | diff -u golden/node.v4 -

Exit codes:
  0  success
  2  usage or config error; nothing is written")]
    Render(RenderArgs),
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// Config files, merged in order (later keys win). Without any, the embedded default
    /// (the reference node, examples/reference-node.toml) is rendered.
    #[arg(value_name = "CONFIG")]
    pub configs: Vec<PathBuf>,

    /// Address family: ipv4 for iptables-restore, ipv6 for ip6tables-restore.
    #[arg(long, short = 'f', value_enum, default_value_t = FamilyArg::Ipv4)]
    pub family: FamilyArg,

    /// Write the document to FILE (atomically: a temporary file renamed over it) instead of
    /// stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FamilyArg {
    Ipv4,
    Ipv6,
}

impl From<FamilyArg> for Family {
    fn from(f: FamilyArg) -> Family {
        match f {
            FamilyArg::Ipv4 => Family::Ipv4,
            FamilyArg::Ipv6 => Family::Ipv6,
        }
    }
}

/// Runs the command line `args` (program name first) and returns the exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and exit 0; usage errors exit 2.
            let _ = e.print();
            return e.exit_code();
        }
    };
    match execute(cli.command) {
        Ok(()) => 0,
        Err(e) => {
            report(&e);
            2
        }
    }
}

fn execute(command: Command) -> Result<(), Error> {
    match command {
        Command::Render(args) => {
            let text = crate::render_configs(&args.configs, args.family.into())?;
            match &args.output {
                Some(path) => output::write_file(path, &text),
                None => output::write_stdout(&text).map_err(|source| Error::Write {
                    path: "<stdout>".into(),
                    source,
                }),
            }
        }
    }
}

fn report(e: &Error) {
    match e {
        // Located errors carry their own `error:` headers, one per problem.
        Error::Config(_) => eprintln!("{e}"),
        _ => eprintln!("error: {e}"),
    }
}
