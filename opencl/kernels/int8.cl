/* INT8 kernels: bit-exact with the ref kernels (engine/cfqp-int8-ref.c),
 * which define the arithmetic; see engine/cfqp-int8.h. */

/* x / 2^shift rounded half away from zero (cfqp_rshift_round). */
inline long
rshift_round (long x, int shift)
{
  long rnd = 1L << (shift - 1);   /* "half" is a type in OpenCL C */
  return x >= 0 ? (x + rnd) >> shift : -((-x + rnd) >> shift);
}

/* rq: (m, shift); the product is taken in 64 bits. */
inline long
requant (long acc, int2 rq)
{
  return rshift_round (acc * rq.x, rq.y);
}

inline uchar
clamp_u8 (long v, int lo, int hi)
{
  long t = v < lo ? lo : v;   /* ONNX Clip's order, as cfqp_clamp_u8 */
  return (uchar) (t > hi ? hi : t);
}

#define REQUANT_ARGS __global const int2 *rq_pos, __global const int2 *rq_neg, \
    int z_out, int lo, int hi

inline uchar
requant_out (long acc, int oc, __global const int2 *rq_pos, __global const int2 *rq_neg,
    int z_out, int lo, int hi)
{
  return clamp_u8 (z_out + requant (acc, acc >= 0 ? rq_pos[oc] : rq_neg[oc]), lo, hi);
}

/* acc = bias + Σ w·(q − z_in).  One input channel's taps (≤ 31×31 of
 * 127·255) fit an int, the sum over channels is kept in 64 bits like ref.
 * OCB output channels per work-item, laid out as in conv_f32. */
__kernel void
conv_u8 (__global const uchar *in, __global uchar *out, __global const char *w,
    __global const int *bias, __global const uchar *pad, int z_in, REQUANT_ARGS,
    int in_w, int in_h, int out_w, int out_h, int icg, int ocg, int kh, int kw,
    int sh, int sw, int dh, int dw, int pt, int pl, int nb)
{
  int x = get_global_id (0), y = get_global_id (1), z = get_global_id (2);
  int g = z / nb, oc0 = g * ocg + z % nb * OCB, n = min (OCB, g * ocg + ocg - oc0);
  int ic0 = g * icg, kk = kh * kw;
  size_t wstride = (size_t) icg * kk;
  __global const char *w0 = w + (size_t) oc0 * wstride;
  __global const char *w1 = w0 + min (1, n - 1) * wstride;
  __global const char *w2 = w0 + min (2, n - 1) * wstride;
  __global const char *w3 = w0 + min (3, n - 1) * wstride;
  long a0 = 0, a1 = 0, a2 = 0, a3 = 0;

  for (int j = 0; j < icg; j++) {
    __global const uchar *plane = in + (size_t) (ic0 + j) * in_h * in_w;
    int pv = pad[ic0 + j] - z_in, p0 = 0, p1 = 0, p2 = 0, p3 = 0;

    for (int ky = 0; ky < kh; ky++) {
      int iy = y * sh + ky * dh - pt;
      bool row_in = iy >= 0 && iy < in_h;

      for (int kx = 0; kx < kw; kx++, w0++, w1++, w2++, w3++) {
        int ix = x * sw + kx * dw - pl;
        int v = row_in && ix >= 0 && ix < in_w ? plane[(size_t) iy * in_w + ix] - z_in : pv;
        p0 += *w0 * v;
        p1 += *w1 * v;
        p2 += *w2 * v;
        p3 += *w3 * v;
      }
    }
    a0 += p0;
    a1 += p1;
    a2 += p2;
    a3 += p3;
  }
  {
    long a[OCB] = { a0, a1, a2, a3 };
    for (int k = 0; k < n; k++)
      out[OUT_INDEX (oc0 + k, y, x, out_h, out_w)] =
          requant_out (bias[oc0 + k] + a[k], oc0 + k, rq_pos, rq_neg, z_out, lo, hi);
  }
}

