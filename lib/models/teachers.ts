import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Denoiser } from '../diffusion/denoiser';
import { edmPrecond } from '../diffusion/precond';
import { repoRoot } from '../runtime/paths';
import type { UNet } from './unet';
import { unetRawNet } from './unet';
import { loadUNet, type UNetCard } from './unetFiles';

/** Shipped image teachers by name (directories under data/). */
export const IMAGE_TEACHERS: Readonly<Record<string, string>> = { mnist: 'teacher-mnist' };

export interface ImageTeacher {
  denoise: Denoiser;
  unet: UNet;
  card: UNetCard;
  /** [h, w, c] of one image. */
  shape: [number, number, number];
  dir: string;
  sha256: string;
}

/** Where a teacher name (or a directory holding model.json) points. */
export function teacherDir(nameOrDir: string): string {
  const shipped = IMAGE_TEACHERS[nameOrDir];
  if (shipped) return join(repoRoot(), 'data', shipped);
  if (existsSync(join(nameOrDir, 'model.json'))) return nameOrDir;
  throw new RangeError(
    `unknown teacher '${nameOrDir}': image teachers are ${Object.keys(IMAGE_TEACHERS).join(', ')} or a model directory (DIR/model.json); ${nameOrDir} is neither`,
  );
}

/** Loads an image teacher as an EDM-preconditioned denoiser. */
export function loadImageTeacher(nameOrDir: string, opts: { unchecked?: boolean } = {}): ImageTeacher {
  const dir = teacherDir(nameOrDir);
  const { unet, card, sha256 } = loadUNet(dir, opts);
  const c = unet.config;
  return {
    denoise: edmPrecond(unetRawNet(unet)),
    unet,
    card,
    shape: [c.resolution, c.resolution, c.inChannels],
    dir,
    sha256,
  };
}
