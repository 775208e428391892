import { Argument, type Command } from 'commander';
import { completionScript, SHELLS, type Shell } from '../completion.js';

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script for bash, zsh or fish (commands, subcommands and options of this kiln)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      `
Load it:
  bash  source <(kiln completion bash)      (or save it as ~/.local/share/bash-completion/completions/kiln)
  zsh   source <(kiln completion zsh)       (or save it as _kiln in a directory of $fpath)
  fish  kiln completion fish | source       (or save it as ~/.config/fish/completions/kiln.fish)`,
    )
    .action((shell: Shell, _opts: unknown, cmd: Command) => {
      let root = cmd;
      while (root.parent) root = root.parent;
      process.stdout.write(completionScript(root, shell));
    });
}
