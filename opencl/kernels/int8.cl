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

/* --- the tiled conv ---------------------------------------------------------
 * The fast variants of conv_u8, chosen per node by measurement (see
 * cfqp-opencl-variants.c).  A TILE_LX × TILE_LY work-group computes a tile of
 * TILE_LX·px × TILE_LY output pixels for TILE_OC output channels of one
 * group.  Its input patch, halo included, goes to local memory once per pass
 * of ck channel quads: four input channels' bytes to a 32-bit word, so that
 * one dot product does four multiply-adds and one local load feeds TILE_OC
 * of them.
 * A work-item computes px pixels TILE_LX apart (neighbouring work-items
 * write neighbouring bytes) × TILE_OC channels.  The host repacks the
 * weights as [group·block][quad][ky][kx][TILE_OC] char4 (missing channels
 * and a short block's missing outputs 0): one 32-byte load per tap brings
 * the 8 channels' weights, at an address that is the same across the
 * work-group, which constant memory broadcasts.
 *
 * Taps outside the input read the pad byte, so that every tap is a u8:
 * acc = bias − z_in·Σw + Σ w·q, exact integers like ref's bias + Σ w·(q − z_in).
 * The host takes these kernels only where Σ |w·q| fits an int (taps·127·255). */
#define TILE_LX 16
#define TILE_LY 8
#define TILE_OC 8
#define TILE_PX_MAX 4

/* acc + four s8·u8 products, each four packed in a uint.  The host
 * builds the program with the first of these its device's compiler
 * accepts: CFQP_DOT where cl_khr_integer_dot_product exists
 * (dot_4x8packed_su_int); CFQP_NV_DP4A on NVIDIA devices of compute
 * capability 6.1 and later, whose OpenCL lacks that extension but takes
 * inline PTX (dp4a: d = c + Σ a·b, a signed, b unsigned bytes); mad24
 * everywhere else. */
#if defined(CFQP_DOT) && defined(cl_khr_integer_dot_product)
#define DOT4_ACC(acc, wu, vu) ((acc) + dot_4x8packed_su_int ((wu), (vu)))
#elif defined(CFQP_NV_DP4A)
static inline int
dot4_acc_dp4a (int acc, uint wu, uint vu)
{
  int d;

  __asm__ ("dp4a.s32.u32 %0, %1, %2, %3;" : "=r" (d) : "r" (wu), "r" (vu), "r" (acc));
  return d;
}
#define DOT4_ACC(acc, wu, vu) dot4_acc_dp4a ((acc), (wu), (vu))
#else
static inline int
dot4_acc_mad24 (int acc, uint wu, uint vu)
{
  char4 a = as_char4 (wu);
  uchar4 v = as_uchar4 (vu);

  return mad24 ((int) a.x, (int) v.x, mad24 ((int) a.y, (int) v.y,
      mad24 ((int) a.z, (int) v.z, mad24 ((int) a.w, (int) v.w, acc))));
}
#define DOT4_ACC(acc, wu, vu) dot4_acc_mad24 ((acc), (wu), (vu))
#endif

#define TILE_ARGS __global const uchar *in, __global uchar *out, __constant uint8 *w, \
    __global const int *bias, __global const int *wsum, __global const uchar *pad, int z_in, \
    REQUANT_ARGS, int in_w, int in_h, int out_w, int out_h, int icg, int ocg, int kh, int kw, \
    int sh, int sw, int dh, int dw, int pt, int pl, int nb, int nq, int ck, int pw, int ph, \
    __local uint *patch
#define TILE_PASS in, out, w, bias, wsum, pad, z_in, rq_pos, rq_neg, z_out, lo, hi, in_w, \
    in_h, out_w, out_h, icg, ocg, kh, kw, sh, sw, dh, dw, pt, pl, nb, nq, ck, pw, ph, patch

/* px: pixels per work-item, a constant at each call so that the compiler
 * unrolls the loops over acc and keeps it in registers (always_inline).
 * static: under C99's inline rules a plain inline function has no
 * definition of its own, so a compiler that declines to inline it (clang
 * for nvptx does, for a body this size) would leave the program unlinked. */
