//! `livret serve`: the relay, serving the web app too.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use livret_relay::{MailSettings, ServerConfig, StoreLocation};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory for the relay's data (SQLite database, logs).
    #[arg(long, default_value = "livret-data")]
    pub data: PathBuf,
    /// Where the relay keeps envelopes, memberships, evidence and the mail queue:
    /// `postgres://user:password@host:5432/livret` for a PostgreSQL database, which
    /// several relay nodes may share (deploy/README.md). Default: SQLite in `--data`.
    #[arg(long, env = "LIVRET_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// A bucket for the evidence pieces, `s3://bucket` or `s3://bucket/prefix`, beside a
    /// PostgreSQL store; reached with the `AWS_*` variables (`AWS_ENDPOINT`, `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`). Default: pieces in
    /// the store.
    #[arg(long, env = "LIVRET_EVIDENCE")]
    pub evidence: Option<String>,
    /// Where invitation mail goes: `smtp://host:port`, `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host:465` (TLS), or `file:///dir` (each mail written
    /// as a file). Default: the `outbox` directory inside `--data`.
    #[arg(long, env = "LIVRET_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The address people open the app at (invitation links point there), and the only
    /// origin devices may sign their login for (a relay they were lured to cannot pass
    /// this one's challenge on). Default: the listening address (and `localhost` on the
    /// IPv4 loopback).
    #[arg(long)]
    pub public_url: Option<String>,
    /// The sender of the relay's mail.
    #[arg(long, default_value = "Livret <livret@localhost>")]
    pub mail_from: String,
    /// A secret that reads `/api/v1/metrics` (`Authorization: Bearer …`). Without it,
    /// metrics answer only requests from this machine that no proxy forwarded.
    #[arg(long, env = "LIVRET_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Days a dossier is kept without activity (counted from its last activity or its
    /// jury, the later); the candidate is mailed 30 and 7 days before the end.
    #[arg(long, default_value_t = livret_shared::deletion::RETENTION_DAYS, value_parser = clap::value_parser!(i64).range(1..))]
    pub retention_days: i64,
}

pub fn run(args: ServeArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LIVRET_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // Blocking work (catch-ups, PDF reads, mail) is bounded where it is started; this caps
    // the threads whatever else queues there (tokio's default allows 512).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("livret: démarrage impossible : {e}");
            return ExitCode::FAILURE;
        }
    };
    let pdf_reader = match super::pdf_reader() {
        Ok(reader) => reader,
        Err(e) => {
            eprintln!("livret: {e}");
            return ExitCode::FAILURE;
        }
    };
    let store = match StoreLocation::from_url(args.store.as_deref()) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("livret: {e}");
            return ExitCode::from(2);
        }
    };
    let config = ServerConfig {
        data: args.data,
        store,
        evidence: args.evidence,
        mail: MailSettings {
            smtp_url: args.smtp_url,
            public_url: args.public_url,
            from: args.mail_from,
        },
        metrics_token: args.metrics_token,
        retention_days: args.retention_days,
        app: crate::app_assets::APP,
        pdf_reader,
    };
    let addr = args.addr;
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("livret: {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let running = match livret_relay::start(listener, config).await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("livret: {e}");
                return ExitCode::from(2);
            }
        };
        // Tests and scripts wait for this exact line to know the port.
        println!("livret: à l'écoute sur http://{}", running.addr);
        match running.until(shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("livret: {addr}: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
