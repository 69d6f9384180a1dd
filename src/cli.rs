//! The command line: clap definitions and the dispatch from a subcommand to the library.
//! Exit codes: 0 success, 2 usage or input error (nothing written).

use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::Error;
use crate::explain_mark::MarkArg;
use crate::net::Family;
use crate::output;

const AFTER_HELP: &str = "\
Exit codes:
  0  success (diff: in sync)
  1  diff: drift found
  2  usage, config or input error; nothing is written";

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

    /// Compare the live rules (iptables-save output) with the config's; exit 1 on drift.
    ///
    /// Only what Cilium owns is compared: the CILIUM_* chains of every table, OLD_CILIUM_*
    /// chains left by an agent upgrade, and the feeder rules that jump into them from builtin
    /// chains. Foreign rules and chains (KUBE-*, DOCKER, your own) are never drift.
    #[command(after_help = "\
Examples:
  iptables-save | cilium-ipt diff node.toml
  ip6tables-save | cilium-ipt diff node.toml --family ipv6 --format json
  cilium-ipt diff node.toml --live saved-rules.v4

Exit codes:
  0  in sync
  1  drift found
  2  usage, config or input error")]
    Diff(DiffArgs),

    /// Print an iptables-restore --noflush document that repairs the drift and nothing else.
    ///
    /// It rebuilds only the owned chains that differ, inserts missing feeders at the top of
    /// their builtin chain (as Cilium does), deletes duplicated or stale feeders, and removes
    /// stale Cilium chains. It never declares a builtin chain, so policies stay as they are.
    /// In sync, it prints a single comment line. Compute it from the live state each time.
    #[command(after_help = "\
Examples:
  iptables-save | cilium-ipt reconcile node.toml | iptables-restore --noflush
  ip6tables-save | cilium-ipt reconcile node.toml -f ipv6 | ip6tables-restore --noflush

Exit codes:
  0  success (a repair document or the in-sync comment was printed)
  2  usage, config or input error; nothing is written")]
    Reconcile(LiveArgs),

    /// Print the TPROXY policy routing (`ip rule` + `ip route`) as an `ip -batch` document.
    ///
    /// TPROXY only redirects a packet to the proxy's socket if routing then delivers it
    /// locally: packets with the to-proxy mark are looked up in Cilium's proxy table (2004 by
    /// default), whose one route is `local 0.0.0.0/0 dev lo`. Safe to apply repeatedly.
    #[command(after_help = "\
Examples:
  cilium-ipt routes node.toml | ip -batch -
  cilium-ipt routes node.toml --family ipv6 | ip -6 -batch -")]
    Routes(FamilyArgs),

    /// Print the node ipsets the masquerade rules match, as an `ipset restore` document.
    ///
    /// Load it before the rules that name the sets. The update is atomic (a temporary set is
    /// filled and swapped in) and safe to apply repeatedly. Without --family, every family the
    /// config describes gets its set.
    #[command(after_help = "\
Order on a node:
  cilium-ipt ipset node.toml | ipset restore
  cilium-ipt render node.toml | iptables-restore
  cilium-ipt routes node.toml | ip -batch -")]
    Ipset(IpsetArgs),

    /// Decode a packet mark the way Cilium means it: VALUE or VALUE/MASK, hex or decimal.
    ///
    /// With config files, a to-proxy port is matched to the proxy that listens on it.
    #[command(after_help = "\
Examples:
  cilium-ipt explain-mark 0x779b0200          # to-proxy, port 39799
  cilium-ipt explain-mark 0xa00/0xe00
  cilium-ipt explain-mark 0x779b0200 node.toml")]
    ExplainMark(ExplainMarkArgs),

    /// Print every rule of the document with why it exists and which config keys decide it.
    #[command(after_help = "\
Examples:
  cilium-ipt explain
  cilium-ipt explain node.toml --family ipv6")]
    Explain(FamilyArgs),
}

#[derive(Debug, clap::Args)]
pub struct FamilyArgs {
    /// Config files, merged in order (later keys win); none: the embedded default.
    #[arg(value_name = "CONFIG")]
    pub configs: Vec<PathBuf>,

