/* Exact resampling of 8-bit planes: see cfqp-resample.h for the definition.
 *
 * The fast form keeps the same integer arithmetic in an order the compiler
 * vectorises: the vertical pass runs along whole rows (u8 × s16 → s32,
 * contiguous for planar sources: GCC vectorises it), the horizontal pass is
 * a dot product per output pixel over taps rounded up to a multiple of 8
 * with zero weights: SSE2 pmaddwd, four outputs at a time, where the
 * compiler targets SSE2 (every x86-64), else loops of constant trip count
 * for the compiler.  Integer sums do not depend on their order, so the
 * bytes are those of cfqp_resample_rows_scalar.
 */
#include "cfqp-resample.h"

#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define ONE     (1 << CFQP_RESAMPLE_WEIGHT_BITS)
#define V_SHIFT (CFQP_RESAMPLE_WEIGHT_BITS - CFQP_RESAMPLE_MID_BITS)
#define H_SHIFT (CFQP_RESAMPLE_WEIGHT_BITS + CFQP_RESAMPLE_MID_BITS)
#define ALIGN_ELEMS(n, size) (((gsize) (n) * (size) + 63) / 64 * 64)

/* The weights must not depend on whether the compiler fuses a·b + c into
 * one rounding (FMA): contraction off where the compilers allow it. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#define NO_CONTRACT
#elif defined(__GNUC__)
#define NO_CONTRACT __attribute__ ((optimize ("fp-contract=off")))
#else
#define NO_CONTRACT
#endif

/* Keys' cubic, a = −0.5 (Catmull-Rom). */
static NO_CONTRACT double
catmull_rom (double x)
{
  x = fabs (x);
  if (x < 1.0)
    return (1.5 * x - 2.5) * x * x + 1.0;
  if (x < 2.0)
    return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0;
  return 0.0;
}

static NO_CONTRACT void
axis_init (CfqpResampleAxis *ax, guint n_in, guint n_out)
{
  double scale = (double) n_in / n_out, fs = MAX (scale, 1.0), support = 2.0 * fs;
  guint window = (guint) ceil (2.0 * support) + 2;
  g_autofree double *f = g_new (double, window);
  g_autofree gint32 *q = g_new (gint32, window);
  g_autofree gint16 *wq = g_new0 (gint16, (gsize) n_out * window);

  ax->n_in = n_in;
  ax->n_out = n_out;
  ax->start = g_new (guint, n_out);
  ax->count = g_new (guint, n_out);
  ax->taps = 1;
  for (guint i = 0; i < n_out; i++) {
    double center = (i + 0.5) * scale, total = 0.0;
    gint xmin = (gint) (center - support + 0.5), xmax = (gint) (center + support + 0.5);
    gint32 sum = 0;
    guint n, first = 0, last, big = 0;

    xmin = MAX (xmin, 0);
    xmax = MIN (xmax, (gint) n_in);
    n = xmax > xmin ? (guint) (xmax - xmin) : 0;
    n = MIN (n, window);
    for (guint k = 0; k < n; k++) {
      f[k] = catmull_rom ((k + xmin - center + 0.5) / fs);
      total += f[k];
    }
    if (n == 0 || total == 0.0) {
      /* cannot happen for this kernel (the centre tap is in the window);
       * the nearest pixel keeps the table well-formed anyway */
      ax->start[i] = MIN ((guint) center, n_in - 1);
      ax->count[i] = 1;
      wq[(gsize) i * window] = ONE;
      continue;
    }
    for (guint k = 0; k < n; k++) {
      q[k] = (gint32) floor (f[k] / total * ONE + 0.5);
      sum += q[k];
      if (q[k] > q[big])
        big = k;
    }
    q[big] += ONE - sum;
    while (first < n && q[first] == 0)
      first++;
    last = n;
    while (last > first && q[last - 1] == 0)
      last--;
    ax->start[i] = xmin + first;
    ax->count[i] = last - first;
    for (guint k = first; k < last; k++)
      wq[(gsize) i * window + (k - first)] = (gint16) q[k];
    ax->taps = MAX (ax->taps, last - first);
  }
  ax->taps = (ax->taps + 7) / 8 * 8;
  ax->weights = g_new0 (gint16, (gsize) n_out * ax->taps);
  for (guint i = 0; i < n_out; i++)
    memcpy (ax->weights + (gsize) i * ax->taps, wq + (gsize) i * window,
        ax->count[i] * sizeof (gint16));
}

static void
axis_clear (CfqpResampleAxis *ax)
{
  g_free (ax->start);
  g_free (ax->count);
  g_free (ax->weights);
}

CfqpResampler *
cfqp_resampler_new (guint in_width, guint in_height, guint out_width, guint out_height)
{
  CfqpResampler *rs;

  g_return_val_if_fail (in_width > 0 && in_height > 0 && out_width > 0 && out_height > 0,
      NULL);
  rs = g_new0 (CfqpResampler, 1);
  axis_init (&rs->h, in_width, out_width);
  axis_init (&rs->v, in_height, out_height);
  return rs;
}

