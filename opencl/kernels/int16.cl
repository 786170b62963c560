/* INT16 kernels: 16-bit programs (uint16 activations, int16 taps, int64
 * biases), bit-exact with ref's ops16 (engine/cfqp-int8-ref-arith.h at 16
 * bits); see docs/int8-arithmetic.md, "16-bit programs".  They share
 * rshift_round with int8.cl. */

/* cfqp_requant_wide: acc·m in 128 bits, here as two 64-bit halves (OpenCL C
 * has no 128-bit integer; mul_hi gives the high one), rounded half away
 * from zero on the magnitude, saturated at ±2^62 — the form of
 * cfqp_requant_wide_portable, which the engine's tests hold to the 128-bit
 * one. */
inline long
requant_wide (long acc, int2 rq)
{
  const ulong limit = 1UL << 62;
  bool neg = (acc < 0) != (rq.x < 0);
  ulong a = acc < 0 ? (ulong) 0 - (ulong) acc : (ulong) acc;
  ulong m = rq.x < 0 ? (ulong) 0 - (ulong) (long) rq.x : (ulong) rq.x;
  ulong lo = a * m, hi = mul_hi (a, m);
  ulong rnd = 1UL << (rq.y - 1), r;

  lo += rnd;
  hi += lo < rnd;
  /* (hi·2^64 + lo) >> shift, shift in 1..62 */
  r = (hi >> rq.y) != 0 ? limit : (hi << (64 - rq.y)) | (lo >> rq.y);
  r = min (r, limit);
  return neg ? -(long) r : (long) r;
}

inline ushort
clamp_u16 (long v, int lo, int hi)
{
  long t = v < lo ? lo : v;   /* ONNX Clip's order, as cfqp_clamp_u16 */
  return (ushort) (t > hi ? hi : t);
}

inline ushort
requant_out16 (long acc, int oc, __global const int2 *rq_pos, __global const int2 *rq_neg,
    int z_out, int lo, int hi)
{
  return clamp_u16 (z_out + requant_wide (acc, acc >= 0 ? rq_pos[oc] : rq_neg[oc]), lo, hi);
}

/* acc = bias + Σ w·(q − z_in) in 64 bits: one product |w·(q − z)| ≤
 * 32767·65535 fits an int, their sums do not.  OCB output channels per
 * work-item, as conv_u8. */
__kernel void
conv_u16 (__global const ushort *in, __global ushort *out, __global const short *w,
    __global const long *bias, __global const ushort *pad, int z_in, REQUANT_ARGS,
    int in_w, int in_h, int out_w, int out_h, int icg, int ocg, int kh, int kw,
    int sh, int sw, int dh, int dw, int pt, int pl, int nb)
{
  int x = get_global_id (0), y = get_global_id (1), z = get_global_id (2);
  int g = z / nb, oc0 = g * ocg + z % nb * OCB, n = min (OCB, g * ocg + ocg - oc0);
  int ic0 = g * icg, kk = kh * kw;
  size_t wstride = (size_t) icg * kk;
  __global const short *w0 = w + (size_t) oc0 * wstride;
  __global const short *w1 = w0 + min (1, n - 1) * wstride;
  __global const short *w2 = w0 + min (2, n - 1) * wstride;
  __global const short *w3 = w0 + min (3, n - 1) * wstride;
  long a0 = 0, a1 = 0, a2 = 0, a3 = 0;

  for (int j = 0; j < icg; j++) {
    __global const ushort *plane = in + (size_t) (ic0 + j) * in_h * in_w;
    int pv = pad[ic0 + j] - z_in;

    for (int ky = 0; ky < kh; ky++) {
      int iy = y * sh + ky * dh - pt;
      bool row_in = iy >= 0 && iy < in_h;

      for (int kx = 0; kx < kw; kx++, w0++, w1++, w2++, w3++) {
        int ix = x * sw + kx * dw - pl;
        int v = row_in && ix >= 0 && ix < in_w ? plane[(size_t) iy * in_w + ix] - z_in : pv;
        a0 += *w0 * v;
        a1 += *w1 * v;
        a2 += *w2 * v;
        a3 += *w3 * v;
      }
    }
  }
  {
    long a[OCB] = { a0, a1, a2, a3 };
    for (int k = 0; k < n; k++)
      out[OUT_INDEX (oc0 + k, y, x, out_h, out_w)] =
          requant_out16 (bias[oc0 + k] + a[k], oc0 + k, rq_pos, rq_neg, z_out, lo, hi);
  }
}

