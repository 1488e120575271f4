//! Command line and environment: every flag has an environment fallback, and a bad value stops
//! start-up with one clear line (exit status 2), never a panic trace.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use url::Url;

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "Self-hosted admin console for organization API keys"
)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Serve flags given without a subcommand (`keyward --listen X` is `keyward serve --listen X`).
    #[command(flatten)]
    pub serve: ServeArgs,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where the data lives. Every command takes these.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL server to use. Without it keyward runs a private cluster under --data-dir.
    /// Requests are served as this URL's role, which should own nothing (see README).
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true, value_parser = parse_database_url)]
    pub database_url: Option<DatabaseUrl>,
    /// The role that owns keyward's tables on that server, used only to apply migrations.
    /// Without it migrations run as --database-url's role.
    #[arg(
        long,
        env = "KEYWARD_MIGRATE_DATABASE_URL",
        global = true,
        hide_env_values = true,
        value_parser = parse_database_url
    )]
    pub migrate_database_url: Option<DatabaseUrl>,
    /// Directory for the private PostgreSQL cluster (used when no database URL is given).
    /// Defaults to ./keyward-data, or /var/lib/keyward when run as root.
    #[arg(long, env = "KEYWARD_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
}

/// The private cluster's data directory when none is given by a non-root user.
pub const DEFAULT_DATA_DIR: &str = "./keyward-data";
/// The same for root, whose checkout usually sits under a private `/root` that the cluster's
/// unprivileged user cannot enter.
pub const ROOT_DEFAULT_DATA_DIR: &str = "/var/lib/keyward";

/// The data directory to use: the one given, else the default for who we are. A directory
/// given explicitly is kept even as root, so an unreachable one is still reported clearly.
pub fn choose_data_dir(explicit: Option<&Path>, is_root: bool) -> PathBuf {
    match explicit {
        Some(dir) => dir.to_path_buf(),
        None if is_root => PathBuf::from(ROOT_DEFAULT_DATA_DIR),
        None => PathBuf::from(DEFAULT_DATA_DIR),
    }
}

impl DatabaseArgs {
    /// The data directory of the private cluster, given or defaulted.
    pub fn data_dir(&self) -> PathBuf {
        choose_data_dir(self.data_dir.as_deref(), running_as_root())
    }
}

/// Whether the effective uid is 0 (`/proc/self` belongs to it).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|me| me.uid() == 0)
}

/// How the server listens and presents itself.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the console and the admin API listen on.
    #[arg(long, env = "KEYWARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The address people use to reach keyward; an https URL turns on secure cookies and HSTS.
    /// Defaults to http://<listen address>.
    #[arg(long, env = "KEYWARD_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<Url>,
    /// Address of the Prometheus metrics endpoint (`GET /metrics`); off unless given. Keep it
    /// off the public network.
    #[arg(long, env = "KEYWARD_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Proxies (CIDRs, comma-separated) whose X-Forwarded-For is believed; none by default.
    #[arg(long, env = "KEYWARD_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Key verifications (a row read, then argon2id) this instance starts a second for keys
    /// that miss its cache, whoever presents them; 25 per core by default.
    #[arg(long, env = "KEYWARD_KEY_VERIFICATIONS_PER_SECOND", value_parser = clap::value_parser!(u32).range(1..))]
    pub key_verifications_per_second: Option<u32>,
    /// How many more may start at once when the instance has been quiet; by default the
    /// argon2id pool and its queue, and at least 64.
    #[arg(long, env = "KEYWARD_KEY_VERIFICATION_BURST", value_parser = clap::value_parser!(u32).range(1..))]
    pub key_verification_burst: Option<u32>,
    /// Requests a minute each API key may make to this instance (each instance counts on its
    /// own), all of which may come at once after a quiet minute; past it, 429 with Retry-After.
    #[arg(
        long,
        env = "KEYWARD_API_RATE_LIMIT",
        default_value_t = crate::auth::api_key::key_rate::DEFAULT_PER_MINUTE,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub api_rate_limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the console and the admin API (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage console administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Inspect organizations.
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// Create, list and revoke admin API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Claim, verify, remove and list an organization's domains.
    #[command(subcommand)]
    Domains(DomainsCommand),
    /// Print every scope and the admin API endpoints it unlocks (needs no database).
    Scopes,
    /// List and disable an organization's policies.
    #[command(subcommand)]
    Policies(PoliciesCommand),
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// List an organization's policies: id, type, status, name and rule.
    List {
        #[arg(long)]
        org: uuid::Uuid,
    },
    /// Disable a policy at once on every instance, leaving its rule as it was: the way out of
    /// an IP allowlist that shuts out every caller.
    Disable {
        #[arg(long)]
        org: uuid::Uuid,
        /// The policy's id (see `keyward policies list`).
        policy: uuid::Uuid,
    },
}

