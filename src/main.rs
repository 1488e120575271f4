//! The `keyward` command: `serve` (the default), `migrate`, and automation commands.

use std::net::TcpListener;
use std::process::ExitCode;

use keyward::cli::{self, CliError};
use keyward::config::{self, AdminCommand, Cli, Command};
use keyward::database::Database;
use keyward::startup::Application;
use keyward::telemetry;

fn main() -> ExitCode {
    let cli = config::parse_or_exit();
    telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("keyward: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    if let Some(Command::Scopes) = cli.command {
        print!("{}", cli::scopes());
        return ExitCode::SUCCESS;
    }
    let database = match Database::open(&cli.database).await {
        Ok(database) => database,
        Err(err) => {
            eprintln!("keyward: {err}");
            return if err.is_configuration() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            };
        }
    };
    let outcome = tokio::select! {
        outcome = command(&cli, &database) => outcome,
        _ = interrupted(), if !cli.serves() => {
            Err(CliError::Invalid("interrupted".into()))
        }
    };
    database.close().await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("keyward: {err}");
            match err {
                CliError::Invalid(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn command(cli: &Cli, database: &Database) -> Result<(), CliError> {
    match &cli.command {
        None | Some(Command::Serve(_)) => {
            let serve = cli.serve_args();
            let listener = TcpListener::bind(serve.listen)
                .map_err(|e| CliError::Invalid(format!("cannot listen on {}: {e}", serve.listen)))?;
            let app = Application::build(listener, database.pool.clone(), serve)
                .await
                .map_err(|e| CliError::Invalid(e.to_string()))?;
            tracing::info!("keyward listening on http://{}:{}", serve.listen.ip(), app.port());
            if let (Some(metrics), Some(port)) = (serve.metrics_listen, app.metrics_port()) {
                tracing::info!("metrics on http://{}:{port}/metrics", metrics.ip());
            }
            app.run_until_stopped().await?;
            tracing::info!("keyward stopped");
            Ok(())
        }
        Some(Command::Migrate) => {
            eprintln!("migrations are applied");
            Ok(())
        }
        Some(Command::Admin(AdminCommand::Add(args))) => cli::admin_add(&database.pool, args).await,
        Some(Command::Admin(AdminCommand::ResetPassword(args))) => {
            let public_base = match &args.public_url {
                Some(url) => url.as_str().trim_end_matches('/').to_owned(),
                None => cli.serve_args().public_base(),
            };
            cli::reset_password(&database.pool, args, &public_base).await
        }
        Some(Command::Orgs(command)) => cli::orgs(&database.pool, command).await,
        Some(Command::Keys(command)) => cli::keys(&database.pool, command).await,
        Some(Command::Policies(command)) => cli::policies(&database.pool, command).await,
        Some(Command::Domains(command)) => cli::domains(&database.pool, command).await,
        Some(Command::Scopes) => Ok(()),
    }
}

/// Resolves on SIGINT or SIGTERM, so commands stop the private cluster on the way out.
async fn interrupted() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
