import type { Command } from 'commander';
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
    .argument('[command...]', "command to run instead of the project's shell command (after --)")
    .option('-b, --build', 'stage the build environment (build dependencies and sources) instead of the runtime')
    .action(async (name: string, command: string[], opts: { build?: boolean }, cmd: Command) => {
      const g = await globalOptions(cmd);
      // Loaded on use, so other commands do not pay for the pipeline's modules.
      const { openPipeline } = await import('../../pipeline/pipeline.js');
      const p = openPipeline({ projectDir: g.projectDir, cacheDir: g.cacheDir, targets: [name], ...g.pipeline });
      try {
        process.exitCode = await p.shell(p.targets[0]!, { build: opts.build === true, command });
      } finally {
        p.close();
      }
    });
}
