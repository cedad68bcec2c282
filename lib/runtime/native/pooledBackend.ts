import { totalmem } from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

type DataId = object;

/**
 * minElements: outputs from 1 Ki floats (4 KiB, one page) up are pooled. Not only large ones: at the MNIST
 * teacher's shape and the SFD batch (16 × 28 × 28 × 16 = 800 KiB activations), fresh allocations were a
 * third of an SFD iteration (1009 → 629 ms/iteration when pooled from 4 KiB rather than 1 MiB).
 * poison: fill recycled buffers with NaN before handing them out, so a kernel that fails to write
 * all of its output shows up in tests (which also pool every size).
 */
export const poolSettings = { minElements: 1 << 10, poison: false };

/**
 * At most this much disposed memory waits for reuse (a quarter of the machine's memory): beyond it, the
 * least recently used sizes are left to the GC. A step's activations must fit for the pool to help.
 */
const POOL_CAP_BYTES = totalmem() / 4;

/**
 * tfjs's cpu backend, whose float buffers (from poolSettings.minElements up) are recycled when their tensors are disposed.
 *
 * Why: a fresh large Float32Array is memory the OS has not mapped yet, and the first write to each 4 KiB
 * page faults into the kernel, which zeroes it. On these VMs that costs about twice the write itself
 * (a 64 MiB copy: 12 ms into touched memory, 33 ms into fresh), and a UNet step makes dozens of
 * activations of the same few sizes. Recycling on dispose needs no help from the GC.
 *
 * Safety: a buffer is recycled only if nothing else can see it. It must have come from `allocOutput` (the
 * native kernels' outputs), and it stops being recyclable once its values leave the backend — read by
 * `dataSync`/`data`/`bufferSync` — or once a kernel returns a tensor that shares its memory (tfjs's cpu
 * slice returns subarray views). Reshapes share the data id, which the cpu backend reference-counts.
 */
export class PooledCpuBackend extends MathBackendCPU {
  /** Buffers from `allocOutput` that nothing outside their own tensor has seen. */
  private readonly recyclable = new WeakSet<Float32Array>();
  private readonly free = new Map<number, Float32Array[]>();
  private freeBytes = 0;
  /** Buffers handed out again / newly created (for tests and the benchmark). */
  readonly poolStats = { reused: 0, fresh: 0 };

  /**
   * A Float32Array of n elements for the output of a kernel that writes every element: recycled memory
   * where there is some, so it may hold old values (never zeroed: that would be another pass).
   */
  allocOutput(n: number): Float32Array {
    if (n < poolSettings.minElements) return new Float32Array(n);
    const list = this.free.get(n);
    if (list) {
      // most recently used sizes last: eviction starts from the front
      this.free.delete(n);
      this.free.set(n, list);
    }
    const spare = list?.pop();
    let buf: Float32Array;
    if (spare) {
      this.freeBytes -= spare.byteLength;
      if (poolSettings.poison) spare.fill(Number.NaN);
      buf = spare;
      this.poolStats.reused++;
    } else {
      buf = new Float32Array(n);
      this.poolStats.fresh++;
    }
    this.recyclable.add(buf);
    return buf;
  }

  /** Marks a buffer as visible outside its tensor: it will be left to the GC, never recycled. */
  escape(values: unknown): void {
    if (values instanceof Float32Array) this.recyclable.delete(values);
  }

  /**
   * After a kernel ran: an output sharing memory with an input makes both unrecyclable. Complex tensors
   * hold their arrays in two hidden parts (the cpu Complex kernel keeps its inputs' arrays there).
   */
  checkAliasing(inputs: tf.TensorInfo[], outputs: tf.TensorInfo[]): void {
    const ins = inputs.flatMap((t) => this.arraysOf(t.dataId));
    for (const o of outputs)
      for (const [oid, ov] of this.arraysOf(o.dataId))
        for (const [iid, iv] of ins)
          if (iid !== oid && iv.buffer === ov.buffer) {
            // (the same data id is a reshape or identity: the cpu backend reference-counts those)
            this.escape(iv);
            this.escape(ov);
          }
  }

  /** The typed arrays behind a data id of this backend, with their ids: its own, or a complex tensor's parts'. */
  private arraysOf(dataId: DataId): [DataId, ArrayBufferView][] {
    if (!this.data.has(dataId)) return [];
    const { values, complexTensorInfos } = this.data.get(dataId);
    if (complexTensorInfos)
      return [complexTensorInfos.real, complexTensorInfos.imag].flatMap((p) => this.arraysOf(p.dataId));
    return ArrayBuffer.isView(values) ? [[dataId, values]] : [];
  }

  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.escape(values);
    return values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    // (has() first: get() of an id this backend lacks would move the data here)
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const done = super.disposeData(dataId, force);
    if (values instanceof Float32Array && !this.data.has(dataId) && this.recyclable.has(values)) {
      this.recyclable.delete(values);
      const list = this.free.get(values.length);
      if (list) list.push(values);
      else this.free.set(values.length, [values]);
      this.freeBytes += values.byteLength;
      this.evict();
    }
    return done;
  }

  /** Lets go of every buffer waiting for reuse (the GC frees them); returns how many bytes that was. */
  releasePool(): number {
    const bytes = this.freeBytes;
    this.free.clear();
    this.freeBytes = 0;
    return bytes;
  }

  /** Drops buffers of the least recently used sizes until the pool is within its cap. */
  private evict(): void {
    for (const [n, list] of this.free) {
      if (this.freeBytes <= POOL_CAP_BYTES) return;
      while (list.length > 0 && this.freeBytes > POOL_CAP_BYTES) {
        list.pop();
        this.freeBytes -= n * 4;
      }
      if (list.length === 0) this.free.delete(n);
    }
  }

  override dispose(): void {
    this.releasePool();
    super.dispose();
  }
}
