//! Command line and environment: every flag has an environment fallback, and a bad value stops
//! start-up with one clear line (exit status 2), never a panic trace.

use std::net::SocketAddr;
use std::path::PathBuf;

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
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true, value_parser = parse_database_url)]
    pub database_url: Option<DatabaseUrl>,
    /// Directory for the private PostgreSQL cluster (used when no database URL is given).
    #[arg(long, env = "KEYWARD_DATA_DIR", global = true, default_value = "./keyward-data")]
    pub data_dir: PathBuf,
}

/// How the server listens and presents itself.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the console and the admin API listen on.
    #[arg(long, env = "KEYWARD_LISTEN", global = true, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The address people use to reach keyward; an https URL turns on secure cookies and HSTS.
    /// Defaults to http://<listen address>.
    #[arg(long, env = "KEYWARD_PUBLIC_URL", global = true, value_parser = parse_public_url)]
    pub public_url: Option<Url>,
    /// Address of the Prometheus metrics endpoint (`GET /metrics`); off unless given. Keep it
    /// off the public network.
    #[arg(long, env = "KEYWARD_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,
    /// Proxies (CIDRs, comma-separated) whose X-Forwarded-For is believed; none by default.
    #[arg(long, env = "KEYWARD_TRUSTED_PROXIES", global = true, value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the console and the admin API (the default).
    Serve,
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
    #[arg(long, default_value_t = 30)]
    pub expires_in_days: i64,
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

/// Parses the command line; on a bad value prints one line and exits with status 2.
pub fn parse_or_exit() -> Cli {
    match Cli::try_parse() {
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
