/** The `stack` element has no configuration: it only groups dependencies (FORMAT.md §5). */
export const STACK_YAML = `
config: {}
`;
