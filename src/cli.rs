//! The commands besides `serve`: automation for operators. Output meant for scripts goes to
//! stdout; everything else to stderr.

mod policies;

use std::io::{IsTerminal, Read};

use sqlx::PgPool;

use crate::auth::argon2id::{self, Argon2Pool};
use crate::config::{AdminAdd, AdminResetPassword, ClaimArg, DomainsCommand, KeysCommand, KeysCreate, OrgsCommand};
use crate::domain::actor::Actor;
use crate::domain::api_key::{AskedExpiry, KeyName};
use crate::domain::domain_name::ClaimType;
use crate::domain::scope::{ScopesError, UnknownScope};
use crate::domain::{DisplayName, DomainName, Email, KeyScopes, NewPassword, OrgName, Scope};
use crate::domain::{KeyId, OrgId, UserId};
use crate::service::keys;
use crate::service::org_domains::{self as domains, DomainError, Verification};
use crate::service::people::admins::{self, AdminError, MadeBy, NewAdmin, OrgOf};
use crate::store;
use crate::store::api_keys::Revocation;
use crate::store::audit::{Acting, Origin};

/// A command that failed: the message is one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl From<crate::service::standing::StandingError> for CliError {
    fn from(err: crate::service::standing::StandingError) -> CliError {
        match err {
            crate::service::standing::StandingError::Database(db) => CliError::Database(db),
            other => CliError::Invalid(other.to_string()),
        }
    }
}

pub use policies::run as policies;

/// `keyward orgs list`: one `<id>\t<name>` line per organization.
pub async fn orgs(pool: &PgPool, command: &OrgsCommand) -> Result<(), CliError> {
    match command {
        OrgsCommand::List => {
            let mut conn = pool.acquire().await?;
            for org in store::orgs::list(&mut conn).await? {
                println!("{}\t{}", org.id, org.name);
            }
            Ok(())
        }
    }
}

/// Reads the password from stdin when it is not a terminal (scripts), else from a hidden prompt.
fn read_password() -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let second = rpassword::prompt_password("Confirm password: ")?;
        if first != second {
            return Err(CliError::Invalid("the two passwords do not match".into()));
        }
        Ok(first)
    } else {
        let mut input = String::new();
        std::io::stdin().take(64 * 1024).read_to_string(&mut input)?;
        Ok(input.lines().next().unwrap_or_default().to_owned())
    }
}

/// `keyward admin add`: makes someone an admin of an organization directly (the operator's way
/// in; admins in the console invite), creating the account (with a password, managed by the
/// org that verified its email's domain, if any) when it is new and the organization when it
/// is named.
pub async fn admin_add(pool: &PgPool, args: &AdminAdd) -> Result<(), CliError> {
    let email = Email::parse(&args.email).map_err(|e| CliError::Invalid(format!("--email: {e}")))?;
    let name = DisplayName::parse(&args.name).map_err(|e| CliError::Invalid(format!("--name: {e}")))?;
    let new_org = match &args.org_name {
        Some(org_name) => Some(OrgName::parse(org_name).map_err(|e| CliError::Invalid(format!("--org-name: {e}")))?),
        None => None,
    };

    let existing = {
        let mut conn = pool.acquire().await?;
        store::users::find_by_email(&mut conn, &email).await?
    };
    let password_hash = match existing {
        Some(_) => None,
        None => {
            let password = tokio::task::spawn_blocking(read_password)
                .await
                .map_err(|e| CliError::Invalid(e.to_string()))??;
            let password = NewPassword::parse(&password).map_err(|e| CliError::Invalid(format!("password: {e}")))?;
            let secret = secrecy::ExposeSecret::expose_secret(password.secret()).to_owned();
            let hash = tokio::task::spawn_blocking(move || argon2id::hash(secret.as_bytes()))
                .await
                .map_err(|e| CliError::Invalid(e.to_string()))?
                .map_err(|e| CliError::Invalid(format!("password hashing failed: {e}")))?;
            Some(hash)
        }
    };

    let org = match (args.org, &new_org) {
        (Some(id), _) => OrgOf::Existing(id),
        (None, Some(name)) => OrgOf::New(name),
        (None, None) => return Err(CliError::Invalid("give --org ID or --org-name NAME".into())),
    };
    let mut tx = pool.begin().await?;
    let made = admins::make_admin(
        &mut tx,
        org,
        &NewAdmin {
            email: &email,
            name: &name,
            password_hash: password_hash.as_deref(),
        },
        &MadeBy {
            actor: Some(Actor::System),
            origin: &Origin::default(),
            via: "cli",
        },
    )
    .await
    .map_err(|err| match err {
        AdminError::NoSuchOrg(id) => {
            CliError::Invalid(format!("no organization has the id {id} (see `keyward orgs list`)"))
        }
        AdminError::NoPassword => CliError::Invalid(format!(
            "the account {email} was removed while this command ran; run it again to create it"
        )),
        AdminError::Database(db) => CliError::Database(db),
    })?;
    tx.commit().await?;
    let (org, user) = (made.org, made.user);
    if !made.new_account {
        // The operator should know whose account they are trusting: it was not made here.
        eprintln!(
            "{} has an account already, made {}: it keeps its name and password",
            user.email,
            user.created_at.to_rfc3339()
        );
    }
    eprintln!("{} is an admin of {} ({})", user.email, org.name, org.id);
    println!("{}", org.id);
    Ok(())
}

