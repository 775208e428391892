/**
 * The catalogue of error codes: every `code` a KilnError carries, what it means and what to do.
 * This is the one list: docs/errors.md is generated from it (`npm run errors-doc`), and
 * test/error-codes.test.ts checks that every code src/ constructs is here, that every code here
 * is constructed somewhere, and that docs/errors.md matches. The codes are stable: programs and
 * tests switch on them, so a message may change but a code is only ever added.
 */

/** The parts of kiln an error can come from, in the order docs/errors.md lists them. */
export const ERROR_AREAS = {
  cli: 'Command line',
  values: 'Sizes and UUIDs',
  output: 'Output files and image files',
  tree: 'File trees and the files they are read from',
  tar: 'Tar archives and compression',
  ext4: 'ext4',
  fat: 'FAT',
  swap: 'Swap',
  cpio: 'cpio and initramfs',
  table: 'Partition tables and reading images',
  layout: 'Disk layouts and assembly',
  syslinux: 'SYSLINUX',
  uefi: 'UEFI kernel images',
  project: 'Loading a project',
  kinds: 'Element kinds',
  sources: 'Sources',
  debian: 'Debian packages',
  build: 'Planning and building',
  sandbox: 'The build sandbox',
  cache: 'Artifact and source caches',
  remote: 'Remote caches',
  warning: 'Warnings made fatal',
} as const;

export type ErrorArea = keyof typeof ERROR_AREAS;

/** One catalogue entry. */
export interface ErrorCodeInfo {
  area: ErrorArea;
  /** What happened, in general terms (the message itself names the file, value and place). */
  meaning: string;
  /** What a user does about it. */
  action: string;
}

