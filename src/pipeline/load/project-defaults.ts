/**
 * The builtin project defaults that project.conf is composited onto (docs/format.md#project-configuration):
 * BuildStream 1.x's default variables (as 1.6 writes them), the sandbox environment, the
 * split-rule domains and the shell settings. Read with the same loader as every project file
 * (display name below).
 *
 * strip-binaries is 1.x's: each ELF file under the install root gets its debug info split into
 * %{debugdir} and is stripped, with the binutils of the build's own sandbox (where the shell lacks
 * `read -n` or there is no objcopy the file stays as it is, though its directory under %{debugdir}
 * may be made). A project sets it to "" for 2.x's behaviour.
 */
export const PROJECT_DEFAULTS_FILE = '<builtin project defaults>';

export const PROJECT_DEFAULTS_YAML = `
variables:
  prefix: /usr
  exec_prefix: "%{prefix}"
  bindir: "%{exec_prefix}/bin"
  sbindir: "%{exec_prefix}/sbin"
  libexecdir: "%{exec_prefix}/libexec"
  datadir: "%{prefix}/share"
  sysconfdir: /etc
  sharedstatedir: "%{prefix}/com"
  localstatedir: /var
  lib: lib
  libdir: "%{prefix}/%{lib}"
  debugdir: "%{libdir}/debug"
  includedir: "%{prefix}/include"
  docdir: "%{datadir}/doc"
  infodir: "%{datadir}/info"
  mandir: "%{datadir}/man"
  build-root: /buildstream/%{project-name}/%{element-name}
  install-root: /buildstream-install
  conf-root: "."
  objcopy-link-args: --add-gnu-debuglink
  objcopy-extract-args: --only-keep-debug --compress-debug-sections
  strip-args: --remove-section=.comment --remove-section=.note --strip-unneeded
  strip-binaries: |
    cd "%{install-root}" && find -type f \\
      '(' -perm -111 -o -name '*.so*' \\
          -o -name '*.cmxs' -o -name '*.node' ')' \\
      -exec sh -ec \\
      'read -n4 hdr <"$1" # check for elf header
       if [ "$hdr" != "$(printf \\\\x7fELF)" ]; then
           exit 0
       fi
       debugfile="%{install-root}%{debugdir}/$1"
       mkdir -p "$(dirname "$debugfile")"
       objcopy %{objcopy-extract-args} "$1" "$debugfile"
       chmod 644 "$debugfile"
       strip %{strip-args} "$1"
       objcopy %{objcopy-link-args} "$debugfile" "$1"' - {} ';'
  fix-pyc-timestamps: |
    find "%{install-root}" -name '*.pyc' -exec \\
      dd if=/dev/zero of={} bs=1 count=4 seek=4 conv=notrunc ';'

environment:
  PATH: /usr/bin:/bin:/usr/sbin:/sbin
  SHELL: /bin/sh
  TERM: dumb
  USER: tomjon
  USERNAME: tomjon
  LOGNAME: tomjon
  LC_ALL: C
  HOME: /tmp
  TZ: UTC
  SOURCE_DATE_EPOCH: "1320937200"

environment-nocache: []

split-rules:
  runtime:
  - "%{bindir}/*"
  - "%{sbindir}/*"
  - "%{libexecdir}/*"
  - "%{libdir}/lib*.so*"
  devel:
  - "%{includedir}"
  - "%{includedir}/**"
  - "%{libdir}/lib*.a"
  - "%{libdir}/lib*.la"
  - "%{libdir}/pkgconfig/*.pc"
  - "%{datadir}/pkgconfig/*.pc"
  - "%{datadir}/aclocal/*.m4"
  debug:
  - "%{debugdir}"
  - "%{debugdir}/**"
  doc:
  - "%{docdir}"
  - "%{docdir}/**"
  - "%{infodir}"
  - "%{infodir}/**"
  - "%{mandir}"
  - "%{mandir}/**"
  locale:
  - "%{datadir}/locale"
  - "%{datadir}/locale/**"
  - "%{datadir}/i18n"
  - "%{datadir}/i18n/**"
  - "%{datadir}/zoneinfo"
  - "%{datadir}/zoneinfo/**"

sandbox:
  build-uid: "0"
  build-gid: "0"

shell:
  command:
  - sh
  - -i

ref-storage: inline
fatal-warnings: []
`;