static inline __attribute__ ((always_inline)) void
conv_tile (TILE_ARGS, const int px)
{
  int lx = get_local_id (0), ly = get_local_id (1);
  int z = get_group_id (2), g = z / nb, oc0 = g * ocg + z % nb * TILE_OC;
  int n = min (TILE_OC, g * ocg + ocg - oc0);
  int ox0 = get_group_id (0) * (TILE_LX * px), oy0 = get_group_id (1) * TILE_LY;
  int ix0 = ox0 * sw - pl, iy0 = oy0 * sh - pt, ic0 = g * icg;
  int kk = kh * kw, plane = ph * pw;
  __constant uint8 *wz = w + (size_t) z * nq * kk;
  int acc[TILE_OC][TILE_PX_MAX];

  /* every loop over o and p runs to a constant and is unrolled, p < px
   * folding once px is known: an index the compiler cannot resolve would
   * put acc (and v) in memory */
#pragma unroll
  for (int o = 0; o < TILE_OC; o++)
#pragma unroll
    for (int p = 0; p < TILE_PX_MAX; p++)
      acc[o][p] = 0;

  for (int q0 = 0; q0 < nq; q0 += ck) {
    int nc = min (ck, nq - q0);

    /* the previous pass has read its patch */
    barrier (CLK_LOCAL_MEM_FENCE);
    /* the work-group's own 2-D layout over the patch: no divisions, and
     * neighbouring work-items read neighbouring bytes */
    for (int c = 0; c < nc; c++) {
      int j = (q0 + c) * 4;
      uchar4 padv = (uchar4) (pad[ic0 + j], j + 1 < icg ? pad[ic0 + j + 1] : 0,
          j + 2 < icg ? pad[ic0 + j + 2] : 0, j + 3 < icg ? pad[ic0 + j + 3] : 0);
      size_t step = (size_t) in_h * in_w;
      __global const uchar *pj = in + (size_t) (ic0 + j) * step;

      for (int py = ly; py < ph; py += TILE_LY) {
        int iy = iy0 + py;
        bool row_in = iy >= 0 && iy < in_h;

        for (int px_ = lx; px_ < pw; px_ += TILE_LX) {
          int ix = ix0 + px_;
          uchar4 v = padv;

          if (row_in && ix >= 0 && ix < in_w) {
            size_t at = (size_t) iy * in_w + ix;
            v.x = pj[at];
            v.y = j + 1 < icg ? pj[at + step] : 0;
            v.z = j + 2 < icg ? pj[at + 2 * step] : 0;
            v.w = j + 3 < icg ? pj[at + 3 * step] : 0;
          }
          patch[(c * ph + py) * pw + px_] = as_uint (v);
        }
      }
    }
    barrier (CLK_LOCAL_MEM_FENCE);

    for (int c = 0; c < nc; c++) {
      __local const uint *pc = patch + c * plane + ly * sh * pw + lx * sw;
      __constant uint8 *wc = wz + (size_t) (q0 + c) * kk;

      for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++) {
          __local const uint *pk = pc + ky * dh * pw + kx * dw;
          uint8 w8 = wc[ky * kw + kx];
          uint wv[TILE_OC] = { w8.s0, w8.s1, w8.s2, w8.s3, w8.s4, w8.s5, w8.s6, w8.s7 };
          uint v[TILE_PX_MAX];   /* four channels' bytes */

#pragma unroll
          for (int p = 0; p < TILE_PX_MAX; p++)
            if (p < px)
              v[p] = pk[p * TILE_LX * sw];
#pragma unroll
          for (int o = 0; o < TILE_OC; o++)
#pragma unroll
            for (int p = 0; p < TILE_PX_MAX; p++)
              if (p < px)
                acc[o][p] = DOT4_ACC (acc[o][p], wv[o], v[p]);
        }
    }
  }

  {
    int oy = oy0 + ly;

#pragma unroll
    for (int p = 0; p < TILE_PX_MAX; p++) {
      int ox = ox0 + lx + p * TILE_LX;
#pragma unroll
      for (int o = 0; o < TILE_OC; o++) {
        int oc = oc0 + o;
        if (p < px && o < n && ox < out_w && oy < out_h) {
          long a = (long) bias[oc] - (long) z_in * wsum[oc] + acc[o][p];
          out[OUT_INDEX (oc, oy, ox, out_h, out_w)] =
              requant_out (a, oc, rq_pos, rq_neg, z_out, lo, hi);
        }
      }
    }
  }
}

/* Two pixels per work-item (a 32×8 tile) and four (64×8): more pixels
 * reuse each weight load more, fewer keep more work-groups for small
 * frames and registers for occupancy; which wins is the device's call. */
__kernel __attribute__ ((reqd_work_group_size (TILE_LX, TILE_LY, 1))) void
conv_u8_tile2 (TILE_ARGS)
{
  conv_tile (TILE_PASS, 2);
}

__kernel __attribute__ ((reqd_work_group_size (TILE_LX, TILE_LY, 1))) void
conv_u8_tile4 (TILE_ARGS)
{
  conv_tile (TILE_PASS, 4);
}
