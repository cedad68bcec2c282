import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths';

/** A WebGPU adapter as Dawn reports it. */
export interface GpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasteriser (Mesa's lavapipe, SwiftShader): correct but slow, never chosen by default. */
  software: boolean;
}

export interface WebgpuProbe {
  adapter: GpuAdapter | null;
  /** Why there is no adapter, when there is none. */
  reason?: string;
}

// Runs in a child process: Dawn and the Vulkan loader print to stderr while they enumerate drivers
// (limit warnings on lavapipe, "failed to detect any valid GPUs" elsewhere), which would be noise in every
// command on a machine without a GPU. The child's stderr is kept for the reason when nothing is found.
const PROBE = `
const { create, globals } = require('webgpu');
Object.assign(globalThis, globals);
create([]).requestAdapter({ powerPreference: 'high-performance' }).then((a) => {
  const i = a && a.info;
  process.stdout.write(JSON.stringify(i ? { vendor: i.vendor, architecture: i.architecture, device: i.device,
    description: i.description, fallback: !!(i.isFallbackAdapter || a.isFallbackAdapter) } : null) + '\\n');
  process.exit(0);
}, (e) => { process.stdout.write(JSON.stringify({ error: String(e && e.message || e) }) + '\\n'); process.exit(0); });
`;

function vulkanLoaderPresent(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

export function isSoftwareAdapter(i: {
  architecture: string;
  device: string;
  description: string;
  fallback?: boolean;
}): boolean {
  const text = `${i.device} ${i.description}`.toLowerCase();
  return (
    !!i.fallback ||
    i.architecture === 'software' ||
    ['llvmpipe', 'lavapipe', 'swiftshader'].some((s) => text.includes(s))
  );
}

let probed: WebgpuProbe | null = null;

/** Looks for a WebGPU adapter (Dawn, the `webgpu` package) without loading it into this process. */
export function probeWebgpu(): WebgpuProbe {
  if (probed) return probed;
  probed = probeOnce();
  return probed;
}

function probeOnce(): WebgpuProbe {
  try {
    require.resolve('webgpu');
  } catch {
    return { adapter: null, reason: "the 'webgpu' package (Dawn) is not installed" };
  }
  if (!vulkanLoaderPresent()) return { adapter: null, reason: 'no Vulkan loader (libvulkan.so.1)' };
  const r = spawnSync(process.execPath, ['-e', PROBE], {
    encoding: 'utf8',
    timeout: 30_000,
    cwd: repoRoot(), // where `require('webgpu')` in the child resolves
  });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let parsed: (Omit<GpuAdapter, 'software'> & { fallback: boolean }) | { error: string } | null;
  try {
    parsed = JSON.parse(line);
  } catch {
    const why = r.error ? r.error.message : `exit ${r.status}${r.signal ? `, ${r.signal}` : ''}`;
    return { adapter: null, reason: `the WebGPU probe failed (${why})` };
  }
  if (parsed === null) return { adapter: null, reason: 'no WebGPU adapter (no usable Vulkan driver)' };
  if ('error' in parsed) return { adapter: null, reason: `WebGPU: ${parsed.error}` };
  const { fallback, ...info } = parsed;
  return { adapter: { ...info, software: isSoftwareAdapter(parsed) } };
}

/** One line naming an adapter: "NVIDIA H200 (nvidia, hopper)" or "llvmpipe … (mesa, software)". */
export function describeAdapter(a: GpuAdapter): string {
  const name = a.description || a.device || 'unnamed adapter';
  const kind = [a.vendor, a.architecture].filter(Boolean).join(', ');
  const soft = a.software && a.architecture !== 'software' ? ', software' : '';
  return `${name}${kind ? ` (${kind}${soft})` : soft}`;
}

let loaded: GpuAdapter | null = null;

/** The little of the WebGPU API used here (the full types live in @webgpu/types). */
interface DawnGpu {
  requestAdapter(o?: { powerPreference?: string }): Promise<{
    info: { vendor: string; architecture: string; device: string; description: string };
  } | null>;
}

/**
 * Makes tfjs's `webgpu` backend available in Node: Dawn's WebGPU implementation as `navigator.gpu`, then
 * @tensorflow/tfjs-backend-webgpu (which registers itself only if navigator.gpu exists). A software adapter
 * is refused unless `allowSoftware` (SFD_BACKEND=webgpu): the default order must never pick lavapipe.
 */
export async function loadWebgpu(allowSoftware: boolean): Promise<GpuAdapter> {
  if (loaded && (allowSoftware || !loaded.software)) return loaded;
  if (!allowSoftware) {
    const p = probeWebgpu();
    if (!p.adapter) throw new Error(p.reason);
    if (p.adapter.software)
      throw new Error(`only a software adapter, ${describeAdapter(p.adapter)} (SFD_BACKEND=webgpu uses it)`);
  }
  const { create, globals } = require('webgpu') as {
    create: (flags: string[]) => DawnGpu;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const nav = (globalThis as { navigator?: object }).navigator ?? {};
  Object.defineProperty(globalThis, 'navigator', {
    value: Object.assign(Object.create(nav), { gpu }),
    configurable: true,
    writable: true,
  });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter (no usable Vulkan driver)');
  const i = adapter.info;
  const info = {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    fallback: (i as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  };
  require('@tensorflow/tfjs-backend-webgpu');
  const { fallback, ...named } = info;
  loaded = { ...named, software: isSoftwareAdapter(info) };
  return loaded;
}

/** The adapter the webgpu backend runs on, once loaded. */
export function webgpuAdapter(): GpuAdapter | null {
  return loaded;
}
