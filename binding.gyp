{
  "variables": {
    "has_dnnl": "<!(node -p \"require('fs').existsSync('/usr/include/oneapi/dnnl/dnnl.h') ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "sfd_native",
      "sources": ["native/sfd_native.c"],
      "cflags": ["-O3", "-march=native", "-fno-trapping-math", "-mprefer-vector-width=512", "-std=c11"],
      "conditions": [
        ["OS=='mac'", {"libraries": ["-framework Accelerate"], "defines": ["SFD_ACCELERATE"]}],
        ["OS!='mac'", {"libraries": ["-lopenblas"], "cflags": ["-fopenmp"], "ldflags": ["-fopenmp"]}],
        ["has_dnnl==1", {"sources": ["native/dnnl_conv.c"], "libraries": ["-ldnnl"], "defines": ["SFD_DNNL"]}]
      ]
    }
  ]
}
