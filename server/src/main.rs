//! `livret`: the command line. `livret serve` runs the relay (`livret-relay`), which also
//! serves the web app embedded here; the other subcommands are a device (`livret-client`).

mod app_assets;
mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
