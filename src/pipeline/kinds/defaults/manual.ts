/** Defaults of the `manual` build element (docs/format.md#build-elements): only the strip step has a command. */
export const MANUAL_YAML = `
config:
  configure-commands: []
  build-commands: []
  install-commands: []
  strip-commands:
  - "%{strip-binaries}"

environment:
  MAKEFLAGS: -j%{max-jobs}
  V: "1"

environment-nocache:
- MAKEFLAGS
- V
`;
