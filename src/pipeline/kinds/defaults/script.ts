/** Defaults of the `script` element (docs/format.md#script); `layout` is deliberately unset. */
export const SCRIPT_YAML = `
variables:
  cwd: /

config:
  commands: []
  root-read-only: "False"
`;
