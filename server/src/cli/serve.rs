//! `livret serve`: the relay, serving the web app too.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory for the relay's data (SQLite database, logs).
    #[arg(long, default_value = "livret-data")]
    pub data: PathBuf,
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
}

pub fn run(args: ServeArgs) -> ExitCode {
    crate::serve::run(
        args.addr,
        args.data,
        crate::serve::MailSettings {
            smtp_url: args.smtp_url,
            public_url: args.public_url,
            from: args.mail_from,
        },
        args.metrics_token,
    )
}