/// `keyward admin reset-password --email E`: prints a new set-password link for the account,
/// whichever org manages it, and nothing else on stdout.
pub async fn reset_password(pool: &PgPool, args: &AdminResetPassword, public_base: &str) -> Result<(), CliError> {
    let email = Email::parse(&args.email).map_err(|e| CliError::Invalid(format!("--email: {e}")))?;
    let link = crate::service::people::password_links::reset_from_cli(pool, &email)
        .await
        .map_err(|err| match err {
            crate::service::people::PeopleError::NotFound => {
                CliError::Invalid(format!("--email: no account has the email {}", args.email))
            }
            crate::service::people::PeopleError::Database(db) => CliError::Database(db),
            other => CliError::Invalid(other.to_string()),
        })?;
    println!("{}", link.url(public_base));
    eprintln!(
        "this link sets a new password for {} once, until {}; earlier links no longer work",
        email.as_str(),
        link.expires_at.to_rfc3339()
    );
    Ok(())
}

/// `keyward keys ...`: create (the value goes to stdout alone), list, revoke.
pub async fn keys(pool: &PgPool, command: &KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::Create(args) => keys_create(pool, args).await,
        KeysCommand::List { org } => {
            let mut conn = pool.acquire().await?;
            let org = known_org(&mut conn, *org).await?;
            let now = chrono::Utc::now();
            println!("ID\tPUBLIC ID\tNAME\tSTATUS\tSCOPES\tEXPIRES\tLAST USED");
            let mut after = None;
            loop {
                let page = store::api_keys::list(&mut conn, org.id, after, 500).await?;
                for key in &page {
                    let scopes = if key.scoped() {
                        key.scope_list().iter().map(|s| s.name()).collect::<Vec<_>>().join(",")
                    } else {
                        "(unscoped)".to_owned()
                    };
                    let last_used = match (key.last_used_at, key.last_used_ip) {
                        (Some(at), Some(ip)) => format!("{} from {ip}", at.to_rfc3339()),
                        (Some(at), None) => at.to_rfc3339(),
                        _ => "never".to_owned(),
                    };
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        key.id,
                        key.public_id,
                        key.name,
                        key.status(now).as_str(),
                        scopes,
                        key.expires_at.to_rfc3339(),
                        last_used
                    );
                }
                match page.last() {
                    Some(last) if page.len() == 500 => after = Some((last.created_at, last.id)),
                    _ => break,
                }
            }
            Ok(())
        }
        KeysCommand::Revoke { org, key, created_by } => {
            let mut conn = pool.acquire().await?;
            let org = known_org(&mut conn, *org).await?;
            if let Some(email) = created_by {
                let user = known_user(&mut conn, email).await?;
                drop(conn);
                let revoked = keys::revoke_by_creator(
                    pool,
                    None,
                    OrgId::from(org.id),
                    UserId::from(user.id),
                    Actor::System,
                    &Origin::default(),
                )
                .await?;
                eprintln!("revoked {} active key(s) of {}", revoked.len(), user.email);
                for (id, public_id) in revoked {
                    println!("{id}\t{public_id}");
                }
                return Ok(());
            }
            let key = key.as_deref().unwrap_or_default();
            let found = store::api_keys::find(&mut conn, org.id, key)
                .await?
                .ok_or_else(|| CliError::Invalid(format!("no key {key} in organization {}", org.id)))?;
            drop(conn);
            match keys::revoke(
                pool,
                None,
                OrgId::from(org.id),
                KeyId::from(found.id),
                Actor::System,
                &Origin::default(),
            )
            .await?
            {
                Revocation::Revoked { public_id } => eprintln!("revoked {} ({public_id})", found.id),
                Revocation::AlreadyRevoked => eprintln!("{} was already revoked", found.id),
                Revocation::NotFound => {
                    return Err(CliError::Invalid(format!("no key {key} in organization {}", org.id)));
                }
            }
            Ok(())
        }
    }
}

