//! `livret`: the relay (which also serves the web app) and the command-line client.

mod app_assets;
mod cli;
mod client;
mod clock;
mod invitations;
mod jury_keys;
mod limits;
mod mail;
mod pdf_reader;
mod relay;
mod reminders;
mod serve;
mod store;

fn main() -> std::process::ExitCode {
    cli::run()
}