void
cfqp_resampler_free (CfqpResampler *rs)
{
  if (!rs)
    return;
  axis_clear (&rs->h);
  axis_clear (&rs->v);
  g_free (rs);
}

gsize
cfqp_resampler_scratch_size (const CfqpResampler *rs)
{
  /* s32 column sums, then the s16 row with taps of zeros past its end */
  return ALIGN_ELEMS (rs->h.n_in, sizeof (gint32)) +
      ALIGN_ELEMS (rs->h.n_in + rs->h.taps, sizeof (gint16));
}

/* ---- vertical pass: one intermediate row ---- */

static inline void
vpass_planar (const guint8 *restrict src, gsize stride, const gint16 *w, guint n,
    guint width, gint32 *restrict acc, gint16 *restrict mid)
{
  const guint8 *restrict r = src;
  gint32 wk = w[0];

  for (guint x = 0; x < width; x++)
    acc[x] = wk * r[x];
  for (guint k = 1; k < n; k++) {
    r = src + k * stride;
    wk = w[k];
    for (guint x = 0; x < width; x++)
      acc[x] += wk * r[x];
  }
  for (guint x = 0; x < width; x++)
    mid[x] = (gint16) ((acc[x] + (1 << (V_SHIFT - 1))) >> V_SHIFT);
}

static void
vpass_strided (const guint8 *restrict src, gsize stride, guint pixel, const gint16 *w,
    guint n, guint width, gint32 *restrict acc, gint16 *restrict mid)
{
  for (guint x = 0; x < width; x++)
    acc[x] = 0;
  for (guint k = 0; k < n; k++) {
    const guint8 *r = src + k * stride;
    gint32 wk = w[k];
    for (guint x = 0; x < width; x++)
      acc[x] += wk * r[(gsize) x * pixel];
  }
  for (guint x = 0; x < width; x++)
    mid[x] = (gint16) ((acc[x] + (1 << (V_SHIFT - 1))) >> V_SHIFT);
}

/* ---- horizontal pass: one output row ---- */

static inline guint8
to_byte (gint32 acc)
{
  acc = (acc + (1 << (H_SHIFT - 1))) >> H_SHIFT;
  return (guint8) (acc < 0 ? 0 : (acc > 255 ? 255 : acc));
}

#define DEFINE_HPASS(T)                                                       \
  static void                                                                 \
  hpass_##T (const gint16 *restrict mid, const CfqpResampleAxis *ax,          \
      guint8 *restrict dst, guint pixel)                                      \
  {                                                                           \
    const gint16 *restrict weights = ax->weights;                             \
    for (guint x = 0; x < ax->n_out; x++) {                                   \
      const gint16 *restrict m = mid + ax->start[x];                          \
      const gint16 *restrict w = weights + (gsize) x * (T);                   \
      gint32 acc = 0;                                                         \
      for (guint j = 0; j < (T); j++)                                         \
        acc += (gint32) w[j] * m[j];                                          \
      dst[(gsize) x * pixel] = to_byte (acc);                                 \
    }                                                                         \
  }

#ifndef __SSE2__
DEFINE_HPASS (8)
DEFINE_HPASS (16)
#endif

static void
hpass_any (const gint16 *restrict mid, const CfqpResampleAxis *ax, guint8 *restrict dst,
    guint pixel, guint x0)
{
  for (guint x = x0; x < ax->n_out; x++) {
    const gint16 *m = mid + ax->start[x];
    const gint16 *w = ax->weights + (gsize) x * ax->taps;
    gint32 acc = 0;
    for (guint j = 0; j < ax->taps; j++)
      acc += (gint32) w[j] * m[j];
    dst[(gsize) x * pixel] = to_byte (acc);
  }
}

#ifdef __SSE2__
/* Four outputs at a time: pmaddwd over 8 taps per step (each pair of
 * products fits 32 bits: |w| ≤ 2^14·1.25, |m| ≤ 255·64·1.25), the four
 * sums transposed into one vector, rounded, shifted and saturated to bytes
 * by packs/packus, which is the clamp to 0..255. */
