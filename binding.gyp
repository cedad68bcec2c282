{
  "targets": [
    {
      "target_name": "sfd_native",
      "sources": ["native/sfd_native.c"],
      "cflags": ["-O3", "-march=native", "-std=c11"],
      "conditions": [
        ["OS=='mac'", {"libraries": ["-framework Accelerate"], "defines": ["SFD_ACCELERATE"]}],
        ["OS!='mac'", {"libraries": ["-lopenblas"], "cflags": ["-fopenmp"], "ldflags": ["-fopenmp"]}]
      ]
    }
  ]
}