/// A domain's claim type on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClaimArg {
    Dns,
    Http,
}

#[derive(Debug, Subcommand)]
pub enum DomainsCommand {
    /// Claim a domain for an organization (unverified until `domains verify`).
    Add {
        #[arg(long)]
        org: uuid::Uuid,
        /// The domain name, such as example.com.
        name: String,
        /// How the claim is to be proven: a DNS TXT record or a file served over HTTP.
        #[arg(long, value_enum, default_value = "dns")]
        claim: ClaimArg,
    },
    /// Mark a claimed domain verified. keyward cannot reach DNS or the web: this records your
    /// attestation that you checked the claim (the TXT record, or the file served over HTTP).
    /// A domain is verified by at most one organization.
    Verify {
        #[arg(long)]
        org: uuid::Uuid,
        name: String,
    },
    /// Remove an organization's claim of a domain.
    Remove {
        #[arg(long)]
        org: uuid::Uuid,
        name: String,
    },
    /// List an organization's domains: one `<id>\t<name>\t<claim>\t<status>` line each.
    List {
        #[arg(long)]
        org: uuid::Uuid,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its value, alone, on stdout (it is shown this once).
    Create(KeysCreate),
    /// List an organization's keys (never their values).
    List {
        #[arg(long)]
        org: uuid::Uuid,
    },
    /// Revoke a key at once, named by its id or its public id; or, with --created-by, every
    /// active key an admin is answerable for (offboarding).
    #[command(group(clap::ArgGroup::new("which").required(true).args(["key", "created_by"])))]
    Revoke {
        #[arg(long)]
        org: uuid::Uuid,
        key: Option<String>,
        /// Email of the admin whose keys to revoke.
        #[arg(long)]
        created_by: Option<String>,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("kind").required(true).args(["scopes", "unscoped"])))]
pub struct KeysCreate {
    #[arg(long)]
    pub org: uuid::Uuid,
    #[arg(long)]
    pub name: String,
    /// Comma-separated scopes, e.g. read:orgs:admin,read:keys:admin.
    #[arg(long, value_delimiter = ',')]
    pub scopes: Vec<String>,
    /// A key without scopes, which may call every admin API endpoint.
    #[arg(long)]
    pub unscoped: bool,
    /// Days the key lives [default: 30, or the org's key lifetime policy when that is shorter].
    #[arg(long)]
    pub expires_in_days: Option<i64>,
    /// Instead of --expires-in-days: a date (the key stops working as that day begins, UTC) or an
    /// RFC 3339 time, at most 365 days ahead.
    #[arg(long, conflicts_with = "expires_in_days")]
    pub expires_at: Option<String>,
    /// Email of the admin answerable for the key; without it the actor is the system.
    #[arg(long)]
    pub created_by: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Make someone an admin of an organization, creating the account (and the organization,
    /// when named) if needed. The password is read from stdin, or prompted for on a terminal.
    Add(AdminAdd),
    /// Print a new one-time set-password link for the account with this email (valid 24 hours,
    /// replacing earlier links), on stdout only: for the day the last admin forgets their password.
    ResetPassword(AdminResetPassword),
}

#[derive(Debug, Args)]
pub struct AdminResetPassword {
    #[arg(long)]
    pub email: String,
    /// The address people open keyward at, which the link starts with.
    #[arg(long, env = "KEYWARD_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<Url>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("organization").required(true).args(["org", "org_name"])))]
pub struct AdminAdd {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// An existing organization's id.
    #[arg(long)]
    pub org: Option<uuid::Uuid>,
    /// The name of a new organization to create.
    #[arg(long)]
    pub org_name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// Print every organization's id and name.
    List,
}

/// A PostgreSQL URL, checked when parsed. `Debug` hides it: it may carry a password.
#[derive(Clone)]
pub struct DatabaseUrl(pub sqlx::postgres::PgConnectOptions);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseUrl([REDACTED])")
    }
}

