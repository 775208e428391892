/** Defaults of the `import` element (FORMAT.md §5): the whole staged source tree at the root. */
export const IMPORT_YAML = `
config:
  source: /
  target: /
`;
