/** Defaults of the `import` element (docs/format.md#import): the whole staged source tree at the root. */
export const IMPORT_YAML = `
config:
  source: /
  target: /
`;
