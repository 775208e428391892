/** Defaults of the `cmake` build element (docs/format.md#build-elements, 1.4): out-of-tree build in _builddir. */
export const CMAKE_YAML = `
variables:
  build-dir: _builddir
  generator: Unix Makefiles
  cmake-extra: ""
  cmake-global: ""
  cmake-local: ""
  cmake-args: |
    -DCMAKE_INSTALL_PREFIX:PATH="%{prefix}" \\
    -DCMAKE_INSTALL_LIBDIR:PATH="%{lib}" %{cmake-extra} %{cmake-global} %{cmake-local}
  cmake: cmake -B%{build-dir} -H. -G"%{generator}" %{cmake-args}
  make: cmake --build %{build-dir} -- \${JOBS}
  make-install: env DESTDIR="%{install-root}" cmake --build %{build-dir} --target install

config:
  configure-commands:
  - "%{cmake}"
  build-commands:
  - "%{make}"
  install-commands:
  - "%{make-install}"
  strip-commands:
  - "%{strip-binaries}"

environment:
  JOBS: -j%{max-jobs}

environment-nocache:
- JOBS
`;