    /// Address family.
    #[arg(long, short = 'f', value_enum, default_value_t = FamilyArg::Ipv4)]
    pub family: FamilyArg,
}

#[derive(Debug, clap::Args)]
pub struct IpsetArgs {
    /// Config files, merged in order (later keys win); none: the embedded default.
    #[arg(value_name = "CONFIG")]
    pub configs: Vec<PathBuf>,

    /// Only this family's set (default: every family the config describes).
    #[arg(long, short = 'f', value_enum)]
    pub family: Option<FamilyArg>,
}

#[derive(Debug, clap::Args)]
pub struct ExplainMarkArgs {
    /// The mark, e.g. 0x779b0200 or 0x200/0xf00.
    #[arg(value_name = "VALUE[/MASK]")]
    pub mark: String,

    /// Config files whose marks and proxies to decode with (default: Cilium's marks).
    #[arg(value_name = "CONFIG")]
    pub configs: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// Config files, merged in order (later keys win); none: the embedded default.
    #[arg(value_name = "CONFIG")]
    pub configs: Vec<PathBuf>,

    /// Address family of the live rules: ipv4 (iptables-save) or ipv6 (ip6tables-save).
    #[arg(long, short = 'f', value_enum, default_value_t = FamilyArg::Ipv4)]
    pub family: FamilyArg,

    /// Read iptables-save output from FILE instead of stdin (`-` is stdin).
    #[arg(long, value_name = "FILE", default_value = "-")]
    pub live: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub live: LiveArgs,

    /// Output format: `human` (per-chain unified diff) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
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
        Ok(code) => code,
        Err(e) => {
            report(&e);
            2
        }
    }
}

fn stdout(text: &str) -> Result<(), Error> {
    output::write_stdout(text).map_err(|source| Error::Write {
        path: "<stdout>".into(),
        source,
    })
}

/// Reads the live iptables-save text from `--live` (or stdin for `-`).
fn read_live(path: &Path) -> Result<(String, String), Error> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(read_err)?;
        Ok(("<stdin>".to_string(), text))
    } else {
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        Ok((path.display().to_string(), text))
    }
}

fn execute(command: Command) -> Result<i32, Error> {
    match command {
        Command::Render(args) => {
            let text = crate::render_configs(&args.configs, args.family.into())?;
            match &args.output {
                Some(path) => output::write_file(path, &text)?,
                None => stdout(&text)?,
            }
            Ok(0)
        }
        Command::Diff(DiffArgs { live: args, format }) => {
            let (name, live) = read_live(&args.live)?;
            let report = crate::diff_live(&args.configs, args.family.into(), &name, &live)?;
            stdout(&match format {
                Format::Human => report.human(),
                Format::Json => report.json(),
            })?;
            Ok(if report.in_sync() { 0 } else { 1 })
        }
        Command::Routes(args) => {
            let spec = crate::load_spec(&args.configs)?;
            stdout(&crate::routes::routes_document(&spec, args.family.into())?)?;
            Ok(0)
        }
        Command::Ipset(args) => {
            let spec = crate::load_spec(&args.configs)?;
            let families: Vec<Family> = args.family.map(Family::from).into_iter().collect();
            stdout(&crate::ipset::ipset_document(&spec, &families)?)?;
            Ok(0)
        }
        Command::Explain(args) => {
            let spec = crate::load_spec(&args.configs)?;
            let rules = crate::cilium::build(&spec, args.family.into())?;
            stdout(&crate::render::explain_document(&rules)?)?;
            Ok(0)
        }
        Command::ExplainMark(args) => {
            let mark: MarkArg = args.mark.parse().map_err(Error::Argument)?;
            let (marks, proxies) = if args.configs.is_empty() {
                (crate::marks::Marks::default(), Vec::new())
            } else {
                let spec = crate::load_spec(&args.configs)?;
                (spec.marks, spec.proxies)
            };
            stdout(&crate::explain_mark::explain(mark, &marks, &proxies))?;
            Ok(0)
        }
        Command::Reconcile(args) => {
            let (name, live) = read_live(&args.live)?;
            let family = args.family.into();
            let report = crate::diff_live(&args.configs, family, &name, &live)?;
            stdout(&crate::render::noflush_document(family, &report.plans)?)?;
            Ok(0)
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
