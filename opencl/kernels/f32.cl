/* FP32 kernels: the semantics of engine/cfqp-f32-ops.c and cfqp-f32-conv.c
 * (within float rounding: sums run in another order). */

/* Conv, any kernel/stride/dilation/groups; taps outside the input read the
 * per-input-channel pad value (0 unless a normalisation was folded in).
 * A work-item computes OCB output channels of one pixel, so that each input
 * load feeds OCB multiply-adds; work-item z is block z % nb of group z / nb
 * (nb = ⌈ocg / OCB⌉), and a short last block recomputes its last channel
 * rather than branching in the tap loop. */
#define OCB 4

__kernel void
conv_f32 (__global const float *in, __global float *out, __global const float *w,
    __global const float *bias, __global const float *pad_value,
    int in_w, int in_h, int out_w, int out_h, int icg, int ocg, int kh, int kw,
    int sh, int sw, int dh, int dw, int pt, int pl, int nb, ACT_ARGS)
{
  int x = get_global_id (0), y = get_global_id (1), z = get_global_id (2);
  int g = z / nb, oc0 = g * ocg + z % nb * OCB, n = min (OCB, g * ocg + ocg - oc0);
  int ic0 = g * icg, kk = kh * kw;
  size_t wstride = (size_t) icg * kk;
  __global const float *w0 = w + (size_t) oc0 * wstride;
  __global const float *w1 = w0 + min (1, n - 1) * wstride;
  __global const float *w2 = w0 + min (2, n - 1) * wstride;
  __global const float *w3 = w0 + min (3, n - 1) * wstride;
  float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;

  for (int j = 0; j < icg; j++) {
    __global const float *plane = in + (size_t) (ic0 + j) * in_h * in_w;
    float pv = pad_value[ic0 + j];

    for (int ky = 0; ky < kh; ky++) {
      int iy = y * sh + ky * dh - pt;
      bool row_in = iy >= 0 && iy < in_h;

      for (int kx = 0; kx < kw; kx++, w0++, w1++, w2++, w3++) {
        int ix = x * sw + kx * dw - pl;
        float v = row_in && ix >= 0 && ix < in_w ? plane[(size_t) iy * in_w + ix] : pv;
        s0 += *w0 * v;
        s1 += *w1 * v;
        s2 += *w2 * v;
        s3 += *w3 * v;
      }
    }
  }
  {
    float s[OCB] = { s0, s1, s2, s3 };
    for (int k = 0; k < n; k++)
      out[OUT_INDEX (oc0 + k, y, x, out_h, out_w)] = ACT (s[k] + bias[oc0 + k], oc0 + k);
  }
}

/* ConvTranspose as a gather: output y receives input row n/sh through tap
 * ky when n = y + pt − ky·dh is a non-negative multiple of sh. */
__kernel void
conv_transpose_f32 (__global const float *in, __global float *out, __global const float *w,
    __global const float *bias, int in_w, int in_h, int out_w, int out_h, int icg, int ocg,
    int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl, ACT_ARGS)
{
  int x = get_global_id (0), y = get_global_id (1), oc = get_global_id (2);
  int g = oc / ocg, ol = oc % ocg;
  float sum = bias[oc];

  for (int j = 0; j < icg; j++) {
    int ic = g * icg + j;
    __global const float *wp = w + ((size_t) ic * ocg + ol) * kh * kw;

    for (int ky = 0; ky < kh; ky++) {
      int ny = y + pt - ky * dh;
      if (ny < 0 || ny % sh || ny / sh >= in_h)
        continue;
      for (int kx = 0; kx < kw; kx++) {
        int nx = x + pl - kx * dw;
        if (nx < 0 || nx % sw || nx / sw >= in_w)
          continue;
        sum += wp[ky * kw + kx] * in[((size_t) ic * in_h + ny / sh) * in_w + nx / sw];
      }
    }
  }
  out[OUT_INDEX (oc, y, x, out_h, out_w)] = ACT (sum, oc);
}

/* o = a ⊕ b.  Each operand is read at c·cs + p·ps (p: pixel), so a
 * broadcast channel has cs 0 and a constant has ps 0 (and cs 0 or 1). */
__kernel void
binary_f32 (__global const float *a, __global const float *b, __global float *out,
    int a_cs, int a_ps, int b_cs, int b_ps, int kind, int out_w, int out_h, ACT_ARGS)
{
  int x = get_global_id (0), y = get_global_id (1), c = get_global_id (2);
  int p = y * out_w + x;
  float va = a[(size_t) c * a_cs + (size_t) p * a_ps];
  float vb = b[(size_t) c * b_cs + (size_t) p * b_ps];
  float o;

  switch (kind) {
    case 0: o = va + vb; break;
    case 1: o = va - vb; break;
    case 2: o = va * vb; break;
    default: o = va / vb; break;
  }
  out[OUT_INDEX (c, y, x, out_h, out_w)] = ACT (o, c);
}

/* Standalone activation and concat: input channels c land at c_off + c. */
__kernel void
copy_act_f32 (__global const float *in, __global float *out, int w, int h, int c_off,
    ACT_ARGS)
{
  int x = get_global_id (0), y = get_global_id (1), c = get_global_id (2);

  out[OUT_INDEX (c_off + c, y, x, h, w)] = ACT (in[OUT_INDEX (c, y, x, h, w)], c_off + c);
}

__kernel void
move_f32 (__global const float *in, __global float *out, int op, int p0, int p1,
    int in_c, int in_h, int in_w, int out_c, int out_h, int out_w, ACT_ARGS)
{
  int x = get_global_id (0), y = get_global_id (1), c = get_global_id (2);

  out[OUT_INDEX (c, y, x, out_h, out_w)] =
      ACT (in[move_src (op, p0, p1, c, y, x, in_c, in_h, in_w, out_c)], c);
}
