import type { Timestamp } from '../tree.js';

/**
 * FAT timestamps: local-time fields with 2-second resolution (plus a 10 ms field for the
 * creation time), years 1980–2107. kiln stores UTC so images do not depend on TZ.
 */
export interface FatTime {
  date: number;
  time: number;
  /** 10 ms units, 0…199 (creation time only). */
  fine: number;
}

/** 1980-01-01T00:00:00Z */
export const FAT_MIN_SEC = 315532800;
/** 2107-12-31T23:59:59Z */
export const FAT_MAX_SEC = 4354819199;

export function clampTimestamp(ts: Timestamp, sourceDateEpoch?: number): number {
  let sec = ts.sec;
  if (sourceDateEpoch !== undefined && sec > sourceDateEpoch) sec = sourceDateEpoch;
  return Math.min(FAT_MAX_SEC, Math.max(FAT_MIN_SEC, sec));
}

export function encodeFatTime(sec: number): FatTime {
  const d = new Date(sec * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  return { date, time, fine: (d.getUTCSeconds() & 1) * 100 };
}

/** Decodes a date/time pair as UTC; an invalid or zero date reads as 1980-01-01. */
export function decodeFatTime(date: number, time: number, fine = 0): Timestamp {
  const year = 1980 + (date >> 9);
  const month = Math.max(1, (date >> 5) & 0xf);
  const day = Math.max(1, date & 0x1f);
  const ms = Date.UTC(year, month - 1, day, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2) + Math.min(fine, 199) * 10;
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}
