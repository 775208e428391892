/** Defaults of the `filter` element (docs/format.md#filter): select from the parent's split domains. */
export const FILTER_YAML = `
config:
  include: []
  exclude: []
  include-orphans: "False"
  pass-integration: "False"
`;