__kernel void
conv_transpose_u16 (__global const ushort *in, __global ushort *out, __global const short *w,
    __global const long *bias, int z_in, REQUANT_ARGS,
    int in_w, int in_h, int out_w, int out_h, int icg, int ocg, int kh, int kw,
    int sh, int sw, int dh, int dw, int pt, int pl)
{
  int x = get_global_id (0), y = get_global_id (1), oc = get_global_id (2);
  int g = oc / ocg, ol = oc % ocg;
  long acc = bias[oc];

  for (int j = 0; j < icg; j++) {
    int ic = g * icg + j;
    __global const short *wp = w + ((size_t) ic * ocg + ol) * kh * kw;

    for (int ky = 0; ky < kh; ky++) {
      int ny = y + pt - ky * dh;
      if (ny < 0 || ny % sh || ny / sh >= in_h)
        continue;
      for (int kx = 0; kx < kw; kx++) {
        int nx = x + pl - kx * dw;
        if (nx < 0 || nx % sw || nx / sw >= in_w)
          continue;
        acc += wp[ky * kw + kx] * (in[((size_t) ic * in_h + ny / sh) * in_w + nx / sw] - z_in);
      }
    }
  }
  out[OUT_INDEX (oc, y, x, out_h, out_w)] =
      requant_out16 (acc, oc, rq_pos, rq_neg, z_out, lo, hi);
}

/* Add/sub/mul in 2^-20 units of the output scale, as binary_u8 with the
 * wide requantisation: a product of two differences reaches 2^32. */
__kernel void
binary_u16 (__global const ushort *a, __global const ushort *b, __global ushort *out,
    __global const int2 *rq_in, __global const long *offset, int a_cs, int b_cs,
    int two, int mul, int z_a, int z_b, int z_out, int lo, int hi, int out_c, int out_w,
    int out_h)
{
  int x = get_global_id (0), y = get_global_id (1), c = get_global_id (2);
  size_t p = (size_t) y * out_w + x;
  long da = a[(size_t) c * a_cs + p] - z_a, t;

  if (mul)
    t = requant_wide (da * (b[(size_t) c * b_cs + p] - z_b), rq_in[c]);
  else
    t = requant_wide (da, rq_in[c]) +
        (two ? requant_wide (b[(size_t) c * b_cs + p] - z_b, rq_in[out_c + c]) : 0);
  t += offset[c];
  out[OUT_INDEX (c, y, x, out_h, out_w)] = clamp_u16 (z_out + rshift_round (t, 20), lo, hi);
}

/* Concat input k and standalone activations, as rescale_u8. */
__kernel void
rescale_u16 (__global const ushort *in, __global ushort *out, __global const int2 *rq,
    int rq_base, int z_in, int z_out, int lo, int hi, int out_c, int c_off, int w, int h)
{
  int x = get_global_id (0), y = get_global_id (1), c = get_global_id (2);
  int oc = c_off + c;
  long d = in[OUT_INDEX (c, y, x, h, w)] - z_in;

  out[OUT_INDEX (oc, y, x, h, w)] =
      clamp_u16 (z_out + requant_wide (d, rq[rq_base + (d >= 0 ? oc : out_c + oc)]), lo, hi);
}

__kernel void
move_u16 (__global const ushort *in, __global ushort *out, int op, int p0, int p1,
    int in_c, int in_h, int in_w, int out_c, int out_h, int out_w)
{
  int x = get_global_id (0), y = get_global_id (1), c = get_global_id (2);

  out[OUT_INDEX (c, y, x, out_h, out_w)] =
      in[move_src (op, p0, p1, c, y, x, in_c, in_h, in_w, out_c)];
}

/* The ends: a frame byte b enters as 64·b (the pixel grid on 16 bits), a
 * level q leaves as min(255, round(q/64)), ties up (cfqp_int16_to_byte).
 * n elements, one work-item each along dimension 0. */
#define INT16_STEPS_PER_U8 64

__kernel void
widen_u8 (__global const uchar *in, __global ushort *out, int n)
{
  int i = get_global_id (0);

  if (i < n)
    out[i] = (ushort) (in[i] * INT16_STEPS_PER_U8);
}

__kernel void
narrow_u16 (__global const ushort *in, __global uchar *out, int n)
{
  int i = get_global_id (0);

  if (i < n)
    out[i] = (uchar) min ((in[i] + INT16_STEPS_PER_U8 / 2) / INT16_STEPS_PER_U8, 255);
}
