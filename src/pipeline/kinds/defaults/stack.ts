/** The `stack` element has no configuration: it only groups dependencies (docs/format.md#stack). */
export const STACK_YAML = `
config: {}
`;
