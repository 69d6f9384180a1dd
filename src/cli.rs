//! The command line: clap definitions and the dispatch from a subcommand to the library.
//! Exit codes: 0 success (diff: in sync), 1 drift (diff only), 2 usage or input error, in which
//! case nothing is written.

use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::error::{Error, Problem};
use crate::explain_mark::MarkArg;
use crate::net::Family;
use crate::output;
use crate::spec::NodeSpec;

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

/// The config files and overrides every config-reading command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Config files, merged in order (later keys win; arrays are replaced whole). Without any,
    /// the embedded default (the reference node, examples/reference-node.toml) is used.
    #[arg(value_name = "CONFIG")]
    pub configs: Vec<PathBuf>,

    /// Override a key after all files are merged, in TOML syntax (a value that is not TOML is
    /// taken as a string). Proxies are addressed by name. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

impl ConfigArgs {
    fn spec(&self) -> Result<NodeSpec, Error> {
        crate::load_spec_with(&self.configs, &self.sets)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the full iptables-restore document for a node.
    ///
    /// The document is complete: `iptables-restore` without `--noflush` replaces every table it
    /// names (raw, mangle, filter, nat), which also removes rules other software (kube-proxy,
    /// Docker, firewalld) keeps in those tables. Use it where Cilium is the only owner of
    /// iptables on the node, and for golden files; on a shared node use `reconcile`.
    #[command(after_help = "\
Examples:
  cilium-ipt render > rules.v4 && iptables-restore < rules.v4
  cilium-ipt render node.toml --family ipv6 | ip6tables-restore
  cilium-ipt render base.toml node-17.toml --set proxy.cilium-dns-egress.port=40123
  cilium-ipt render node.toml --family all --output-dir /etc/cilium-ipt
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
Examples, in this order on a node:
  cilium-ipt ipset node.toml | ipset restore
  cilium-ipt render node.toml | iptables-restore
  cilium-ipt routes node.toml | ip -batch -")]
    Ipset(IpsetArgs),

    /// Print every rule of the document with why it exists and which config keys decide it.
    #[command(after_help = "\
Examples:
  cilium-ipt explain
  cilium-ipt explain node.toml --family ipv6")]
    Explain(FamilyArgs),

    /// Decode a packet mark the way Cilium means it: VALUE or VALUE/MASK, hex or decimal.
    ///
    /// With config files, a to-proxy port is matched to the proxy that listens on it.
    #[command(after_help = "\
Examples:
  cilium-ipt explain-mark 0x779b0200          # to-proxy, port 39799
  cilium-ipt explain-mark 0xa00/0xe00
  cilium-ipt explain-mark 0x779b0200 node.toml")]
    ExplainMark(ExplainMarkArgs),

    /// Write a commented starter config (refuses to overwrite an existing file without --force).
    #[command(after_help = "\
Examples:
  cilium-ipt init                      # writes cilium-ipt.toml (IPv4 node)
  cilium-ipt init node.toml --family all
  cilium-ipt init - --family ipv6      # to stdout")]
    Init(InitArgs),

    /// Print shell completions for bash, zsh or fish.
    #[command(after_help = "\
Examples:
  cilium-ipt completions bash > /etc/bash_completion.d/cilium-ipt
  cilium-ipt completions zsh > \"${fpath[1]}/_cilium-ipt\"
  cilium-ipt completions fish > ~/.config/fish/completions/cilium-ipt.fish")]
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },

    /// Print the man page (roff).
    #[command(after_help = "\
Example:
  cilium-ipt man > /usr/local/share/man/man1/cilium-ipt.1")]
    Man,

    /// Print the JSON Schema of the config file, for editors that check and complete TOML.
    #[command(after_help = "\
Example:
  cilium-ipt schema > cilium-ipt.schema.json
  then put `#:schema ./cilium-ipt.schema.json` on the first line of node.toml (taplo,
  Even Better TOML)")]
    Schema,
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Address family: ipv4 (iptables-restore), ipv6 (ip6tables-restore), or all with
    /// --output-dir.
    #[arg(long, short = 'f', value_enum, default_value_t = RenderFamily::Ipv4)]
    pub family: RenderFamily,

    /// Write the document to FILE (atomically: a temporary file renamed over it) instead of
    /// stdout.
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,

    /// Write rules.v4 / rules.v6, routes.v4 / routes.v6 and ipset.restore into DIR, each
    /// atomically, for every family rendered; nothing is written if any document fails.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

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

#[derive(Debug, clap::Args)]
pub struct FamilyArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Address family.
    #[arg(long, short = 'f', value_enum, default_value_t = FamilyArg::Ipv4)]
    pub family: FamilyArg,
}

#[derive(Debug, clap::Args)]
pub struct IpsetArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

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
pub struct InitArgs {
    /// Where to write the config (`-` for stdout).
    #[arg(value_name = "PATH", default_value = "cilium-ipt.toml")]
    pub path: PathBuf,

