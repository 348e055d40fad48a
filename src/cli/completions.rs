//! `fair completions` and `fair man`: shell completion scripts and the manual
//! page, generated from the command line's definition (so they never drift).

use clap_complete::Shell;

use crate::Exit;

const COMPLETION_EXAMPLES: &str = "\
Examples:
  fair completions bash > ~/.local/share/bash-completion/completions/fair
  fair completions zsh > ~/.zfunc/_fair          # with fpath+=~/.zfunc in .zshrc
  fair completions fish > ~/.config/fish/completions/fair.fish";

/// Flags of `fair completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = COMPLETION_EXAMPLES)]
pub struct Args {
    /// The shell: bash, zsh, fish, elvish, powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Flags of `fair man`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  fair man > fair.1 && man -l fair.1")]
pub struct ManArgs {}

/// Runs `fair completions`: the script on stdout.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let mut command = super::command();
    clap_complete::generate(args.shell, &mut command, "fair", &mut std::io::stdout());
    Ok(Exit::Success)
}

/// Runs `fair man`: the roff manual page fair(1) on stdout, with every subcommand.
pub fn man(_: &ManArgs) -> anyhow::Result<Exit> {
    let command = super::command();
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(command.clone()).render(&mut out)?;
    for sub in command.get_subcommands() {
        let name = format!("fair {}", sub.get_name());
        let sub = sub.clone().name(name);
        let man = clap_mangen::Man::new(sub);
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        man.render_synopsis_section(&mut out)?;
        man.render_description_section(&mut out)?;
        man.render_options_section(&mut out)?;
        man.render_extra_section(&mut out)?;
    }
    Ok(Exit::Success)
}