__kernel void
conv_transpose_u8 (__global const uchar *in, __global uchar *out, __global const char *w,
    __global const int *bias, int z_in, REQUANT_ARGS,
    int in_w, int in_h, int out_w, int out_h, int icg, int ocg, int kh, int kw,
    int sh, int sw, int dh, int dw, int pt, int pl)
{
  int x = get_global_id (0), y = get_global_id (1), oc = get_global_id (2);
  int g = oc / ocg, ol = oc % ocg;
  long acc = bias[oc];

  for (int j = 0; j < icg; j++) {
    int ic = g * icg + j, part = 0;
    __global const char *wp = w + ((size_t) ic * ocg + ol) * kh * kw;

    for (int ky = 0; ky < kh; ky++) {
      int ny = y + pt - ky * dh;
      if (ny < 0 || ny % sh || ny / sh >= in_h)
        continue;
      for (int kx = 0; kx < kw; kx++) {
        int nx = x + pl - kx * dw;
        if (nx < 0 || nx % sw || nx / sw >= in_w)
          continue;
        part += wp[ky * kw + kx] * (in[((size_t) ic * in_h + ny / sh) * in_w + nx / sw] - z_in);
      }
    }
    acc += part;
  }
  out[OUT_INDEX (oc, y, x, out_h, out_w)] = requant_out (acc, oc, rq_pos, rq_neg, z_out, lo, hi);
}

/* Add/sub/mul in 2^-20 units of the output scale (ref_binary); b is read
 * only when two is set.  a_cs, b_cs: channel strides, 0 to broadcast. */
__kernel void
binary_u8 (__global const uchar *a, __global const uchar *b, __global uchar *out,
    __global const int2 *rq_in, __global const long *offset, int a_cs, int b_cs,
    int two, int mul, int z_a, int z_b, int z_out, int lo, int hi, int out_c, int out_w,
    int out_h)
{
  int x = get_global_id (0), y = get_global_id (1), c = get_global_id (2);
  size_t p = (size_t) y * out_w + x;
  long da = a[(size_t) c * a_cs + p] - z_a, t;

  if (mul)
    t = requant (da * (b[(size_t) c * b_cs + p] - z_b), rq_in[c]);
  else
    t = requant (da, rq_in[c]) +
        (two ? requant (b[(size_t) c * b_cs + p] - z_b, rq_in[out_c + c]) : 0);
  t += offset[c];
  out[OUT_INDEX (c, y, x, out_h, out_w)] = clamp_u8 (z_out + rshift_round (t, 20), lo, hi);
}

/* Concat input k and standalone activations (ref_rescale): input k's table
 * starts at rq_base = k·2·out_c, [oc] for q ≥ z_in and [out_c + oc] below. */
__kernel void
rescale_u8 (__global const uchar *in, __global uchar *out, __global const int2 *rq,
    int rq_base, int z_in, int z_out, int lo, int hi, int out_c, int c_off, int w, int h)
{
  int x = get_global_id (0), y = get_global_id (1), c = get_global_id (2);
  int oc = c_off + c;
  long d = in[OUT_INDEX (c, y, x, h, w)] - z_in;

  out[OUT_INDEX (oc, y, x, h, w)] =
      clamp_u8 (z_out + requant (d, rq[rq_base + (d >= 0 ? oc : out_c + oc)]), lo, hi);
}

/* Data movement copies bytes: scales are shared, so nothing to requantise. */
__kernel void
move_u8 (__global const uchar *in, __global uchar *out, int op, int p0, int p1,
    int in_c, int in_h, int in_w, int out_c, int out_h, int out_w)
{
  int x = get_global_id (0), y = get_global_id (1), c = get_global_id (2);

  out[OUT_INDEX (c, y, x, out_h, out_w)] =
      in[move_src (op, p0, p1, c, y, x, in_c, in_h, in_w, out_c)];
}
