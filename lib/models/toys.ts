import type { Gmm } from './gmm';

/** k equal modes evenly spaced on a circle. */
export function ringMixture(k = 8, radius = 1, std = 0.1): Gmm {
  return {
    weights: Array(k).fill(1 / k),
    means: Array.from({ length: k }, (_, i) => [
      radius * Math.cos((2 * Math.PI * i) / k),
      radius * Math.sin((2 * Math.PI * i) / k),
    ]),
    stds: Array(k).fill(std),
  };
}

/** side × side equal modes on a square grid centred at the origin. */
export function gridMixture(side = 3, spacing = 0.8, std = 0.08): Gmm {
  const c = ((side - 1) * spacing) / 2;
  const means: number[][] = [];
  for (let i = 0; i < side; i++)
    for (let j = 0; j < side; j++) means.push([i * spacing - c, j * spacing - c]);
  return { weights: Array(means.length).fill(1 / means.length), means, stds: Array(means.length).fill(std) };
}

/** The 2-D toy teachers by name. */
export const TOY_MIXTURES: Readonly<Record<string, () => Gmm>> = {
  gmm2d: () => ringMixture(8, 1, 0.1),
  ring: () => ringMixture(8, 1, 0.1),
  grid: () => gridMixture(3, 0.8, 0.08),
};
