/**
 * Defaults of the `autotools` build element (docs/format.md#build-elements, the 1.4 behaviour): autogen only when
 * configure is not already executable, then configure with the directory variables, make, and an
 * install into the install root.
 */
export const AUTOTOOLS_YAML = `
variables:
  autogen: |
    export NOCONFIGURE=1;
    if [ -x %{conf-cmd} ]; then true;
    elif [ -x ./autogen ]; then ./autogen;
    elif [ -x ./autogen.sh ]; then ./autogen.sh;
    elif [ -x ./bootstrap ]; then ./bootstrap;
    elif [ -x ./bootstrap.sh ]; then ./bootstrap.sh;
    else autoreconf -ivf;
    fi
  conf-cmd: ./configure
  conf-extra: ""
  conf-global: ""
  conf-local: ""
  conf-args: |
    --prefix=%{prefix} \\
    --exec-prefix=%{exec_prefix} \\
    --bindir=%{bindir} \\
    --sbindir=%{sbindir} \\
    --sysconfdir=%{sysconfdir} \\
    --datadir=%{datadir} \\
    --includedir=%{includedir} \\
    --libdir=%{libdir} \\
    --libexecdir=%{libexecdir} \\
    --localstatedir=%{localstatedir} \\
    --sharedstatedir=%{sharedstatedir} \\
    --mandir=%{mandir} \\
    --infodir=%{infodir} %{conf-extra} %{conf-global} %{conf-local}
  configure: "%{conf-cmd} %{conf-args}"
  make: make
  make-install: make -j1 DESTDIR="%{install-root}" install

config:
  configure-commands:
  - "%{autogen}"
  - "%{configure}"
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
