import type { Command } from 'commander';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import { KilnError } from '../../errors.js';
import { outputError } from '../../fs/file-target.js';
import { printableName } from '../../fs/name-bytes.js';
import type { CheckoutDeps } from '../../pipeline/pipeline.js';
import { globalOptions } from '../context.js';
import { CopyCounter, LiveLine } from '../live.js';

/**
 * `kiln checkout [--deps run|none] [--integrate|--no-integrate] [--tar FILE] [--force] ELEMENT [DIR]`
 * and the 2.x spelling `kiln artifact checkout [--deps run|build|all|none] [--directory DIR]
 * [--tar FILE] ELEMENT`. A directory gets owners only when kiln runs as root (a rootless user
 * cannot chown, nor create device nodes); `--tar` writes owners, modes and device nodes from
 * the artifact manifests, so it is faithful for everyone.
 */

interface CheckoutCliOptions {
  deps: string;
  integrate?: boolean;
  tar?: string;
  force?: boolean;
  directory?: string;
  quiet?: boolean;
  verbose?: boolean;
}

async function runCheckout(cmd: Command, name: string, dir: string | undefined, opts: CheckoutCliOptions, allowed: readonly CheckoutDeps[]): Promise<void> {
  if (!(allowed as readonly string[]).includes(opts.deps)) throw new KilnError('bad-option', `--deps must be ${allowed.join(', ')}, not '${opts.deps}'`);
  if (opts.tar !== undefined && dir !== undefined) throw new KilnError('bad-option', 'give either a directory or --tar FILE, not both');
  if (opts.tar === undefined && dir === undefined) throw new KilnError('bad-option', 'no destination: give a directory, or --tar FILE (- for stdout)');
  const g = await globalOptions(cmd);
  const dest = dir !== undefined ? resolve(dir) : undefined;
  const tarPath = opts.tar !== undefined && opts.tar !== '-' ? resolve(opts.tar) : undefined;
  // refuse a bad destination before any work
  if (dest !== undefined && existsSync(dest)) {
    if (!statSync(dest).isDirectory()) throw new KilnError('checkout-dest', `'${dest}' exists and is not a directory`);
    if (!opts.force && readdirSync(dest).length > 0)
      throw new KilnError('checkout-dest', `'${dest}' is not empty`, 'choose an empty or new directory, or pass --force to write over it');
  }
  if (tarPath !== undefined && existsSync(tarPath) && !opts.force) throw new KilnError('checkout-dest', `'${tarPath}' exists`, 'pass --force to replace it');
  if (dest !== undefined) checkWritable(dest, 'directory');
  if (tarPath !== undefined) checkWritable(tarPath, 'tarball');
  const [{ openPipeline }, { tarChunks, writeTarFile }] = await Promise.all([import('../../pipeline/pipeline.js'), import('../../fs/tar/writer.js')]);
  const p = openPipeline({ projectDir: g.projectDir, cacheDir: g.cacheDir, targets: [name], ...g.pipeline });
  try {
    const tree = await p.checkout(p.targets[0]!, {
      deps: opts.deps as CheckoutDeps,
      // with both --integrate and --no-integrate declared, commander leaves the default unset
      integrate: opts.integrate !== false,
      status: (m) => process.stderr.write(`[checkout] ${m}\n`),
    });
    // progress on a terminal (stderr): files and bytes copied of the total, as mkfs draws it
    const line = new LiveLine(`checking out ${p.targets[0]!.name}`, opts);
    const counter = new CopyCounter((progress) => line.update(progress));
    const done = (text: string): void => {
      counter.flush();
      line.stop();
      if (!opts.quiet) process.stderr.write(`${text}\n`);
      if (opts.verbose) process.stderr.write(`took ${(line.elapsedMs() / 1000).toFixed(1)} s\n`);
    };
    if (opts.tar === '-') {
      counter.watchTree(tree);
      for (const chunk of tarChunks(tree)) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
      counter.flush();
      line.stop();
    } else if (tarPath !== undefined) {
      counter.watchTree(tree);
      try {
        writeTarFile(tree, tarPath);
      } catch (e) {
        line.stop();
        throw outputError(e, tarPath, 'writing');
      }
      done(`checked out ${p.targets[0]!.name} to ${tarPath}`);
    } else {
      let skipped: string[];
      let xattrsDropped: string[];
      // the content is copied as it is (reflinks where the filesystem can), each file counted once written
      counter.expectTree(tree);
      try {
        // a directory this checkout created is removed again on failure: no partial checkout under the name
        ({ skipped, xattrsDropped } = p.writeCheckout(tree, dest!, { merge: opts.force === true, onFileWritten: (bytes) => counter.copied(bytes) }));
      } catch (e) {
        line.stop();
        throw e;
      }
      counter.flush();
      line.stop();
      if (skipped.length > 0) {
        process.stderr.write(
          `WARNING could not create ${skipped.length} special file(s) without root (${skipped.slice(0, 5).map(printableName).join(', ')}${skipped.length > 5 ? ', ...' : ''}); use --tar for a faithful copy\n`,
        );
      }
      if (xattrsDropped.length > 0) {
        process.stderr.write(
          `WARNING extended attributes of ${xattrsDropped.length} path(s) were not written to the directory (${xattrsDropped.slice(0, 5).map(printableName).join(', ')}${xattrsDropped.length > 5 ? ', ...' : ''}); use --tar to keep them\n`,
        );
      }
      done(`checked out ${p.targets[0]!.name} to ${dest}`);
    }
  } finally {
    p.close();
  }
}

