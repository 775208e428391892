// The parts of cpio-stream (a CommonJS package without types) that kiln uses.
declare module 'cpio-stream' {
  import type { Readable, Writable } from 'node:stream';

  export interface CpioHeader {
    name: string;
    ino?: number;
    mode?: number;
    uid?: number;
    gid?: number;
    nlink?: number;
    /** A Date; the packer replaces a falsy value with the current time. */
    mtime?: Date;
    size?: number;
    dev?: number;
    devmajor?: number;
    devminor?: number;
    rdev?: number;
    rdevmajor?: number;
    rdevminor?: number;
    linkname?: string;
  }

  export interface Pack extends Readable {
    /** Regular files: write the data into the returned stream, then end it. */
    entry(header: CpioHeader, buffer: Buffer | string, callback?: (err?: Error) => void): Writable;
    entry(header: CpioHeader, callback?: (err?: Error) => void): Writable;
    finalize(): void;
    /** The header encoder chosen by `format` (instance property, set in the constructor). */
    _encode: (header: CpioHeader) => Uint8Array;
  }
  export function pack(opts?: { format?: 'odc' | 'newc' }): Pack;

  export interface ExtractedHeader {
    name: string;
    ino: number;
    mode: number;
    uid: number;
    gid: number;
    nlink: number;
    mtime: Date;
    size: number;
    devmajor: number;
    devminor: number;
    rdevmajor: number;
    rdevminor: number;
  }
  export interface Extract extends Writable {
    on(event: 'entry', listener: (header: ExtractedHeader, stream: Readable, next: () => void) => void): this;
    on(event: 'finish', listener: () => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
  }
  export function extract(): Extract;
}
