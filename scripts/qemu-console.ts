/**
 * Boots a disk image under qemu (software emulation, serial console on stdio) and drives the
 * console as a person would: wait for a shell prompt, run `hello`, expect "Hello World!", then
 * `poweroff -f`. Used by `npm run example` and by the end-to-end test.
 */
import { spawn } from 'node:child_process';

export interface BootOptions {
  /** Milliseconds to wait for the whole session (default 300 s). */
  timeoutMs?: number;
  /** Called with each milestone ("shell prompt", "Hello World!", "qemu exited") and its time. */
  onMilestone?: (what: string, seconds: number) => void;
  /** Called with raw console output as it arrives (e.g. to show it live). */
  onOutput?: (text: string) => void;
  /**
   * UEFI firmware (OVMF) instead of qemu's BIOS: its code, mapped read-only, and a scratch
   * copy of its variable store, which the firmware writes (boot entries it creates).
   */
  uefi?: { code: string; vars: string };
}

/** qemu's arguments for booting `image` with a serial console on stdio. */
export function qemuArgs(image: string, uefi?: BootOptions['uefi']): string[] {
  const firmware = uefi ? ['-drive', `if=pflash,format=raw,readonly=on,file=${uefi.code}`, '-drive', `if=pflash,format=raw,file=${uefi.vars}`] : [];
  return ['-nographic', '-m', '256', '-no-reboot', ...firmware, '-drive', `file=${image},format=raw`];
}

/** `text` without terminal control sequences (CSI: ESC [ parameters final-byte). */
export function withoutControls(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[@-~]/g, '');
}

/**
 * Whether the console's last line is a shell prompt. busybox's line editing follows its prompt
 * with a cursor-position query (ESC [ 6 n); when both arrive in one read the prompt is not at
 * the end, so terminal controls are dropped first.
 */
export function atShellPrompt(transcript: string): boolean {
  return /[#$] $/m.test(withoutControls(transcript.slice(-200)));
}

/** Resolves with the console transcript once qemu powered off after `hello` printed Hello World!. */
export function bootToHello(qemu: string, image: string, options: BootOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const child = spawn(qemu, qemuArgs(image, options.uefi), { stdio: ['pipe', 'pipe', 'pipe'] });
  let transcript = '';
  let stage: 'shell' | 'hello' | 'poweroff' | 'done' = 'shell';
  const started = Date.now();
  const milestone = (what: string): void => options.onMilestone?.(what, (Date.now() - started) / 1000);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${stage}\n--- console ---\n${transcript}`));
    }, timeoutMs);
    const poke = setInterval(() => {
      // busybox init asks "Please press Enter to activate this console."; a newline also re-prompts
      if (stage === 'shell') child.stdin.write('\n');
    }, 3000);
    const onData = (d: Buffer): void => {
      const text = d.toString('latin1');
      transcript += text;
      options.onOutput?.(text);
      if (stage === 'shell' && atShellPrompt(transcript)) {
        stage = 'hello';
        milestone('shell prompt');
        child.stdin.write('hello\n');
      } else if (stage === 'hello' && /^Hello World!\r?$/m.test(transcript)) {
        stage = 'poweroff';
        milestone('Hello World!');
        child.stdin.write('poweroff -f\n');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => {
      clearTimeout(timer);
      clearInterval(poke);
      reject(new Error(`cannot start ${qemu}: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      clearInterval(poke);
      if (stage === 'poweroff' && code === 0) {
        stage = 'done';
        milestone('qemu exited');
        resolve(transcript);
      } else reject(new Error(`qemu exited (code ${code}) while waiting for ${stage}\n--- console ---\n${transcript}`));
    });
  });
}

/** The `[fix-missing]` lines of kiln's output: which pins a build had to re-pin. */
export function repinnedLines(kilnOutput: string): string[] {
  const out: string[] = [];
  let inBlock = false;
  for (const line of kilnOutput.split('\n')) {
    if (line.startsWith('[fix-missing] ')) {
      out.push(line.trim());
      inBlock = true;
    } else if (inBlock && /^ {4}\S/.test(line)) out.push(line.trim());
    else inBlock = false;
  }
  return out;
}
