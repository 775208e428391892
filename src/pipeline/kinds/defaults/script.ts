/** Defaults of the `script` element (FORMAT.md §5); `layout` is deliberately unset. */
export const SCRIPT_YAML = `
variables:
  cwd: /

config:
  commands: []
  root-read-only: "False"
`;