/** Every error code kiln reports. */
export const ERROR_CODES = {
  // Command line
  'bad-args': {
    area: 'cli',
    meaning: 'The arguments of a command do not go together: one is missing, or two exclude each other.',
    action: 'Follow the usage line the message or `kiln COMMAND --help` shows.',
  },
  'bad-env': {
    area: 'cli',
    meaning: 'An environment variable kiln reads (SOURCE_DATE_EPOCH) has a value it cannot use.',
    action: 'Set it to a non-negative whole number of seconds, or unset it.',
  },
  'bad-format': {
    area: 'cli',
    meaning: '`kiln show --format` holds an unknown %{token} or a format spec kiln does not implement.',
    action: 'Use the tokens the hint lists, with an optional [[fill]align][width] spec such as %{state: >12}.',
  },
  'bad-option': {
    area: 'cli',
    meaning: 'An option value is out of range or of the wrong form: a size, label, UUID, block size, count, --deps value or project option.',
    action: 'Give a value of the form the message and hint name; `kiln COMMAND --help` lists each option.',
  },
  'bad-usage': {
    area: 'cli',
    meaning: 'The command line does not match the command: an unknown option, a missing argument or one too many. Exit status 2.',
    action: 'See `kiln COMMAND --help`.',
  },
  'checkout-dest': {
    area: 'cli',
    meaning: 'The checkout destination exists and is not an empty directory (or, with --tar, the file exists).',
    action: 'Name a new or empty directory, or pass --force to write over it.',
  },
  'directory-loop': {
    area: 'cli',
    meaning: 'While listing an image recursively, a directory turned up again under another name: the image is damaged.',
    action: 'Check the image with e2fsck -fn or fsck.fat -n; list the parts before the loop by path.',
  },
  'no-remote': {
    area: 'cli',
    meaning: 'A remote-cache command found no remote cache to use, or none that accepts pushes.',
    action: 'Give --remote URL, or list the cache under `artifacts:` in kiln.conf or project.conf (with `push: true` to push).',
  },
  'not-an-image': {
    area: 'cli',
    meaning: 'The file holds neither a partition table nor a filesystem kiln knows, or is smaller than one sector.',
    action: 'Name a disk or filesystem image; blkid or file(1) may tell what the file is.',
  },
  'not-on-remote': {
    area: 'cli',
    meaning: 'No remote cache holds the artifacts asked for.',
    action: 'Build them where a remote with `push: true` is configured, so that the build pushes them.',
  },
  'output-exists': {
    area: 'cli',
    meaning: 'The output file already exists.',
    action: 'Pass --force to replace it, or name another output.',
  },
  'remote-failed': {
    area: 'cli',
    meaning: 'A remote cache did not answer or refused the request.',
    action: 'Check that the server is up and reachable and that the credentials are right, then run the command again.',
  },
  'shell-no-command': {
    area: 'cli',
    meaning: '`kiln shell` has no command to run.',
    action: 'Give one after --, or set `shell: command:` in project.conf.',
  },

  // Sizes and UUIDs
  'bad-size': {
    area: 'values',
    meaning: 'A size is not a whole number of bytes with an optional suffix, or is too large.',
    action: 'Write a number with K, M, G or T (powers of 1024) or KB, MB, GB (powers of 1000), e.g. 64M.',
  },
  'bad-uuid': {
    area: 'values',
    meaning: 'A UUID is not 32 hexadecimal digits in the 8-4-4-4-12 form.',
    action: 'Write it as, e.g., 0f5a3c1e-6b2d-4e8f-9a7b-1c2d3e4f5a6b.',
  },

  // Output files and image files
  aborted: {
    area: 'output',
    meaning: 'A write was aborted through its AbortSignal.',
    action: 'None if that was meant. A target created by kiln leaves nothing under its name; a caller-given target holds a partial image.',
  },
  'bad-output': {
    area: 'output',
    meaning:
      'The output cannot be created where it was named: permission denied, a read-only filesystem, a missing directory, a name too long, or a directory.',
    action: 'Name a writable path to a file in an existing directory.',
  },
  'bad-target': {
    area: 'output',
    meaning: 'The target given to a disk write is smaller than the planned disk.',
    action: 'Give a target of at least the size the plan reports (planDisk).',
  },
  'disk-full': {
    area: 'output',
    meaning: 'The disk or the quota holding the output ran out of space. Nothing is left under the output name.',
    action: 'Free some space, or write the output to another disk.',
  },
  'file-too-large': {
    area: 'output',
    meaning: 'The filesystem holding the output, or the file size limit (ulimit -f), does not allow a file that large.',
    action: 'Write to a filesystem that allows larger files (ext4: 16 TiB), or make the image smaller.',
  },
  interrupted: {
    area: 'output',
    meaning: 'A signal (Ctrl-C, SIGTERM) stopped the write; the partial output was removed.',
    action: 'Run the command again.',
  },
  'io-error': {
    area: 'output',
    meaning: 'The operating system reported an I/O error reading or writing a file.',
    action: 'The disk may be failing: check dmesg.',
  },
  'no-image': {
    area: 'output',
    meaning: 'The image file cannot be opened (missing, unreadable, or a directory).',
    action: 'Name an existing image file you may read (and write, to change it).',
  },

  // File trees and the files they are read from
  'bad-path': {
    area: 'tree',
    meaning: "A path given to a file tree contains '..'.",
    action: 'Use paths inside the tree.',
  },
  'no-source': {
    area: 'tree',
    meaning: 'A file or directory to read from (a source directory, tar archive, file destination or syslinux config) is missing or unreadable.',
    action: 'Name an existing, readable path; it must stay there until the image is written.',
  },
  'short-content': {
    area: 'tree',
    meaning: "A file's content ended before the size recorded for it while it was copied.",
    action: 'Make sure nothing changes the files while kiln reads them, then run again.',
  },
  'short-read': {
    area: 'tree',
    meaning: 'A file ended before its recorded size while the ext4 image was written.',
    action: 'Make sure nothing changes the files while kiln reads them, then run again.',
  },
  'source-changed': {
    area: 'tree',
    meaning: 'A source file shrank or vanished after the tree was read.',
    action: 'Make sure nothing changes the source while kiln reads it, then run again.',
  },
  'tar-bad-link': {
    area: 'tree',
    meaning: 'A tar member is a hard link to a member that comes later or not at all.',
    action: 'Repack the archive so that each link follows its target.',
  },
  'tar-escape': {
    area: 'tree',
    meaning: "A tar member's path is absolute or climbs out of the root with '..'.",
    action: 'Remove the member or repack the archive.',
  },
  'tree-dir-link': {
    area: 'tree',
    meaning: 'A hard link to or from a directory was asked for; directories cannot be hard-linked.',
    action: 'Link files only.',
  },
  'tree-exists': {
    area: 'tree',
    meaning: 'A path added to a file tree is already there (or exists with another type).',
    action: 'Add each path once.',
  },
  'tree-missing': {
    area: 'tree',
    meaning: 'A hard link names a target that is not in the tree.',
    action: 'Add the target first.',
  },
  'tree-no-parent': {
    area: 'tree',
    meaning: 'A path was added before its directory.',
    action: 'Add the directory first (FileTree.mkdirp creates the chain).',
  },
  'tree-not-dir': {
    area: 'tree',
    meaning: 'A path goes through something in the tree that is not a directory.',
    action: 'Fix the path, or replace the non-directory.',
  },
  unreadable: {
    area: 'tree',
    meaning: 'A file or directory of the source cannot be read or listed.',
    action: 'Fix its permissions, or leave it out of the source.',
  },
  'xattr-parse': {
    area: 'tree',
    meaning: 'getfattr printed an extended attribute value kiln cannot parse.',
    action: 'Report it with the file name the message gives.',
  },
  'xattr-read': {
    area: 'tree',
    meaning: 'getfattr failed to read the extended attributes of the source (when it is not installed, kiln warns and goes on without them).',
    action: "Act on getfattr's message (often: permissions of the source directory).",
  },

  // Tar archives and compression
  'bad-archive': {
    area: 'tar',
    meaning: 'The decompressor failed on an archive or package member.',
    action: 'The file is damaged or not in the format its name says: fetch or make it again.',
  },
  'no-decompressor': {
    area: 'tar',
    meaning: 'The program that decompresses this archive (xz, bzip2 or zstd) cannot be run.',
    action: 'Install the Debian package the hint names.',
  },
  'tar-corrupt': {
    area: 'tar',
    meaning: 'A tar header has a wrong checksum.',
    action: 'Check that the file is a tar archive compressed with gzip, bzip2, xz or zstd, and not damaged.',
  },
  'tar-truncated': {
    area: 'tar',
    meaning: 'The tar archive ends inside a header or a member.',
    action: 'The file is truncated: fetch or make it again.',
  },
  'tar-unsupported': {
    area: 'tar',
    meaning: 'A tree entry has a type tar cannot store.',
    action: 'Leave the entry out of the archive.',
  },

  // ext4
  'bad-name': {
    area: 'ext4',
    meaning: 'A file name contains a NUL byte.',
    action: 'Rename the file.',
  },
  'bad-tree': {
    area: 'ext4',
    meaning: "The tree cannot become an ext4 filesystem as it is: 'lost+found' is not a directory, or a symlink target is empty or too long.",
    action: 'Fix the entry the message names.',
  },
  'bad-xattr': {
    area: 'ext4',
    meaning: 'An extended attribute cannot be stored: an unknown namespace, a name over 255 bytes, a malformed POSIX ACL, or too much for one inode.',
    action: "Use 'user.', 'trusted.', 'security.' or 'system.' names of at most 255 bytes, and fewer or smaller values.",
  },
  'dir-too-large': {
    area: 'ext4',
    meaning: 'A directory has more entries than a two-level hashed index holds.',
    action: 'Split the directory.',
  },
  'ext4-checksum': {
    area: 'ext4',
    meaning: 'A metadata checksum of the ext4 image does not match.',
    action: 'The image is damaged (e2fsck -fn tells more); --no-verify reads past checksums.',
  },
  'ext4-corrupt': {
    area: 'ext4',
    meaning: 'The ext4 image holds values that cannot be right (block numbers outside the filesystem, broken extents or directories).',
    action: 'The image is damaged or not ext2/3/4: e2fsck -fn tells more.',
  },
  'ext4-encrypted': {
    area: 'ext4',
    meaning: 'The directory is encrypted (fscrypt); its names cannot be read without the key.',
    action: 'Read an unencrypted directory, or read the filesystem where the key is loaded.',
  },
  'ext4-unsupported': {
    area: 'ext4',
    meaning: 'The filesystem uses features kiln does not read (compression, an external journal, unknown incompatible features).',
    action: 'Read it with the kernel or e2fsprogs; if it should not have such features, e2fsck -fn tells more.',
  },
  'name-too-long': {
    area: 'ext4',
    meaning: 'A file name is longer than the 255 bytes ext4 allows.',
    action: 'Shorten the name.',
  },
  'no-space': {
    area: 'ext4',
    meaning: 'The tree does not fit in the ext4 size given.',
    action: 'Give a larger size, or --size auto.',
  },
  'no-such-path': {
    area: 'ext4',
    meaning: 'The path does not exist in the image.',
    action: "List its directory with 'kiln image ls'.",
  },
  'not-a-directory': {
    area: 'ext4',
    meaning: 'The path names something in the image that is not a directory.',
    action: 'Name a directory.',
  },
  'not-a-file': {
    area: 'ext4',
    meaning: 'The path names something in the image that is not a regular file.',
    action: "Name a regular file; 'kiln image ls' shows what it is.",
  },
  'not-ext4': {
    area: 'ext4',
    meaning: 'There is no ext2/3/4 superblock where one must be.',
    action: 'Check that the image holds ext4; for a partitioned disk, name the partition (IMAGE:N).',
  },
  'too-large': {
    area: 'ext4',
    meaning: 'The tree does not fit in any ext4 filesystem kiln can write.',
    action: 'Split the content over several filesystems.',
  },
  'too-many-links': {
    area: 'ext4',
    meaning: 'A file has more than the 65000 hard links ext4 allows.',
    action: 'Use fewer links to one file.',
  },

  // FAT
  'fat-alias': {
    area: 'fat',
    meaning: 'No free 8.3 short name is left for a long name in its directory.',
    action: 'Use fewer similar names in one directory.',
  },
  'fat-bad-label': {
    area: 'fat',
    meaning: 'The FAT volume label is too long or holds characters FAT labels cannot.',
    action: "Use up to 11 ASCII letters, digits, spaces and - _ ! # $ % & ' ( ) @ ^ ` { } ~.",
  },
  'fat-bad-name': {
    area: 'fat',
    meaning: 'A file or directory name cannot be stored on FAT (a forbidden character, a reserved name, or not 8.3 where 8.3 is needed).',
    action: 'Rename it as the hint says.',
  },
  'fat-corrupt': {
    area: 'fat',
    meaning: 'The FAT image holds values that cannot be right (a cluster chain that loops or is too short, clusters outside the volume).',
    action: 'The volume is damaged: fsck.fat -n tells more.',
  },
  'fat-dir-too-large': {
    area: 'fat',
    meaning: 'A directory needs more than the 65536 entries a FAT directory holds.',
    action: 'Spread its files over subdirectories, or use shorter names.',
  },
  'fat-file-too-large': {
    area: 'fat',
    meaning: 'A file is 4 GiB or larger; FAT files are smaller than 4 GiB.',
    action: 'Split the file, or use ext4.',
  },
  'fat-name-clash': {
    area: 'fat',
    meaning: 'Two names in one directory differ only in letter case; FAT treats them as one.',
    action: 'Rename one of them.',
  },
  'fat-no-space': {
    area: 'fat',
    meaning: 'The FAT volume has too few free clusters, or root directory entries, for what is written to it.',
    action: 'Give a larger size (or --size auto).',
  },
  'fat-not-dir': {
    area: 'fat',
    meaning: 'A path on the FAT volume goes through something that is not a directory.',
    action: 'Fix the path.',
  },
  'fat-option': {
    area: 'fat',
    meaning: 'A FAT option is out of range: the FAT type, cluster size, sector size, reserved sectors, number of FATs or root entries.',
    action: 'Give a value the hint names, or leave the option out to get the default.',
  },
  'fat-root-full': {
    area: 'fat',
    meaning: 'The fixed-size root directory of a FAT12/16 volume is full.',
    action: 'Leave room in the root directory, or put the files in a subdirectory.',
  },
  'fat-short-read': {
    area: 'fat',
    meaning: 'A file ended before its recorded size while the FAT image was written.',
    action: 'Make sure nothing changes the files while kiln reads them, then run again.',
  },
  'fat-size': {
    area: 'fat',
    meaning: 'The size does not make a valid volume of the FAT type asked for (too few or too many clusters).',
    action: 'Give another size, or let kiln choose the FAT type from the size.',
  },
  'fat-special-file': {
    area: 'fat',
    meaning: 'The tree holds a symlink, device, FIFO or socket, which FAT cannot hold.',
    action: 'Remove it from the source, or skip special files (--skip-special).',
  },
  'fat-too-large': {
    area: 'fat',
    meaning: 'The tree does not fit in any FAT volume kiln can make with these options.',
    action: 'Use ext4, or a larger cluster size.',
  },
  'fat-too-small': {
    area: 'fat',
    meaning: 'The size is too small for the FAT type asked for.',
    action: 'Give a larger size, or use FAT16 or FAT12 for small volumes.',
  },
  'not-fat': {
    area: 'fat',
    meaning: 'The image does not start with a FAT boot sector.',
    action: 'Check that the image (or partition) holds a FAT volume.',
  },

  // Swap
  'bad-label': {
    area: 'swap',
    meaning: 'The swap label is longer than its 16 bytes.',
    action: 'Shorten the label.',
  },
  'bad-swap': {
    area: 'swap',
    meaning: 'The swap page size, or the version of a swap header read, is not supported.',
    action: 'Use page size 4096 (x86), 8192, 16384 or 65536; kiln reads version 1 headers.',
  },
  'not-swap': {
    area: 'swap',
    meaning: 'There is no SWAPSPACE2 signature at the end of the first page.',
    action: 'Check that the image or partition holds a version 1 swap area.',
  },
  'swap-too-large': {
    area: 'swap',
    meaning: 'The swap area has more pages than the version 1 header can count.',
    action: 'Make it smaller, or use several swap areas.',
  },
  'swap-too-small': {
    area: 'swap',
    meaning: 'The swap area has fewer than the 10 pages Linux needs.',
    action: 'Make it at least the size the hint gives.',
  },

  // cpio and initramfs
  'bad-level': {
    area: 'cpio',
    meaning: 'The gzip level is not 1 to 9.',
    action: 'Give a level from 1 to 9.',
  },
  'cpio-name': {
    area: 'cpio',
    meaning: 'A path is longer than the 4095 bytes the kernel reads from an initramfs.',
    action: 'Shorten it.',
  },
  'cpio-owner': {
    area: 'cpio',
    meaning: 'A file owner does not fit the 32 bits of a newc header.',
    action: 'Give the file an owner below 2^32.',
  },
  'cpio-too-large': {
    area: 'cpio',
    meaning: 'A file is 4 GiB or larger; the newc format holds smaller files only.',
    action: 'Leave it out of the initramfs.',
  },

  // Partition tables and reading images
  'bad-gpt': {
    area: 'table',
    meaning: 'A GPT header or entry array is wrong: CRC32 mismatch, impossible sizes, entries outside the usable sectors or overlapping.',
    action: 'The GPT is damaged: sgdisk -v or fdisk -l tells more. When writing, fix the partitions the message names.',
  },
  'bad-mbr': {
    area: 'table',
    meaning:
      'An MBR or its chain of extended boot records is wrong: overlapping or out-of-range partitions, a loop, too many logical partitions, more than one bootable.',
    action: 'The table is damaged (sfdisk -V tells more). When writing, fix the partitions the message names.',
  },
  'bad-partition': {
    area: 'table',
    meaning: 'A partition ends past the end of the image.',
    action: 'The image is truncated: make or copy it again.',
  },
  'needs-host': {
    area: 'table',
    meaning: 'A layout names a host path, but the disk is assembled without a host to read it (for example in a browser).',
    action: 'In Node pass { host: nodeDiskHost } from kiln-image/node; elsewhere give trees, contents and binaries in code.',
  },
  'no-partition': {
    area: 'table',
    meaning: 'The image has no partition of that number.',
    action: 'Name one of the partitions the message lists.',
  },
  'no-partition-table': {
    area: 'table',
    meaning: 'IMAGE:N names a partition, but the image has no partition table.',
    action: "Use the image whole: drop ':N'.",
  },
  'no-reader': {
    area: 'table',
    meaning: 'The partition holds a filesystem whose reader is not registered.',
    action: 'Register one with registerFilesystem.',
  },
  'not-gpt': {
    area: 'table',
    meaning: 'There is no GPT header where one must be.',
    action: 'Check that the disk has a GPT (an MBR disk is read with decodeMbr).',
  },
  'not-mbr': {
    area: 'table',
    meaning: 'Sector 0 does not end in 55 AA, or the image is smaller than one sector.',
    action: 'Check that the file is a whole-disk image.',
  },
  partitioned: {
    area: 'table',
    meaning: 'A filesystem was asked for, but the image is a partitioned disk.',
    action: "Name a partition: 'IMAGE:N'.",
  },
  'swap-area': {
    area: 'table',
    meaning: 'The partition holds swap, which has no files to list or read.',
    action: 'kiln image inspect shows its label, UUID and size.',
  },
  'unknown-fs': {
    area: 'table',
    meaning: 'The image or partition holds no filesystem kiln reads (ext4, FAT).',
    action: 'For a partitioned disk, name a partition (IMAGE:N); kiln image inspect shows what each holds.',
  },

  // Disk layouts and assembly
  'bad-layout': {
    area: 'layout',
    meaning: 'A disk layout (for kiln mkimage), or a script element layout, is invalid: an unknown or misspelled key, a bad value, partitions that do not fit.',
    action: 'Fix the key or value at the file:line:col the message gives; docs/layout.md describes the format.',
  },
  'no-layout': {
    area: 'layout',
    meaning: 'The layout file cannot be read.',
    action: 'Name an existing, readable YAML file.',
  },

  // SYSLINUX
  'syslinux-bad-binary': {
    area: 'syslinux',
    meaning: 'A SYSLINUX binary is not what kiln installs: a wrong size, no patch area, or parts of different builds.',
    action: 'Use ldlinux.bss, ldlinux.sys and ldlinux.c32 from one SYSLINUX 4.x–6.x BIOS build.',
  },
  'syslinux-bad-dir': {
    area: 'syslinux',
    meaning: "The install directory contains '..' or is longer than ldlinux.sys has room for.",
    action: 'Give a short absolute path inside the FAT volume, e.g. /syslinux.',
  },
  'syslinux-fragmented': {
    area: 'syslinux',
    meaning: 'LDLINUX.SYS would be stored in more pieces than its boot sector can list.',
    action: 'Write the FAT volume afresh (kiln writes it unfragmented).',
  },
  'syslinux-missing': {
    area: 'syslinux',
    meaning: 'A SYSLINUX binary cannot be read from the directory given.',
    action: 'Point to a directory holding ldlinux.bss, ldlinux.sys, ldlinux.c32 and mbr.bin from one SYSLINUX BIOS build.',
  },
  'syslinux-not-fat': {
    area: 'syslinux',
    meaning: 'The volume is not a FAT volume SYSLINUX boots from (its media byte or FAT32 signature is wrong).',
    action: 'Write the volume with kiln or mkfs.fat.',
  },

  // UEFI kernel images
  'bad-kernel': {
    area: 'uefi',
    meaning: 'The kernel is empty or is not an EFI-stub kernel (no MZ header with a PE signature).',
    action: 'Use a kernel built with CONFIG_EFI_STUB.',
  },
  'bad-pe': {
    area: 'uefi',
    meaning: 'The EFI stub is not a PE image kiln can build a unified kernel image from (malformed, signed, or of another machine).',
    action: 'Use the unsigned stub as its package ships it (Debian: systemd-boot-efi), and sign the result afterwards.',
  },
  'uki-too-large': {
    area: 'uefi',
    meaning: 'The unified kernel image would pass the 4 GiB that PE offsets reach.',
    action: 'Make the initrd smaller.',
  },

  // Loading a project
  assertion: {
    area: 'project',
    meaning: 'An (!) directive was reached: the project refuses this combination of options.',
    action: 'Choose option values the project allows; the message is the project’s own.',
  },
  'bad-directive': {
    area: 'project',
    meaning: 'A list directive ((<), (>), (=)) is not followed by a list, or sits in a mapping beside other keys.',
    action: 'Give each directive a list, in a mapping that holds only directives.',
  },
  'composite-missing-list': {
    area: 'project',
    meaning: '(<), (>) or (=) extends a list that nothing defined earlier.',
    action: 'Give a plain list instead, or define the list in the defaults, project.conf or an include first.',
  },
  'composite-type': {
    area: 'project',
    meaning: 'Composition would replace a value of one type with another (a string over a list, a list over a mapping).',
    action: 'Give a value of the type the earlier definition has.',
  },
  condition: {
    area: 'project',
    meaning: 'A (?) condition cannot be parsed, or a (?) item is not a mapping with exactly one condition.',
    action: 'Write conditions such as `arch == "x86_64"`, `debug`, `"x" in flags`, joined with and, or, not and parentheses.',
  },
  'dependency-cycle': {
    area: 'project',
    meaning: 'Elements depend on each other in a circle.',
    action: 'Remove one of the dependencies the message lists.',
  },
  'dependency-strict': {
    area: 'project',
    meaning: 'A dependency is marked strict although it is only needed at run time, or says `strict: false` (reserved: not strict is the default).',
    action: "Mark only build dependencies strict; remove 'strict: false'.",
  },
  'dependency-type': {
    area: 'project',
    meaning: "A dependency's type is not build, runtime or all, or `type:` is given in build-depends/runtime-depends.",
    action: "Use build, runtime or all; in build-depends and runtime-depends leave out 'type'.",
  },
  'element-missing': {
    area: 'project',
    meaning: 'A named element file does not exist.',
    action: 'Check the name: element names are relative to element-path.',
  },
  'element-name': {
    area: 'project',
    meaning: 'An element name is not a relative path ending in .bst inside element-path.',
    action: 'Write names such as contents/busybox.bst.',
  },
  'element-path': {
    area: 'project',
    meaning: "project.conf's element-path leaves the project or is not a directory.",
    action: 'Create the directory, or fix element-path.',
  },
  'file-missing': {
    area: 'project',
    meaning: 'A project file (an include, project.refs, a YAML file) cannot be read.',
    action: 'Check the path and permissions.',
  },
  'format-version': {
    area: 'project',
    meaning: 'project.conf asks for a newer format-version than kiln reads.',
    action: 'Lower format-version if the project does not need the newer format.',
  },
  'include-cycle': {
    area: 'project',
    meaning: '(@) includes include each other in a circle.',
    action: 'Remove one of the includes the message lists.',
  },
  'include-junction': {
    area: 'project',
    meaning: 'project.conf includes a file through a junction but was loaded on its own (loadProjectConfig), without the loader that follows junctions.',
    action: 'Load the project with loadProject (the command line always does).',
  },
  'include-path': {
    area: 'project',
    meaning: 'An (@) include names a file outside the project directory.',
    action: 'Include files inside the project, by project-relative path.',
  },
  'junction-conflict': {
    area: 'project',
    meaning: 'Two sub-projects define a junction of the same name and no project above them does, so which one to load is ambiguous.',
    action: 'Define a junction of that name in the project above: it then takes precedence for both.',
  },
  'junction-dependency': {
    area: 'project',
    meaning: 'An element depends on a junction element itself.',
    action: "Depend on an element of the junction's project: JUNCTION.bst:ELEMENT.bst, or junction: and filename:.",
  },
  'junction-depends': {
    area: 'project',
    meaning: 'A junction element has dependencies; a junction only links a project.',
    action: 'Give the dependencies to the elements that use the junction.',
  },
  'junction-fetch-needed': {
    area: 'project',
    meaning: "A junction's sources (other than one local source) are not fetched, so its project cannot be read.",
    action: 'Fetch the junction first: kiln fetch JUNCTION.bst.',
  },
  'junction-invalid': {
    area: 'project',
    meaning: 'A junction leads to no project (no project.conf at its path), or its config: options: is not a mapping of option names to strings or lists.',
    action: 'Set config: path: to the directory of its sources holding project.conf; give options as name: value.',
  },
  'junction-kind': {
    area: 'project',
    meaning: 'A name before the colon (JUNCTION.bst:ELEMENT.bst, or junction:) is an element that is not a junction.',
    action: 'Name a junction element there.',
  },
  'junction-unsupported': {
    area: 'project',
    meaning: 'Plugins from a junction (plugins: origin: junction) are not supported.',
    action: "Declare the plugin kinds with origin core, local or pip, or use kiln's native kinds.",
  },
  'kind-unknown': {
    area: 'project',
    meaning: 'An element or source names a kind kiln does not know.',
    action: 'Use one of the kinds the message lists, or register the kind (registerElementKind, registerSourceKind).',
  },
  'min-version': {
    area: 'project',
    meaning: 'min-version is not of the form 2.N.',
    action: 'Write it as 2.0, 2.1, …',
  },
  'missing-key': {
    area: 'project',
    meaning: 'A required key is missing (for example kind: in an element, type: or values: in an option).',
    action: 'Add the key the message names.',
  },
  'option-name': {
    area: 'project',
    meaning: 'A project option is declared under a name that is not a name.',
    action: 'Name options with a letter or _ followed by letters, digits and _.',
  },
  'option-type': {
    area: 'project',
    meaning: 'A project option has a type kiln does not know.',
    action: 'Use bool, enum, flags, arch, os or element-mask.',
  },
  'option-unknown': {
    area: 'project',
    meaning: 'A value was given (in the user configuration) for an option the project does not declare.',
    action: 'Fix or remove it; project options are the names under options: in project.conf.',
  },
  'option-value': {
    area: 'project',
    meaning: "A project option's value is not one its declaration allows.",
    action: 'Give one of the values the message lists (True or False for a bool).',
  },
  'option-values': {
    area: 'project',
    meaning: 'An enum, flags or arch option is declared without a list of values.',
    action: 'List the values the option may take under values:.',
  },
  'plugin-duplicate': {
    area: 'project',
    meaning: 'An element or source kind is listed under more than one plugins: entry.',
    action: 'List each kind under one plugins entry only.',
  },
  'plugin-origin': {
    area: 'project',
    meaning: 'A plugins: origin is not core, local or pip.',
    action: 'Use core, local or pip.',
  },
  'plugin-undeclared': {
    area: 'project',
    meaning: 'An element uses a plugin kind (such as x86image) that project.conf does not declare.',
    action: 'Declare it under plugins: in project.conf as the hint shows.',
  },
  'plugin-unsupported': {
    area: 'project',
    meaning: 'A kind declared by a plugin origin has no native implementation in kiln.',
    action: 'Use a kind kiln implements (the hint lists them), or register one from code.',
  },
  'project-key': {
    area: 'project',
    meaning: 'A key that must be in project.conf itself (name, min-version, plugins) comes from an include or a (?) branch.',
    action: 'Move it into project.conf.',
  },
  'project-missing': {
    area: 'project',
    meaning: 'No project.conf was found in the directory or above it.',
    action: 'Run kiln inside a project, or pass -C DIR.',
  },
  'project-name': {
    area: 'project',
    meaning: 'The project name is not a name: it must start with a letter or _ and hold only letters, digits, _ and -.',
    action: 'Rename the project.',
  },
  'ref-include': {
    area: 'project',
    meaning: "A source whose ref is to be written is declared in an include, not in the element's own file.",
    action: 'Move the source into the .bst file, or use ref-storage: project.refs.',
  },
  'ref-storage': {
    area: 'project',
    meaning: 'ref-storage is neither inline nor project.refs.',
    action: 'Use inline or project.refs.',
  },
  'ref-write': {
    area: 'project',
    meaning: 'A tracked ref could not be written back: the file changed since it was loaded, or the edit would not read back (the file is left unchanged).',
    action: 'Run the command again; if it persists, set the ref by hand or use ref-storage: project.refs.',
  },
  'unknown-key': {
    area: 'project',
    meaning: 'A mapping holds a key kiln does not know there.',
    action: 'Remove the key or fix its spelling; the message lists the valid keys.',
  },
  'user-config-missing': {
    area: 'project',
    meaning: 'The configuration file given with --config does not exist.',
    action: 'Check the path.',
  },
  'variable-cycle': {
    area: 'project',
    meaning: 'Variables refer to each other in a circle.',
    action: 'Break the cycle: one of the variables must not refer back.',
  },
  'variable-name': {
    area: 'project',
    meaning: "An option's variable: is not a variable name.",
    action: 'Name variables with a letter or _ followed by letters, digits, _ and -.',
  },
  'variable-protected': {
    area: 'project',
    meaning: 'A read-only variable (project-name, element-name, max-jobs) is redefined.',
    action: 'Remove the definition: kiln computes it.',
  },
  'variable-undefined': {
    area: 'project',
    meaning: 'A %{name} refers to a variable that is not defined.',
    action: 'Define it under variables:, or fix the reference.',
  },
  'wrong-type': {
    area: 'project',
    meaning: 'A value has the wrong type (a list where a string is expected, not a boolean, not an integer).',
    action: 'Give a value of the type the message names.',
  },
  'yaml-alias': {
    area: 'project',
    meaning: 'A YAML alias (*name) refers to an anchor that does not exist.',
    action: 'Define the anchor (&name) before the alias.',
  },
  'yaml-depth': {
    area: 'project',
    meaning: 'The YAML is nested deeper than kiln reads.',
    action: 'Flatten the structure.',
  },
  'yaml-duplicate-key': {
    area: 'project',
    meaning: 'A mapping defines the same key twice.',
    action: 'Remove one of the two definitions.',
  },
  'yaml-key': {
    area: 'project',
    meaning: 'A mapping key is not a plain string.',
    action: 'Write keys as plain strings.',
  },
  'yaml-node': {
    area: 'project',
    meaning: 'The YAML holds a node kiln does not read.',
    action: 'Use plain mappings, lists and strings.',
  },
  'yaml-not-mapping': {
    area: 'project',
    meaning: 'The top level of a project file is not a mapping.',
    action: 'Write the file as key: value pairs.',
  },
  'yaml-syntax': {
    area: 'project',
    meaning: 'The file is not valid YAML.',
    action: 'Fix the syntax at the place the message gives.',
  },

  // Element kinds
  'bad-config-type': {
    area: 'kinds',
    meaning: 'A config: value of an element has the wrong type for its kind.',
    action: 'Give the type the message names (a string, True/False, a list of strings).',
  },
  'bad-sandbox-path': {
    area: 'kinds',
    meaning: 'A path inside the sandbox (build-root, install-root, a layout destination) is not absolute.',
    action: "Give an absolute path, starting with '/'.",
  },
  'bad-split-rules': {
    area: 'kinds',
    meaning: 'public: bst: split-rules is not a mapping of domain to a list of globs.',
    action: 'Write split-rules as domain: [glob, …].',
  },
  'filter-parent': {
    area: 'kinds',
    meaning: 'A filter element does not have exactly one build dependency.',
    action: 'List the element to filter, alone, under build-depends.',
  },
  'import-no-files': {
    area: 'kinds',
    meaning: "An import element's config: source names a directory its sources do not contain.",
    action: 'Check config: source against what the sources contain.',
  },
  'import-no-sources': {
    area: 'kinds',
    meaning: 'An import element has no sources.',
    action: 'Add a sources: list (a local or tar source, for example).',
  },
  'junction-build': {
    area: 'kinds',
    meaning: 'A junction element was asked to be built or staged; it only links a project and has no artifact.',
    action: 'Build elements of its project instead: JUNCTION.bst:ELEMENT.bst.',
  },
  'kind-build-deps-only': {
    area: 'kinds',
    meaning: 'An element of this kind (compose, script) may have build dependencies only.',
    action: 'Declare the dependency under build-depends, or with type: build.',
  },
  'kind-defaults-missing': {
    area: 'kinds',
    meaning: 'The YAML defaults file of an element kind cannot be read.',
    action: "Ship the kind's YAML beside its module; for kiln's own kinds, build with npm run build, which copies them into dist/.",
  },
  'kind-no-sources': {
    area: 'kinds',
    meaning: 'An element of this kind cannot have sources.',
    action: 'Move the sources into an import or build element.',
  },
  'stage-not-dir': {
    area: 'kinds',
    meaning: 'Staging goes through a path that is not a directory (or a symlink that leads to none).',
    action: 'Change the dependency that puts a file or dangling symlink there.',
  },
  'unknown-element-kind': {
    area: 'kinds',
    meaning: 'No element kind of this name is registered.',
    action: 'Use a built-in kind (the hint lists them), or register it with registerElementKind.',
  },
  'x86image-commands': {
    area: 'kinds',
    meaning: 'An x86image element has commands in a step kiln performs itself (it writes the FAT, ext4, swap and partition table).',
    action: 'Change the input tree with an element before the image, or put commands that touch the finished image in final-commands.',
  },
  'x86image-boot': {
    area: 'kinds',
    meaning: "An x86image's config boot is not bios, uefi or hybrid.",
    action: 'bios: an MBR disk with SYSLINUX; uefi: a GPT disk with an EFI system partition; hybrid: a GPT disk that boots both ways.',
  },
  'x86image-config': {
    area: 'kinds',
    meaning: 'The x86image config names base/input wrongly: one without the other, one that is not a build dependency, or not exactly one input.',
    action: 'Give both base and input, or mark one dependency with config: {input: true}.',
  },
  'x86image-esp-size': {
    area: 'kinds',
    meaning: 'boot-size is too small for the FAT32 EFI system partition of a uefi or hybrid x86image.',
    action: 'Give boot-size 40M or more, or auto.',
  },
  'x86image-no-boot': {
    area: 'kinds',
    meaning: 'The x86image input has nothing in /boot (where the kernel and initramfs go).',
    action: 'Make the input install the kernel into /boot.',
  },
  'x86image-no-etc': {
    area: 'kinds',
    meaning: 'The x86image input has no /etc for the generated fstab.',
    action: 'Create /etc in one of the input elements.',
  },
  'x86image-no-kernel': {
    area: 'kinds',
    meaning: "The input's /boot has no file named by kernel-name, which the unified kernel image of a uefi or hybrid x86image needs.",
    action: 'Install the kernel into /boot, or set the variable kernel-name to its name there.',
  },
  'x86image-no-syslinux': {
    area: 'kinds',
    meaning: 'The SYSLINUX binaries are not in the input or the base.',
    action: 'Add an element that installs them, or set the variable syslinux-dir to where they are.',
  },
  'x86image-no-uefi-stub': {
    area: 'kinds',
    meaning: 'The EFI stub a uefi or hybrid x86image builds its unified kernel image from is not in the input or the base.',
    action: "Add an element that installs systemd's stub (Debian: systemd-boot-efi) to the base, or set the variable uefi-stub to where it is.",
  },
  'x86image-sector-size': {
    area: 'kinds',
    meaning: 'sector-size is not 512.',
    action: 'Set sector-size: 512.',
  },
  'x86image-variable': {
    area: 'kinds',
    meaning: 'A variable the x86image element needs is not set.',
    action: 'Set it under variables:.',
  },

  // Sources
  'digest-mismatch': {
    area: 'sources',
    meaning: 'A download does not have the sha256 its ref pins.',
    action: 'If upstream changed the file on purpose, run kiln track to take the new ref; otherwise the download was tampered with or damaged.',
  },
  'download-failed': {
    area: 'sources',
    meaning: 'A download failed (a network error, an HTTP error, an unsupported URL scheme, an unreadable file: URL).',
    action: 'Check the URL, the alias it came from, and the network.',
  },
  'fetch-failed': {
    area: 'sources',
    meaning: 'No URL of a source (upstream and mirrors) gave the pinned file.',
    action: 'Check the URL, its alias and mirrors.',
  },
  'git-failed': {
    area: 'sources',
    meaning: 'A git command of the git source failed.',
    action: 'Check the URL and that the commit or branch exists.',
  },
  'git-missing': {
    area: 'sources',
    meaning: 'git cannot be run.',
    action: 'Install the Debian package git.',
  },
  'git-no-commit': {
    area: 'sources',
    meaning: 'The pinned commit is in none of the repositories tried.',
    action: 'Run kiln track on the element to pin the current commit of the branch.',
  },
  'patch-failed': {
    area: 'sources',
    meaning: 'A patch does not apply to the staged sources.',
    action: 'Check strip-level, and that the earlier sources are the ones the patch was made against.',
  },
  'patch-nothing-staged': {
    area: 'sources',
    meaning: 'A patch source has nothing to apply to in its directory.',
    action: 'List the sources the patch applies to before it, with the same directory.',
  },
  'patch-tool': {
    area: 'sources',
    meaning: 'patch cannot be run.',
    action: 'Install the Debian package patch.',
  },
  'source-bad-filename': {
    area: 'sources',
    meaning: "A remote source's filename is not a plain file name.",
    action: "Set filename: to a name without '/'.",
  },
  'source-bad-path': {
    area: 'sources',
    meaning: 'A source path points outside the project directory.',
    action: 'Name files inside the project.',
  },
  'source-bad-ref': {
    area: 'sources',
    meaning: "A source's ref is not of the form its kind pins (a sha256, a list of packages, a commit).",
    action: 'Run kiln track on the element to compute it.',
  },
  'source-bad-type': {
    area: 'sources',
    meaning: 'A source key has the wrong type or form.',
    action: 'Give the type the message names.',
  },
  'source-bad-url': {
    area: 'sources',
    meaning: 'A source URL uses an alias project.conf does not define, or is not a URL.',
    action: 'Define the alias under aliases: in project.conf, or give a full URL.',
  },
  'source-missing-key': {
    area: 'sources',
    meaning: 'A source lacks a key its kind requires.',
    action: 'Add the key the message names.',
  },
  'source-missing-path': {
    area: 'sources',
    meaning: 'A local or patch source names a path that does not exist.',
    action: 'Paths are relative to the project directory (where project.conf is).',
  },
  'source-no-ref': {
    area: 'sources',
    meaning: 'A source has no ref, so there is nothing exact to fetch.',
    action: 'Run kiln track on the element first.',
  },
  'source-not-cached': {
    area: 'sources',
    meaning: 'A source is not in the source cache.',
    action: 'Run kiln fetch on the element first.',
  },
  'source-unknown-key': {
    area: 'sources',
    meaning: 'A source has a key its kind does not accept.',
    action: 'Remove it or fix its spelling; the hint lists the keys the kind accepts.',
  },
  'source-unknown-kind': {
    area: 'sources',
    meaning: 'No source kind of this name is registered.',
    action: 'Use a built-in kind (the hint lists them), or register it with registerSourceKind.',
  },
  'sources-inconsistent': {
    area: 'sources',
    meaning: 'Elements to fetch or fix have sources without refs.',
    action: 'Track them first: kiln track ELEMENT…',
  },
  'zip-bad': {
    area: 'sources',
    meaning: "A zip source's archive is damaged or not a zip file (no end of central directory, a damaged entry, a member that inflates to the wrong size).",
    action: 'Track the source again, or check that the URL gives a zip archive.',
  },
  'zip-unsupported': {
    area: 'sources',
    meaning: 'A zip archive is Zip64 or has members compressed other than stored or deflated.',
    action: 'Repack it as a plain zip (under 4 GiB, deflate), or use a tar source.',
  },
  'tar-no-base-dir': {
    area: 'sources',
    meaning: "A tar or zip source's base-dir matches no directory in the archive.",
    action: "Set base-dir to one of the directories the message lists, or to '' for the archive root.",
  },
  'track-failed': {
    area: 'sources',
    meaning: 'Tracking a source failed at every URL tried.',
    action: 'Check the URL, its alias and mirrors.',
  },

  // Debian packages
  'apt-failed': {
    area: 'debian',
    meaning: 'An apt command kiln ran failed; the message ends with what apt printed.',
    action: 'Act on apt’s message (often: the machine cannot reach its archives, or a package name is wrong).',
  },
  'apt-no-sources': {
    area: 'debian',
    meaning: 'The machine has no apt sources to take packages from.',
    action: 'Configure apt on this machine (sources.list(5)); with `updates: false`, add the release suite itself.',
  },
  'apt-no-suite': {
    area: 'debian',
    meaning: 'No apt source of this machine serves the suite asked for.',
    action: "Leave out suite to use the machine's release, or add a source for that suite.",
  },
  'apt-sources': {
    area: 'debian',
    meaning: "A line of the machine's apt sources cannot be read.",
    action: "Fix the machine's apt sources (sources.list(5)).",
  },
  'deb-bad-arch': {
    area: 'debian',
    meaning: 'The architecture is not a Debian architecture name.',
    action: 'Use a name such as amd64 or arm64.',
  },
  'deb-bad-path': {
    area: 'debian',
    meaning: "The cache path contains '\"', which apt's configuration cannot hold.",
    action: 'Use a cache directory without double quotes in its path.',
  },
  'deb-bad-suite': {
    area: 'debian',
    meaning: 'The suite is not a suite name.',
    action: 'Use a name such as bookworm.',
  },
  'deb-checksum': {
    area: 'debian',
    meaning: 'A package file does not have the sha256 its ref pins.',
    action: 'Delete the file and fetch again; if the archive really changed the file under the same version, kiln track re-pins it.',
  },
  'deb-corrupt': {
    area: 'debian',
    meaning: 'A .deb file is not laid out as a Debian binary package (bad ar headers, members missing).',
    action: 'The file is damaged or not a Debian package: fetch it again.',
  },
  'deb-download': {
    area: 'debian',
    meaning: 'apt could not locate or download the pinned packages.',
    action: 'Check that this machine reaches its apt archives.',
  },
  'deb-format': {
    area: 'debian',
    meaning: 'The .deb uses a format version or compression kiln does not read.',
    action: 'kiln reads format 2.x packages compressed with none, gzip, xz, zstd or bzip2.',
  },
  'deb-not-ar': {
    area: 'debian',
    meaning: 'The file is not an ar archive, so not a .deb.',
    action: 'The download is damaged or not a Debian package: fetch it again.',
  },
  'deb-resolve': {
    area: 'debian',
    meaning: 'apt cannot resolve the package list into an installable set, or reported no SHA256 to pin.',
    action: 'Check the package names and versions (apt-cache policy NAME on a machine with the same sources).',
  },
  'deb-truncated': {
    area: 'debian',
    meaning: 'The .deb ends inside an ar header or member.',
    action: 'The file is truncated: fetch it again.',
  },
  'deb-version-gone': {
    area: 'debian',
    meaning: 'The archive no longer offers pinned package files, and no mirror or snapshot had them.',
    action: 'Re-pin with kiln track (or fix the missing packages only, as the hint says).',
  },
  'debsrc-download': {
    area: 'debian',
    meaning: 'apt-get source failed or did not produce the file.',
    action: 'Check that this machine reaches its apt archives.',
  },
  'debsrc-gone': {
    area: 'debian',
    meaning: 'The pinned file of a source package is no longer in the archive.',
    action: 'Debian drops superseded versions: run kiln track on the element to pin a current file.',
  },
  'debsrc-no-file': {
    area: 'debian',
    meaning: 'The source package has no file of that name (or no orig tarball).',
    action: 'Set file: to one of the files the message lists.',
  },
  'debsrc-no-hash': {
    area: 'debian',
    meaning: 'apt reported no SHA256 for a file of the source package.',
    action: 'Use sources whose index carries SHA256 sums (every current Debian archive does).',
  },
  'debsrc-not-found': {
    area: 'debian',
    meaning: 'The archive has no source package of that name or version.',
    action: "Check the name and version; versions include their epoch ('1:1.35.0-4').",
  },
  'no-apt': {
    area: 'debian',
    meaning: 'apt cannot be run.',
    action: 'Install apt: kiln uses the machine’s apt to resolve and download Debian packages.',
  },

  // Planning and building
  'build-failed': {
    area: 'build',
    meaning: 'One or more elements failed to build.',
    action: 'Read the build logs the hint names.',
  },
  'cache-dir': {
    area: 'build',
    meaning: 'The cache directory cannot be created.',
    action: 'Choose a writable directory with --cache-dir (default: $XDG_CACHE_HOME/kiln).',
  },
  'checkout-missing-artifacts': {
    area: 'build',
    meaning: 'A checkout needs elements that are not in the artifact cache.',
    action: 'Build them first: kiln build ELEMENT.',
  },
  inconsistent: {
    area: 'build',
    meaning: 'Elements of the plan have sources without refs or not fetched ("Exact versions are missing").',
    action: 'Track them first, as the hint says.',
  },
  'no-ref': {
    area: 'build',
    meaning: 'An element has sources without a ref, so it has no cache key.',
    action: 'Track it first: kiln track ELEMENT.',
  },
  'no-targets': {
    area: 'build',
    meaning: 'No elements were named.',
    action: 'Name the elements, relative to element-path.',
  },
  'not-cached': {
    area: 'build',
    meaning: 'An element (or its sources) is not in the local cache.',
    action: 'Build (or fetch) it first.',
  },
  'plan-stuck': {
    area: 'build',
    meaning: 'Some elements could not be built because their dependencies never became cached.',
    action: 'Fix the failures reported before this one.',
  },
  'remove-failed': {
    area: 'build',
    meaning: 'A scratch directory cannot be removed.',
    action: 'Remove it by hand (it may hold files of another user, or immutable files: lsattr, chattr -i).',
  },
  'shell-missing-artifacts': {
    area: 'build',
    meaning: 'kiln shell needs elements that are not cached.',
    action: 'Build them first: kiln build ELEMENT.',
  },
  'shell-missing-sources': {
    area: 'build',
    meaning: 'kiln shell --build needs the element’s sources, which are not fetched.',
    action: 'Fetch them: kiln fetch ELEMENT.',
  },

  // The build sandbox
  'command-failed': {
    area: 'sandbox',
    meaning: 'A command of an element exited non-zero.',
    action: 'Read the build log the hint names.',
  },
  'no-bwrap': {
    area: 'sandbox',
    meaning: "The build sandbox needs bubblewrap, and 'bwrap' is not on PATH.",
    action: 'Install the Debian package bubblewrap.',
  },
  'no-shell': {
    area: 'sandbox',
    meaning: "The staged artifacts do not provide 'sh' on the element's PATH.",
    action: 'Add a dependency that provides /bin/sh, such as a base system or busybox.',
  },
  'sandbox-failed': {
    area: 'sandbox',
    meaning: 'bubblewrap could not set up the sandbox.',
    action: 'bubblewrap needs unprivileged user namespaces (sysctl user.max_user_namespaces > 0).',
  },
  'sandbox-mount': {
    area: 'sandbox',
    meaning: 'A mount point inside the sandbox is a symlink or not a directory.',
    action: 'Stage a real directory there.',
  },
  'sandbox-root': {
    area: 'sandbox',
    meaning: 'The sandbox root is not a directory.',
    action: 'Report it: kiln creates the root itself.',
  },
  'sandbox-spawn': {
    area: 'sandbox',
    meaning: 'bwrap cannot be started.',
    action: 'Install the Debian package bubblewrap.',
  },

  // Artifact and source caches
  'bad-digest': {
    area: 'cache',
    meaning: 'A value used as a content digest is not a sha256 in hex.',
    action: 'The cache or a remote sent a damaged entry: remove it and build again.',
  },
  'cache-bad-blob': {
    area: 'cache',
    meaning: 'A blob in the cache has the wrong size.',
    action: 'The cache is damaged: remove the artifact and build again.',
  },
  'cache-bad-key': {
    area: 'cache',
    meaning: 'An artifact reference holds a cache key or project name that is not one.',
    action: 'Report it: kiln computes these.',
  },
  'cache-bad-manifest': {
    area: 'cache',
    meaning: 'An artifact manifest in the cache is damaged (a checksum mismatch, unreadable entries).',
    action: 'Remove the artifact from the cache and build again.',
  },
  'cache-missing-blob': {
    area: 'cache',
    meaning: 'An artifact refers to a blob the cache does not have.',
    action: 'The cache is damaged: remove the artifact and build again.',
  },
  'cache-no-content': {
    area: 'cache',
    meaning: 'A file of an artifact to cache has no content to store.',
    action: 'Report it: every file kiln stages has content.',
  },
  'dest-not-empty': {
    area: 'cache',
    meaning: 'The directory to check out or stage into is not empty.',
    action: 'Choose an empty directory (kiln checkout: or --force).',
  },

  // Remote caches
  'remote-bad-url': {
    area: 'remote',
    meaning: 'A remote cache URL is not an http or https URL.',
    action: 'Give an http or https URL: kiln speaks the Bazel HTTP cache protocol.',
  },
  'remote-credentials-in-url': {
    area: 'remote',
    meaning: 'A remote cache URL carries credentials, which would end up in logs and project files.',
    action: 'Put them in ~/.netrc, or in KILN_REMOTE_USER/KILN_REMOTE_PASSWORD or KILN_REMOTE_TOKEN.',
  },

  // Warnings made fatal (fatal-warnings in project.conf)
  'warning-build-root-not-empty': {
    area: 'warning',
    meaning: 'The build root was not empty after integration, and build-root-not-empty is fatal.',
    action: 'Find what the integration commands write there, or remove the warning from fatal-warnings.',
  },
  'warning-ignored-files': {
    area: 'warning',
    meaning: 'Staging skipped files because a non-empty directory was in the way, and ignored-files is fatal.',
    action: 'Make the dependencies agree on what is a directory, or remove the warning from fatal-warnings.',
  },
  'warning-install-root-has-build-root': {
    area: 'warning',
    meaning: 'Files were installed under install-root/build-root (a DESTDIR is probably missing), and the warning is fatal.',
    action: 'Pass DESTDIR (or its equivalent) to the install commands.',
  },
  'warning-unaliased-url': {
    area: 'warning',
    meaning: 'A source downloads from a URL written without a project alias, and unaliased-url is fatal.',
    action: 'Define an alias for the host under aliases: in project.conf and write the URL as alias:path.',
  },
  'warning-overlaps': {
    area: 'warning',
    meaning: 'An element overwrote files staged by an earlier one, and overlaps is fatal.',
    action: 'Remove the overlap, or list the paths in public: bst: overlap-whitelist of the later element.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** An error code of the catalogue. */
export type ErrorCode = keyof typeof ERROR_CODES;
