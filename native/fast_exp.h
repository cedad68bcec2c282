// A branch-free float exp that GCC vectorises (16 lanes with AVX-512). glibc's scalar expf is not
// vectorised without -ffast-math for the whole file (its SIMD variants are only declared under
// __FAST_MATH__), and the SiLU in every fused GroupNorm was bound by it. Cody–Waite reduction
// x = n·ln2 + r with |r| ≤ ln2/2 and a degree-6 minimax polynomial for e^r (Cephes' coefficients):
// within 2 ULP of expf on [−87, 88]; inputs are clamped there, so it never overflows to inf and
// underflows to ~1e-38 instead of 0; NaN stays NaN.
#ifndef SFD_FAST_EXP_H
#define SFD_FAST_EXP_H
#include <stdint.h>

static inline float sfd_expf(float x) {
  x = x > 88.0f ? 88.0f : x;
  x = x < -87.0f ? -87.0f : x;
  // n = round(x/ln2) as floor(x/ln2 + 0.5), computed by truncating a positive number (x ≥ −87 keeps it
  // positive): floorf itself would block vectorisation unless trapping math is off.
  int32_t k = (int32_t)(x * 1.44269504088896341f + 128.5f) - 128;
  float n = (float)k;
  float r = x - n * 0.693359375f;  // ln2 split in two so n·C1 is exact
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float e = p * r * r + r + 1.0f;
  union {
    int32_t i;
    float f;
  } scale = {.i = (k + 127) << 23};  // 2^n, written straight into a float's exponent field
  return e * scale.f;
}

#endif
