/** Defaults of the `compose` element (docs/format.md#compose): everything, integrated. */
export const COMPOSE_YAML = `
config:
  integrate: "True"
  include: []
  exclude: []
  include-orphans: "True"
`;
