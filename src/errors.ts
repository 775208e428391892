/**
 * Errors a user can act on: what went wrong, where, and what to do.
 * The CLI prints `message` (plus `hint`) and exits non-zero; library users can switch on `code`.
 */
export class KilnError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.name = 'KilnError';
    this.code = code;
    this.hint = hint;
  }
  /** Message plus hint, as the CLI prints it. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }
}

/** A position in a source file, 1-based, for YAML and layout errors. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export function formatPosition(pos: SourcePosition): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}
