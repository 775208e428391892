/** Defaults of the `filter` element (FORMAT.md §5): select from the parent's split domains. */
export const FILTER_YAML = `
config:
  include: []
  exclude: []
  include-orphans: "False"
  pass-integration: "False"
`;
