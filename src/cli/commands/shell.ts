import type { Command } from 'commander';
import { KilnError } from '../../errors.js';
import { globalOptions } from '../context.js';

/**
 * `kiln shell [--build] ELEMENT [-- CMD...]`: a shell (or CMD) in the element's staged runtime
 * (or, with --build, its build environment with sources), with network access, a full /dev
 * and a writable root. Exits with the command's exit code.
 */
export function registerShell(program: Command): void {
  program
    .command('shell')
    .description("run a shell or command in an element's staged sandbox")
    .argument('<element>', 'element name (relative to element-path)')
    .argument('[command...]', 'command to run instead of the project\'s shell command (after --)')
    .option('-b, --build', 'stage the build environment (build dependencies and sources) instead of the runtime')
    .action(async (name: string, command: string[], opts: { build?: boolean }, cmd: Command) => {
      const g = await globalOptions(cmd);
      // Loaded on use, so other commands do not pay for the pipeline's modules.
      const [{ openPipeline }, { prepareShell }, { BwrapSandbox }] = await Promise.all([
        import('../../pipeline/plan/open.js'),
        import('../../pipeline/plan/shell.js'),
        import('../../pipeline/sandbox/bwrap.js'),
      ]);
      const sandbox = new BwrapSandbox();
      const p = openPipeline({ projectDir: g.projectDir, cacheDir: g.cacheDir, targets: [name], sandbox, ...g.pipeline });
      const element = p.targets[0]!;
      const shell = await prepareShell(p.session, element, opts.build === true);
      let code: number;
      try {
        const argv = command.length > 0 ? command : p.loaded.project.shell.command;
        if (argv.length === 0) throw new KilnError('shell-no-command', 'no command to run', 'give one after --, or set shell: command: in project.conf');
        code = await sandbox.exec(argv, shell.root, shell.mounts, shell.env, { cwd: shell.cwd, network: true, interactive: true });
      } finally {
        shell.dispose();
        p.session.close();
      }
      process.exitCode = code;
    });
}
