/** Defaults of the `compose` element (FORMAT.md §5): everything, integrated. */
export const COMPOSE_YAML = `
config:
  integrate: "True"
  include: []
  exclude: []
  include-orphans: "True"
`;