    /// Which families the starter config describes.
    #[arg(long, short = 'f', value_enum, default_value_t = RenderFamily::Ipv4)]
    pub family: RenderFamily,

    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FamilyArg {
    Ipv4,
    Ipv6,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFamily {
    Ipv4,
    Ipv6,
    /// Every family the config describes (render: needs --output-dir).
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
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

fn diff_report(args: &LiveArgs) -> Result<crate::diff::Report, Error> {
    let (name, live) = read_live(&args.live)?;
    let spec = args.config.spec()?;
    crate::diff_spec(&spec, args.family.into(), &name, &live)
}

fn execute(command: Command) -> Result<i32, Error> {
    match command {
        Command::Render(args) => render(&args).map(|()| 0),
        Command::Diff(DiffArgs { live, format }) => {
            let report = diff_report(&live)?;
            stdout(&match format {
                Format::Human => report.human(),
                Format::Json => report.json(),
            })?;
            Ok(if report.in_sync() { 0 } else { 1 })
        }
        Command::Reconcile(args) => {
            let report = diff_report(&args)?;
            stdout(&crate::render::noflush_document(
                args.family.into(),
                &report.plans,
            )?)?;
            Ok(0)
        }
        Command::Routes(args) => {
            let spec = args.config.spec()?;
            stdout(&crate::routes::routes_document(&spec, args.family.into())?)?;
            Ok(0)
        }
        Command::Ipset(args) => {
            let spec = args.config.spec()?;
            let families: Vec<Family> = args.family.map(Family::from).into_iter().collect();
            stdout(&crate::ipset::ipset_document(&spec, &families)?)?;
            Ok(0)
        }
        Command::Explain(args) => {
            let spec = args.config.spec()?;
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
        Command::Init(args) => init(&args).map(|()| 0),
        Command::Completions { shell } => {
            let shell = match shell {
                Shell::Bash => clap_complete::Shell::Bash,
                Shell::Zsh => clap_complete::Shell::Zsh,
                Shell::Fish => clap_complete::Shell::Fish,
            };
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "cilium-ipt", &mut buf);
            stdout(&String::from_utf8_lossy(&buf))?;
            Ok(0)
        }
        Command::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut buf)
                .map_err(|source| Error::Write {
                    path: "<man page>".into(),
                    source,
                })?;
            stdout(&String::from_utf8_lossy(&buf))?;
            Ok(0)
        }
        Command::Schema => {
            stdout(&crate::config::schema())?;
            Ok(0)
        }
    }
}

fn render(args: &RenderArgs) -> Result<(), Error> {
    let spec = args.config.spec()?;
    let families: Vec<Family> = match args.family {
        RenderFamily::Ipv4 => vec![Family::Ipv4],
        RenderFamily::Ipv6 => vec![Family::Ipv6],
        RenderFamily::All => {
            let present: Vec<Family> = Family::ALL
                .into_iter()
                .filter(|f| spec.family(*f).is_ok())
                .collect();
            if present.is_empty() {
                return Err(Error::Argument(Problem::Invalid(
                    "the config describes no address family: add an [ipv4] or [ipv6] section"
                        .into(),
                )));
            }
            present
        }
    };
    let Some(dir) = &args.output_dir else {
        let (RenderFamily::Ipv4 | RenderFamily::Ipv6, [family]) = (args.family, &families[..])
        else {
            return Err(Error::Argument(Problem::Invalid(
                "--family all writes one file per family: give --output-dir DIR".into(),
            )));
        };
        let family = *family;
        let text = crate::render_spec(&spec, family)?;
        return match &args.output {
            Some(path) => output::write_file(path, &text),
            None => stdout(&text),
        };
    };
    // Render everything first: a failure must leave the directory as it was.
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for family in &families {
        let suffix = match family {
            Family::Ipv4 => "v4",
            Family::Ipv6 => "v6",
        };
        files.push((
            dir.join(format!("rules.{suffix}")),
            crate::render_spec(&spec, *family)?,
        ));
        files.push((
            dir.join(format!("routes.{suffix}")),
            crate::routes::routes_document(&spec, *family)?,
        ));
    }
    files.push((
        dir.join("ipset.restore"),
        crate::ipset::ipset_document(&spec, &families)?,
    ));
    for (path, text) in &files {
        output::write_file(path, text)?;
    }
    Ok(())
}

/// The starter configs: the commented examples, which render as they are.
fn starter(family: RenderFamily) -> &'static str {
    match family {
        RenderFamily::Ipv4 => include_str!("../examples/reference-node.toml"),
        RenderFamily::Ipv6 => include_str!("../examples/ipv6-node.toml"),
        RenderFamily::All => include_str!("../examples/dual-stack-node.toml"),
    }
}

fn init(args: &InitArgs) -> Result<(), Error> {
    let text = starter(args.family);
    if args.path == Path::new("-") {
        return stdout(text);
    }
    if args.path.exists() && !args.force {
        return Err(Error::Argument(Problem::Invalid(format!(
            "{} already exists; use --force to overwrite it",
            args.path.display()
        ))));
    }
    output::write_file(&args.path, text)?;
    eprintln!(
        "wrote {}: edit the CIDRs, addresses and proxies, then `cilium-ipt render {}`",
        args.path.display(),
        args.path.display()
    );
    Ok(())
}

fn report(e: &Error) {
    match e {
        // Located errors carry their own `error:` headers, one per problem.
        Error::Config(_) => eprintln!("{e}"),
        _ => eprintln!("error: {e}"),
    }
}
