/** Seeded pseudo-random numbers for the simulation: reproducible runs from one seed. */
import { mulberry32 } from "../../gpu-backend/sim/random.js";

/** A [0, 1) generator from a 32-bit seed: the simulator's own, so both draw identical streams. */
export const seededRandom: (seed: number) => () => number = mulberry32;

/** Derives an independent stream's seed from a base seed and a label (so streams don't overlap). */
export function deriveSeed(base: number, label: string): number {
  let h = (base ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Exponential with the given mean. */
export function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** Standard normal by Box–Muller (one of the pair; simplicity over speed). */
export function standardNormal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Lognormal parametrised by its median (e^mu) and log-space sigma. */
export function lognormal(random: () => number, o: { median: number; sigma: number }): number {
  return o.median * Math.exp(o.sigma * standardNormal(random));
}

/** Uniform integer in [lo, hi]. */
export function uniformInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}
