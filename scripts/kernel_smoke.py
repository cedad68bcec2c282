"""Starts the TypeScript kernel from the kernel specs under KERNELS_DIR and evaluates `6 * 7` in it: the check
that a kernel spec works where it lies (used by test/notebooks/kernelSpec.test.ts on a moved copy)."""
import sys

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

kernels_dir = sys.argv[1]
km = KernelManager(kernel_name="tslab", kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels_dir]))
km.start_kernel()
try:
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    results = []

    def hook(msg):
        if msg["msg_type"] in ("execute_result", "display_data"):
            results.append(msg["content"]["data"].get("text/plain", ""))
        elif msg["msg_type"] == "stream":
            results.append(msg["content"]["text"].strip())

    reply = kc.execute_interactive("console.log(6 * 7)", timeout=60, output_hook=hook)
    print("result", " ".join(results))
    print("status", reply["content"]["status"])
    print("argv0", km.kernel_spec.argv[0])
    kc.stop_channels()
finally:
    km.shutdown_kernel(now=True)
