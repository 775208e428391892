/** Colour on a terminal, the one rule every command follows (https://no-color.org). */

/** Whether to colour: a terminal, NO_COLOR unset or empty, TERM not dumb. */
export function useColour(stream: { isTTY?: boolean }): boolean {
  const no = process.env.NO_COLOR;
  if (no !== undefined && no !== '') return false;
  if (process.env.TERM === 'dumb') return false;
  return Boolean(stream.isTTY);
}

/** `kiln: error:` (bold red on a colour terminal), the start of every error kiln prints. */
export function errorPrefix(stream: { isTTY?: boolean } = process.stderr): string {
  return useColour(stream) ? '\x1b[1;31mkiln: error:\x1b[0m' : 'kiln: error:';
}
