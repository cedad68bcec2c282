#ifndef SFD_CONV_GEOM_H
#define SFD_CONV_GEOM_H

// A 2-D convolution, NHWC activations and [fH, fW, inC, outC] filters (tfjs's layouts).
typedef struct {
  int batch, inH, inW, inC, outH, outW, outC, fH, fW, sH, sW, dH, dW, padT, padL;
} ConvGeom;

// kind 0 = forward (P = x, Q = filter, O = y), 1 = input gradient (P = dy, Q = filter, O = dx),
// 2 = filter gradient (P = x, Q = dy, O = dW). 1 when done; 0 when this path does not take the case.
// filterId > 0 names the contents of the filters Q (kinds 0, 1) so that their reordered copy can be reused.
int dnnl_conv(const ConvGeom* g, int kind, const float* P, const float* Q, const float* bias, float* O,
              double filterId);
// How many convolutions oneDNN has run in this process.
long dnnl_conv_calls(void);

#endif
