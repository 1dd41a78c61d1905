// Seeded randomness: a small fast PRNG for the physics and SHA-256-derived UUIDs for the
// device ids. Everything a run generates flows from its seed, so a run can be replayed
// exactly (same ids, same values) by passing the same --seed and --start.
import { createHash, randomBytes } from "node:crypto";

/** A source of uniform numbers in [0, 1), like Math.random but reproducible. */
export type Random = () => number;

/** 32 bytes that depend on every part of the label and nothing else. */
function digestLabel(label: string): Buffer {
  return createHash("sha256").update(label).digest();
}

/**
 * sfc32 seeded with 128 bits of SHA-256: fast, passes PractRand far beyond what a load
 * run draws, and independent streams for different labels (one per vehicle) so vehicle i
 * behaves the same whatever the fleet size.
 */
export function createRandom(label: string): Random {
  const digest = digestLabel(label);
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // The first outputs of sfc32 still echo the seed; discard them as its author advises.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/**
 * A version-4 UUID derived from the label. 122 bits of SHA-256 make collisions between
 * different seeds as unlikely as with crypto.randomUUID, which a 32-bit PRNG would not.
 */
export function deriveUuid(label: string): string {
  const bytes = digestLabel(label).subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A uniform number in [min, max). */
export function pickBetween(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}

/** A seed for runs that were not given one: printed, so the run can be repeated. */
export function createSeed(): string {
  return randomBytes(6).toString("hex");
}
