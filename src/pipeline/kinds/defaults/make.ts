/** Defaults of the `make` build element (docs/format.md#build-elements): no configure step, PREFIX passed to make. */
export const MAKE_YAML = `
variables:
  make: make PREFIX="%{prefix}"
  make-install: make -j1 PREFIX="%{prefix}" DESTDIR="%{install-root}" install

config:
  configure-commands: []
  build-commands:
  - "%{make}"
  install-commands:
  - "%{make-install}"
  strip-commands:
  - "%{strip-binaries}"

environment:
  MAKEFLAGS: -j%{max-jobs}
  V: "1"

environment-nocache:
- MAKEFLAGS
- V
`;