/**
 * Refuses, before any work, a destination kiln could not create: the nearest existing
 * directory on its path must be writable (and searchable) by the user running kiln.
 */
function checkWritable(path: string, what: string): void {
  let dir = what === 'directory' && existsSync(path) ? path : dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new KilnError('checkout-dest', `cannot check out to '${path}': ${(e as Error).message}`);
  }
  if (!st.isDirectory()) throw new KilnError('checkout-dest', `cannot check out to '${path}': '${dir}' is not a directory`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new KilnError(
      'checkout-dest',
      `cannot check out to '${path}': permission denied, '${dir}' is not writable for this user`,
      `choose a ${what} you may write to, or make '${dir}' writable`,
    );
  }
}

function common(c: Command): Command {
  return c
    .option('--integrate', 'run integration commands (default)')
    .option('--no-integrate', 'do not run integration commands')
    .option('--tar <file>', 'write a tarball instead of a directory (- for stdout)')
    .option('-f, --force', 'write into a non-empty directory, or replace an existing tarball')
    .option('-q, --quiet', 'print nothing but errors and warnings (no progress, no summary)')
    .option('-v, --verbose', 'also print progress without a terminal (a line every 5 s) and the time taken');
}

export function registerCheckout(program: Command): void {
  common(
    program
      .command('checkout')
      .description("copy an element's staged artifact (with its runtime dependencies) out of the cache")
      .argument('<element>', 'element name (relative to element-path)')
      .argument('[directory]', 'destination directory (created if missing; must be empty unless --force)')
      .option('--deps <which>', 'run (the element and its runtime dependencies) or none', 'run'),
  ).action(async (name: string, dir: string | undefined, opts: CheckoutCliOptions, cmd: Command) => runCheckout(cmd, name, dir, opts, ['run', 'none']));

  const artifact = program.command('artifact').description('artifact cache commands (2.x spelling)');
  common(
    artifact
      .command('checkout')
      .description("copy an element's staged artifact out of the cache")
      .argument('<element>', 'element name (relative to element-path)')
      .option('--deps <which>', 'run, build, all or none', 'run')
      .option('--directory <dir>', 'destination directory (default: ./<element name without .bst>)'),
  ).action(async (name: string, opts: CheckoutCliOptions, cmd: Command) => {
    const dir =
      opts.tar !== undefined
        ? undefined
        : (opts.directory ??
          name
            .replace(/\.bst$/, '')
            .split('/')
            .pop()!);
    return runCheckout(cmd, name, dir, opts, ['run', 'build', 'all', 'none']);
  });
}