/// `keyward domains ...`: add, verify, remove (each with its audit event), list.
pub async fn domains(pool: &PgPool, command: &DomainsCommand) -> Result<(), CliError> {
    let parse = |name: &str| DomainName::parse(name).map_err(|e| CliError::Invalid(format!("NAME: {e}")));
    let (org, name) = match command {
        DomainsCommand::Add { org, name, .. }
        | DomainsCommand::Verify { org, name }
        | DomainsCommand::Remove { org, name } => (*org, Some(parse(name)?)),
        DomainsCommand::List { org } => (*org, None),
    };
    let org = {
        let mut conn = pool.acquire().await?;
        known_org(&mut conn, org).await?
    };
    let origin = Origin::default();
    let change = domains::Change {
        acting: Acting {
            org_id: org.id,
            actor: Actor::System,
            origin: &origin,
        },
        via: "cli",
    };
    let refused = |err: DomainError| match err {
        DomainError::Database(db) => CliError::Database(db),
        other => CliError::Invalid(other.to_string()),
    };
    match (command, name) {
        (DomainsCommand::Add { claim, .. }, Some(name)) => {
            let claim = match claim {
                ClaimArg::Dns => ClaimType::Dns,
                ClaimArg::Http => ClaimType::Http,
            };
            let domain = domains::add(pool, &change, &name, claim).await.map_err(refused)?;
            eprintln!(
                "{} claimed by {} ({} claim, unverified)",
                domain.name,
                org.name,
                claim.as_str()
            );
            println!("{}", domain.id);
        }
        (DomainsCommand::Verify { .. }, Some(name)) => {
            match domains::verify(pool, &change, &name).await.map_err(refused)? {
                Verification::Verified(domain) => eprintln!("{} is verified for {}", domain.name, org.name),
                Verification::AlreadyVerified(domain) => eprintln!("{} was verified already", domain.name),
            }
        }
        (DomainsCommand::Remove { .. }, Some(name)) => {
            let domain = domains::remove(pool, &change, &name).await.map_err(refused)?;
            eprintln!("{} is no longer claimed by {}", domain.name, org.name);
        }
        _ => {
            let mut conn = pool.acquire().await?;
            let mut after = None;
            loop {
                let page = store::domains::page(&mut conn, org.id, after, 500).await?;
                for domain in &page {
                    println!(
                        "{}\t{}\t{}\t{}",
                        domain.id,
                        domain.name,
                        domain.claim.as_str(),
                        domain.status.as_str()
                    );
                }
                match page.last() {
                    Some(last) if page.len() == 500 => after = Some((last.created_at, last.id)),
                    _ => break,
                }
            }
        }
    }
    Ok(())
}

