/** `a` copied into a new array of its kind with room for `length` elements: how the writers' growable arrays grow. */
export function grown<T extends Uint8Array | Uint32Array | Float64Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
