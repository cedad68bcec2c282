import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/**
 * tfjs's cpu backend prints a banner ("looks like you are running TensorFlow.js in Node.js…") on its
 * first tensor write. The library chooses its backend itself and says which in one line, so the banner
 * is noise in notebooks and on the CLI's stderr: mark every cpu-family backend (cpu, native) as used.
 */
export function quietCpuBanner(): void {
  const proto = MathBackendCPU.prototype as unknown as {
    write: (...a: unknown[]) => unknown;
    __quiet?: boolean;
  };
  if (proto.__quiet) return;
  const write = proto.write;
  proto.write = function (this: { firstUse: boolean }, ...args: unknown[]) {
    this.firstUse = false;
    return write.apply(this, args);
  };
  proto.__quiet = true;
}