async fn known_user(conn: &mut sqlx::PgConnection, email: &str) -> Result<store::users::User, CliError> {
    let parsed = Email::parse(email).map_err(|e| CliError::Invalid(format!("--created-by: {e}")))?;
    store::users::find_by_email(conn, &parsed)
        .await?
        .ok_or_else(|| CliError::Invalid(format!("--created-by: no account has the email {email}")))
}

async fn known_org(conn: &mut sqlx::PgConnection, id: uuid::Uuid) -> Result<crate::domain::org::Org, CliError> {
    store::orgs::get(conn, id)
        .await?
        .ok_or_else(|| CliError::Invalid(format!("no organization has the id {id} (see `keyward orgs list`)")))
}

async fn keys_create(pool: &PgPool, args: &KeysCreate) -> Result<(), CliError> {
    let name = KeyName::parse(&args.name).map_err(|e| CliError::Invalid(format!("--name: {e}")))?;
    // A date is the whole of that day in UTC, as through the API.
    let (expiry_flag, expiry) = match (&args.expires_at, args.expires_in_days) {
        (Some(at), _) => ("--expires-at", AskedExpiry::parse(at, chrono_tz::Tz::UTC)),
        (None, Some(days)) => ("--expires-in-days", AskedExpiry::in_days(days)),
        // 30 days, or less when the org's key lifetime policy says so.
        (None, None) => ("--expires-in-days", Ok(AskedExpiry::Default)),
    };
    let expiry = expiry.map_err(|e| CliError::Invalid(format!("{expiry_flag}: {e}")))?;
    let names = (!args.unscoped).then(|| args.scopes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()));
    let scopes = KeyScopes::parse(names).map_err(|e| match e {
        ScopesError::Unknown(name) => CliError::Invalid(format!("--scopes: {}", UnknownScope(name))),
        _ => CliError::Invalid("--scopes: name at least one scope, or pass --unscoped".into()),
    })?;
    let mut conn = pool.acquire().await?;
    let org = known_org(&mut conn, args.org).await?;
    let (created_by, responsible) = match &args.created_by {
        Some(email) => {
            let user = known_user(&mut conn, email).await?;
            (Actor::User(user.id), Some(user.id))
        }
        None => (Actor::System, None),
    };
    drop(conn);
    let request = keys::KeyRequest {
        org_id: OrgId::from(org.id),
        name,
        scopes,
        expiry,
        created_by,
        responsible_user_id: responsible.map(UserId::from),
        origin: Origin::default(),
    };
    let created = keys::create(pool, &Argon2Pool::new(1), &request)
        .await
        .map_err(|e| match e {
            keys::KeyError::Database(db) => CliError::Database(db),
            keys::KeyError::Expiry(e) => CliError::Invalid(format!("{expiry_flag}: {e}")),
            other => CliError::Invalid(other.to_string()),
        })?;
    let (id, token) = (created.id, created.token);
    if created.settled.clamped_to.is_some() {
        eprintln!(
            "{expiry_flag}: the end of that day is past the longest this key may live; it expires at {}",
            created.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    eprintln!(
        "created key {id} ({}) in {}; its value is shown only now",
        token.public_id(),
        org.name
    );
    println!("{}", token.expose_token());
    Ok(())
}

/// The scope explainer, from the endpoint table: each scope, what it is for, and the endpoints
/// it unlocks; then the endpoints any key may call.
pub fn scopes() -> String {
    use std::fmt::Write;
    let operations = crate::startup::operations();
    let mut out = String::new();
    for &scope in Scope::ALL {
        let _ = writeln!(out, "{scope}  ({}: {})", scope.family(), scope.description());
        for endpoint in operations.unlocked_by(scope) {
            let _ = writeln!(
                out,
                "    {:<6} {}  {}",
                endpoint.method.http().as_str(),
                endpoint.path,
                endpoint.summary
            );
        }
    }
    let _ = writeln!(out, "any key, with or without scopes");
    for endpoint in operations.any_key() {
        let _ = writeln!(
            out,
            "    {:<6} {}  {}",
            endpoint.method.http().as_str(),
            endpoint.path,
            endpoint.summary
        );
    }
    out
}
