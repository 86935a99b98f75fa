//! One module per subcommand.

mod api;
mod bulk;
mod export;
mod import;
mod new;
mod publish;
mod rerender;
mod serve;
mod status;

use crate::cli::{Cli, Command};

pub use import::Engine;

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(args) => serve::run(args),
        Command::New(args) => new::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Delete(args) => publish::delete(args),
        Command::Upload(args) => publish::upload(args),
        Command::Status(args) => status::run(args),
        Command::Rerender(args) => rerender::run(args),
    }
}