static inline __attribute__ ((always_inline)) void
hpass_sse2_t (const gint16 *restrict mid, const CfqpResampleAxis *ax, guint8 *restrict dst,
    guint pixel, const guint T)
{
  const guint n4 = ax->n_out / 4 * 4;
  const __m128i round = _mm_set1_epi32 (1 << (H_SHIFT - 1));

  for (guint x = 0; x < n4; x += 4) {
    __m128i a[4], t0, t1, u01, u23, sum;
    guint32 bytes;

    for (guint o = 0; o < 4; o++) {
      const gint16 *m = mid + ax->start[x + o];
      const gint16 *w = ax->weights + (gsize) (x + o) * T;
      a[o] = _mm_setzero_si128 ();
      for (guint j = 0; j < T; j += 8)
        a[o] = _mm_add_epi32 (a[o], _mm_madd_epi16 (
                _mm_loadu_si128 ((const __m128i *) (m + j)),
                _mm_loadu_si128 ((const __m128i *) (w + j))));
    }
    t0 = _mm_unpacklo_epi32 (a[0], a[1]);
    t1 = _mm_unpackhi_epi32 (a[0], a[1]);
    u01 = _mm_add_epi32 (t0, t1);
    t0 = _mm_unpacklo_epi32 (a[2], a[3]);
    t1 = _mm_unpackhi_epi32 (a[2], a[3]);
    u23 = _mm_add_epi32 (t0, t1);
    sum = _mm_add_epi32 (_mm_unpacklo_epi64 (u01, u23), _mm_unpackhi_epi64 (u01, u23));
    sum = _mm_srai_epi32 (_mm_add_epi32 (sum, round), H_SHIFT);
    sum = _mm_packs_epi32 (sum, sum);
    bytes = (guint32) _mm_cvtsi128_si32 (_mm_packus_epi16 (sum, sum));
    if (pixel == 1) {
      memcpy (dst + x, &bytes, 4);
    } else {
      guint8 *d = dst + (gsize) x * pixel;
      d[0] = bytes & 0xff;
      d[pixel] = (bytes >> 8) & 0xff;
      d[2 * pixel] = (bytes >> 16) & 0xff;
      d[3 * pixel] = bytes >> 24;
    }
  }
  hpass_any (mid, ax, dst, pixel, n4);
}

/* constant tap counts: the accumulators stay in registers */
static void
hpass_sse2 (const gint16 *restrict mid, const CfqpResampleAxis *ax, guint8 *restrict dst,
    guint pixel)
{
  switch (ax->taps) {
    case 8:
      hpass_sse2_t (mid, ax, dst, pixel, 8);
      break;
    case 16:
      hpass_sse2_t (mid, ax, dst, pixel, 16);
      break;
    default:
      hpass_sse2_t (mid, ax, dst, pixel, ax->taps);
      break;
  }
}
#endif

void
cfqp_resample_rows (const CfqpResampler *rs, const guint8 *src, gsize src_stride,
    guint src_pixel, guint8 *dst, gsize dst_stride, guint dst_pixel, guint y0, guint y1,
    gpointer scratch)
{
  const CfqpResampleAxis *h = &rs->h, *v = &rs->v;
  gint32 *acc = scratch;
  gint16 *mid = (gint16 *) ((guint8 *) scratch + ALIGN_ELEMS (h->n_in, sizeof (gint32)));

  memset (mid + h->n_in, 0, h->taps * sizeof (gint16));
  for (guint y = y0; y < MIN (y1, v->n_out); y++) {
    const guint8 *s = src + v->start[y] * src_stride;
    const gint16 *w = v->weights + (gsize) y * v->taps;
    guint8 *d = dst + y * dst_stride;

    if (src_pixel == 1)
      vpass_planar (s, src_stride, w, v->count[y], h->n_in, acc, mid);
    else
      vpass_strided (s, src_stride, src_pixel, w, v->count[y], h->n_in, acc, mid);
#ifdef __SSE2__
    hpass_sse2 (mid, h, d, dst_pixel);
#else
    switch (h->taps) {
      case 8:
        hpass_8 (mid, h, d, dst_pixel);
        break;
      case 16:
        hpass_16 (mid, h, d, dst_pixel);
        break;
      default:
        hpass_any (mid, h, d, dst_pixel, 0);
        break;
    }
#endif
  }
}

void
cfqp_resample_rows_scalar (const CfqpResampler *rs, const guint8 *src, gsize src_stride,
    guint src_pixel, guint8 *dst, gsize dst_stride, guint dst_pixel, guint y0, guint y1)
{
  const CfqpResampleAxis *h = &rs->h, *v = &rs->v;

  for (guint y = y0; y < MIN (y1, v->n_out); y++)
    for (guint x = 0; x < h->n_out; x++) {
      gint64 acc = 0;

      for (guint j = 0; j < h->count[x]; j++) {
        guint xi = h->start[x] + j;
        gint64 col = 0, m;

        for (guint k = 0; k < v->count[y]; k++)
          col += (gint64) v->weights[(gsize) y * v->taps + k] *
              src[(v->start[y] + k) * src_stride + (gsize) xi * src_pixel];
        m = (col + (1 << (V_SHIFT - 1))) >> V_SHIFT;
        acc += (gint64) h->weights[(gsize) x * h->taps + j] * m;
      }
      acc = (acc + (1 << (H_SHIFT - 1))) >> H_SHIFT;
      dst[y * dst_stride + (gsize) x * dst_pixel] = (guint8) CLAMP (acc, 0, 255);
    }
}
