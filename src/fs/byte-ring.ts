/**
 * A ring of byte records in a SharedArrayBuffer, between one producing and one consuming thread
 * (Node only: the read-ahead of source files and the write-behind of image files). Each record
 * is a 16-byte header (four int32 words: a tag of the user's, the length, two more words of the
 * user's) and its bytes, padded to 8; a record never wraps: where the end is too near, the
 * producer writes a wrap mark (tag -1, or nothing when fewer than 16 bytes are left) and starts
 * again at 0. Head and tail count modulo twice the ring size in int32 control words, so that
 * full and empty differ. Waits block on Atomics with a time limit and report running out of it;
 * a sleeping side is woken when there is a batch of work for it, not for every record.
 *
 * The implementation is JavaScript source, evaluated here for the main thread and pasted into
 * the workers' sources (they run with `eval`, so no module file has to be found beside the built
 * one, or under the tests' TypeScript loader): one implementation for both sides.
 */

/** Control words: head (0), tail (1), whether the consumer (2) or the producer (3) sleeps, and the users' own from USER_WORDS on. */
export const USER_WORDS = 4;

export const RING_SOURCE = `
class ByteRing {
  constructor(ringBuffer, controlBuffer) {
    this.bytes = new Uint8Array(ringBuffer);
    this.words = new Int32Array(ringBuffer);
    this.control = new Int32Array(controlBuffer);
    this.size = this.bytes.length;
  }
  /** Bytes a record of n bytes takes. */
  static span(n) { return (16 + n + 7) & ~7; }
  used() { return (Atomics.load(this.control, 0) - Atomics.load(this.control, 1) + 2 * this.size) % (2 * this.size); }
  /**
   * Waits up to ms while control word w (0: the consumer waits for the head, 1: the producer for
   * the tail) still holds v. It says so in word w + 2, and wakes the other side first if that
   * sleeps too, so that both never sleep waiting for each other. False when the time ran out.
   */
  sleep(w, v, ms) {
    Atomics.store(this.control, w + 2, 1);
    this.notify(1 - w);
    const r = Atomics.load(this.control, w) === v ? Atomics.wait(this.control, w, v, ms) : 'not-equal';
    Atomics.store(this.control, w + 2, 0);
    return r !== 'timed-out';
  }
  /** Wakes whichever side sleeps (before this side waits for something else, or ends). */
  wake() {
    this.notify(0);
    this.notify(1);
  }
  /**
   * Wakes the side waiting on word w if it sleeps, and takes its flag down: until it is up again
   * (the side slept again) nothing more is sent. Left up, every record passed before the woken
   * thread runs again would cost another system call, thousands of them on a busy machine.
   */
  notify(w) {
    if (Atomics.load(this.control, w + 2) !== 0 && Atomics.compareExchange(this.control, w + 2, 1, 0) === 1) Atomics.notify(this.control, w);
  }
  /**
   * Sets control word w (0 head, 1 tail) and wakes the other side if it sleeps and there is
   * enough for it to do: a sixteenth of the ring to consume, or half of it free. Waking it for
   * every record would cost a system call and two thread switches per small file.
   */
  advance(w, v) {
    Atomics.store(this.control, w, v);
    if (Atomics.load(this.control, w + 2) === 0) return;
    const used = this.used();
    if (w === 0 ? used >= this.size >> 4 : used <= this.size >> 1) this.notify(w);
  }
  /** Producer: the offset where a record of n bytes goes, once there is room; -1 after waiting ms. */
  reserve(n, ms) {
    const span = ByteRing.span(n);
    for (;;) {
      const head = Atomics.load(this.control, 0);
      const at = head % this.size;
      const skip = at + span > this.size ? this.size - at : 0;
      if (this.used() + skip + span <= this.size) {
        if (skip > 0) {
          if (skip >= 16) this.words[at >> 2] = -1;
          this.advance(0, (head + skip) % (2 * this.size));
        }
        return (head + skip) % this.size;
      }
      if (!this.sleep(1, Atomics.load(this.control, 1), ms)) return -1;
    }
  }
  /** Producer: makes the record at the head (tag, n bytes, two more words) visible. */
  publish(tag, n, a, b) {
    const head = Atomics.load(this.control, 0);
    const w = (head % this.size) >> 2;
    this.words[w] = tag; this.words[w + 1] = n; this.words[w + 2] = a; this.words[w + 3] = b;
    this.advance(0, (head + ByteRing.span(n)) % (2 * this.size));
  }
  /** Consumer: the offset of the record at the tail, waiting up to ms; -1 when none came. */
  next(ms) {
    for (;;) {
      const tail = Atomics.load(this.control, 1);
      const head = Atomics.load(this.control, 0);
      if (head === tail) {
        if (ms <= 0 || !this.sleep(0, head, ms)) return -1;
        continue;
      }
      const at = tail % this.size;
      if (this.size - at < 16 || this.words[at >> 2] === -1) {
        this.advance(1, (tail + this.size - at) % (2 * this.size));
        continue;
      }
      return at;
    }
  }
  tag(at) { return this.words[at >> 2]; }
  length(at) { return this.words[(at >> 2) + 1]; }
  word(at, k) { return this.words[(at >> 2) + 2 + k]; }
  data(at) { return this.bytes.subarray(at + 16, at + 16 + this.words[(at >> 2) + 1]); }
  /** Consumer: gives the record at the tail back to the producer. */
  release(at) {
    this.advance(1, (Atomics.load(this.control, 1) + ByteRing.span(this.words[(at >> 2) + 1])) % (2 * this.size));
  }
}
`;

/** The ring as the main thread uses it (the same source as the workers'). */
export interface ByteRing {
  readonly bytes: Uint8Array;
  readonly control: Int32Array;
  /** Bytes in records not yet released. */
  used(): number;
  /** Waits up to `ms` while control word `w` (0 head, 1 tail) holds `v`; false when the time ran out. */
  sleep(w: 0 | 1, v: number, ms: number): boolean;
  /** Wakes the other side if it sleeps. */
  wake(): void;
  reserve(n: number, ms: number): number;
  publish(tag: number, n: number, a: number, b: number): void;
  next(ms: number): number;
  tag(at: number): number;
  length(at: number): number;
  word(at: number, k: 0 | 1): number;
  data(at: number): Uint8Array;
  release(at: number): void;
}

// One implementation for threads that share no module: the main thread evaluates the same source.
const ByteRingClass = new Function(`${RING_SOURCE}; return ByteRing;`)() as new (ringBuffer: SharedArrayBuffer, controlBuffer: SharedArrayBuffer) => ByteRing;

/** A ring of `size` bytes (a multiple of 8) with `userWords` control words of the caller's after head and tail. */
export function newByteRing(size: number, userWords: number): { ring: ByteRing; ringBuffer: SharedArrayBuffer; controlBuffer: SharedArrayBuffer } {
  const ringBuffer = new SharedArrayBuffer(size);
  const controlBuffer = new SharedArrayBuffer((USER_WORDS + userWords) * 4);
  return { ring: new ByteRingClass(ringBuffer, controlBuffer), ringBuffer, controlBuffer };
}
