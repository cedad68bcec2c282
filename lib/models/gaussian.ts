import * as tf from '@tensorflow/tfjs';
import type { Denoiser } from '../diffusion/denoiser';

/** Isotropic Gaussian data N(mean, std²·I). */
export interface Gaussian {
  mean: number;
  std: number;
}

/** The exact denoiser of Gaussian data: E[x0 | x_t] = mean + std²/(std² + t²)·(x − mean). */
export function gaussianDenoiser(g: Gaussian): Denoiser {
  return (x, t) =>
    tf.tidy(() =>
      x
        .sub(g.mean)
        .mul((g.std * g.std) / (g.std * g.std + t * t))
        .add(g.mean),
    );
}

/** Exact PF-ODE solution: x(t) − mean = (x(T) − mean)·sqrt((std² + t²)/(std² + T²)). */
export function gaussianOdeSolution(g: Gaussian, xT: number, tFrom: number, tTo: number): number {
  const s2 = g.std * g.std;
  return g.mean + (xT - g.mean) * Math.sqrt((s2 + tTo * tTo) / (s2 + tFrom * tFrom));
}