fn parse_database_url(value: &str) -> Result<DatabaseUrl, String> {
    if !(value.starts_with("postgres://") || value.starts_with("postgresql://")) {
        return Err("expected a postgres:// or postgresql:// URL".into());
    }
    value
        .parse::<sqlx::postgres::PgConnectOptions>()
        .map(DatabaseUrl)
        .map_err(|_| "not a valid PostgreSQL URL".into())
}

fn parse_public_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("expected an http:// or https:// URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the public URL takes no query or fragment".into());
    }
    Ok(url)
}

impl Cli {
    /// How to serve: the `serve` subcommand's flags, or the top level's when it is omitted.
    pub fn serve_args(&self) -> &ServeArgs {
        match &self.command {
            Some(Command::Serve(serve)) => serve,
            _ => &self.serve,
        }
    }

    /// Whether this run serves (no subcommand, or `serve`).
    pub fn serves(&self) -> bool {
        matches!(self.command, None | Some(Command::Serve(_)))
    }
}

impl ServeArgs {
    /// The public base URL without a trailing slash, for links such as the setup link.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn is_https(&self) -> bool {
        self.public_url.as_ref().is_some_and(|url| url.scheme() == "https")
    }
}

/// The serve flags, by argument id: they belong to `serve` (and to the top level, which is
/// `serve` when no command follows).
const SERVE_FLAGS: [&str; 7] = [
    "listen",
    "public_url",
    "metrics_listen",
    "trusted_proxies",
    "key_verifications_per_second",
    "key_verification_burst",
    "api_rate_limit",
];

/// Parses a command line. A serve flag given before another command is refused rather than
/// silently ignored, and one given before `serve` would be shadowed by `serve`'s defaults.
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory as _, FromArgMatches as _};
    let mut command = Cli::command();
    let matches = command.try_get_matches_from_mut(args)?;
    let cli = Cli::from_arg_matches(&matches).map_err(|err| err.format(&mut command))?;
    if let Some(subcommand) = matches.subcommand_name()
        && let Some(flag) = SERVE_FLAGS
            .iter()
            .find(|id| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
    {
        let flag = flag.replace('_', "-");
        return Err(command.error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("--{flag} is a flag of `keyward serve`, not of `keyward {subcommand}`"),
        ));
    }
    Ok(cli)
}

/// Parses the command line; on a bad value prints one line and exits with status 2.
pub fn parse_or_exit() -> Cli {
    match try_parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                || err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            {
                let _ = err.print();
                std::process::exit(if err.use_stderr() { 2 } else { 0 });
            }
            let rendered = err.render().to_string();
            let line = rendered.lines().next().unwrap_or("error: invalid arguments");
            eprintln!("keyward: {}", line.trim_start_matches("error: "));
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_defaults_to_a_system_directory_and_an_explicit_one_is_kept() {
        let given = Path::new("/root/checkout/keyward-data");
        assert_eq!(choose_data_dir(None, false), PathBuf::from("./keyward-data"));
        assert_eq!(choose_data_dir(None, true), PathBuf::from("/var/lib/keyward"));
        assert_eq!(choose_data_dir(Some(given), true), given);
        assert_eq!(choose_data_dir(Some(given), false), given);
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        try_parse_from(std::iter::once("keyward").chain(args.iter().copied()))
    }

    #[test]
    fn serve_flags_work_at_the_top_level_and_on_serve_only() {
        let top = parse(&["--listen", "127.0.0.1:9000"]).expect("top-level serve flag");
        assert_eq!(top.serve_args().listen.port(), 9000);
        assert!(top.serves());
        let serve = parse(&["serve", "--listen", "127.0.0.1:9001"]).expect("serve flag");
        assert_eq!(serve.serve_args().listen.port(), 9001);
        let keys = parse(&[
            "--data-dir",
            "/tmp/x",
            "keys",
            "list",
            "--org",
            &uuid::Uuid::nil().to_string(),
        ]);
        assert!(keys.is_ok(), "database flags before a command");
        let org = uuid::Uuid::nil().to_string();
        assert!(parse(&["keys", "list", "--org", &org, "--listen", "127.0.0.1:9000"]).is_err());
        let misplaced = parse(&["--listen", "127.0.0.1:9000", "keys", "list", "--org", &org]).expect_err("refused");
        assert!(
            misplaced.to_string().contains("--listen is a flag of `keyward serve`"),
            "{misplaced}"
        );
        assert!(parse(&["--listen", "127.0.0.1:9000", "serve"]).is_err());
    }
}
