/* The cpu set's kernels for 16-bit programs (INT16): a conv that the
 * compiler vectorises, a concat that copies where it can, ref's kernels
 * for everything else.
 *
 * ref sums Σ w·(x − z) in int64 one tap at a time, testing every pixel
 * against the image's edges.  Here the taps accumulate in int32 over whole
 * rows, the image's interior apart from its edges, with the activation
 * split into its bytes (x = 256·h + l): |w·h| ≤ 32767·255 < 2^23, so 256
 * taps cannot reach 2^31, and every 256 taps at most the byte sums are
 * folded into int64 as 256·Σw·h + Σw·l (a conv with more taps per input
 * channel goes to ref).  The zero point comes out once per output channel:
 * Σ w·(x − z) = Σ w·x' − z·Σw, x' being the pad value outside the image.
 * The same int64 sums and requantisation as ref, so ref's values
 * (tests/engine/test-int16.c).  One tap's row is the kernel config's
 * (one copy per ISA level). */
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu-private.h"
#include "cfqp-int8-cpu-scratch.h"

#include <string.h>

/* taps whose byte products stay below 2^31 in int32 (256·32767·255 <
 * 2^31): folded into int64 at most this many at a time; a conv with more
 * taps per channel goes to ref */
#define MAX_TAPS_PER_CHANNEL 256

static inline const guint16 *
row_of (const CfqpU16View *v, guint c, guint y)
{
  return v->data + c * v->plane_stride + y * v->row_stride;
}

/* Output columns [*lo, *hi) whose input column ox·s + off lies in [0, w). */
static void
interior (gint off, guint s, guint w, guint out_w, guint *lo, guint *hi)
{
  gint a = off >= 0 ? 0 : (-off + (gint) s - 1) / (gint) s;
  gint b = (gint) w - off <= 0 ? 0 : ((gint) w - off + (gint) s - 1) / (gint) s;

  *lo = (guint) MIN (a, (gint) out_w);
  *hi = (guint) CLAMP (b, (gint) *lo, (gint) out_w);
}

/* One input channel's byte sums: ah += w·(x >> 8), al += w·(x & 255) over
 * the output row, x the input at column ox·s + off or the pad value. */
static void
accumulate_tap (CfqpInt16TapsFunc taps, gint32 *ah, gint32 *al, const guint16 *irow, gint32 wv,
    gint off, guint s, guint in_w, guint out_w, guint16 pad)
{
  gint32 ph = wv * (pad >> 8), pl = wv * (pad & 0xff);
  guint lo = out_w, hi = out_w;      /* no input row: every column pads */

  if (irow)
    interior (off, s, in_w, out_w, &lo, &hi);
  for (guint ox = 0; ox < lo; ox++) {
    ah[ox] += ph;
    al[ox] += pl;
  }
  if (s == 1 && hi > lo) {
    taps (ah + lo, al + lo, irow + off + lo, hi - lo, wv);
  } else {
    for (guint ox = lo; ox < hi; ox++) {
      guint16 v = irow[(gint) (ox * s) + off];
      ah[ox] += wv * (v >> 8);
      al[ox] += wv * (v & 0xff);
    }
  }
  for (guint ox = MAX (hi, lo); ox < out_w; ox++) {
    ah[ox] += ph;
    al[ox] += pl;
  }
}

/* acc += 256·ah + al, and the byte sums start again */
static void
fold (gint64 *acc, gint32 *ah, gint32 *al, guint n)
{
  for (guint ox = 0; ox < n; ox++)
    acc[ox] += (gint64) ah[ox] * 256 + al[ox];
  memset (ah, 0, n * sizeof (gint32));
  memset (al, 0, n * sizeof (gint32));
}

/* The row of one tap, for the compiler's vectoriser: one copy per ISA
 * with target attributes, picked by the kernel config. */
static inline __attribute__ ((always_inline)) void
taps_row (gint32 *ah, gint32 *al, const guint16 *x, guint n, gint32 w)
{
  for (guint i = 0; i < n; i++) {
    ah[i] += w * (x[i] >> 8);
    al[i] += w * (x[i] & 0xff);
  }
}

#define DEFINE_TAPS(isa, attr) \
  attr void \
  cfqp_int16_taps_u16__##isa (gint32 *ah, gint32 *al, const guint16 *x, guint n, gint32 w) \
  { \
    taps_row (ah, al, x, n, w); \
  }

DEFINE_TAPS (scalar, )
#if CFQP_GEMM_X86
DEFINE_TAPS (sse41, __attribute__ ((target ("sse4.1"))))
DEFINE_TAPS (avx2, __attribute__ ((target ("avx2,fma"))))
DEFINE_TAPS (avx512, __attribute__ ((target ("avx512f,avx512bw,avx512vl,avx512dq"))))
#endif

void
cfqp_int16_cpu_conv (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU16View *inputs,
    const CfqpU16View *output, guint y0, guint y1)
{
  const CfqpConvParams *cp = &node->p.conv;
  const CfqpU16View *in = &inputs[0];
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  guint kh = cp->kernel_h, kw = cp->kernel_w, w_out = output->w, pt, pl, pb, pr;
  CfqpInt16TapsFunc taps = cfqp_int8_cpu_config ()->int16_taps;
  gint64 *acc;
  gint32 *ah, *al;

  if (node->op != CFQP_OP_CONV || kh * kw > MAX_TAPS_PER_CHANNEL) {
    cfqp_int16_cpu_ref_op (node, q, inputs, output, y0, y1);
    return;
  }
  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  acc = cfqp_int8_cpu_scratch ((gsize) w_out * (sizeof (gint64) + 2 * sizeof (gint32)));
  ah = (gint32 *) (acc + w_out);
  al = ah + w_out;
  for (guint oc = 0; oc < output->c; oc++) {
    guint ic0 = oc / ocg * icg;
    const gint16 *w = q->weight16 + (gsize) oc * icg * kh * kw;
    gint64 wsum = 0;

    for (gsize t = 0; t < (gsize) icg * kh * kw; t++)
      wsum += w[t];
    for (guint oy = y0; oy < y1; oy++) {
      guint16 *o = output->data + oc * output->plane_stride + oy * output->row_stride;

      for (guint ox = 0; ox < w_out; ox++)
        acc[ox] = q->bias64[oc] - (gint64) q->z_in[0] * wsum;
      /* taps summed in ah, al since they were last folded into acc */
      guint pending = 0;

      memset (ah, 0, w_out * sizeof (gint32));
      memset (al, 0, w_out * sizeof (gint32));
      for (guint j = 0; j < icg; j++) {
        guint ic = ic0 + j;

        if (pending + kh * kw > MAX_TAPS_PER_CHANNEL) {
          fold (acc, ah, al, w_out);
          pending = 0;
        }
        pending += kh * kw;
        for (guint ky = 0; ky < kh; ky++) {
          gint iy = (gint) (oy * cp->stride_h + ky * cp->dilation_h) - (gint) pt;
          const guint16 *irow = iy >= 0 && iy < (gint) in->h ? row_of (in, ic, iy) : NULL;
          for (guint kx = 0; kx < kw; kx++)
            accumulate_tap (taps, ah, al, irow, w[((gsize) j * kh + ky) * kw + kx],
                (gint) (kx * cp->dilation_w) - (gint) pl, cp->stride_w, in->w, w_out,
                q->pad16[ic]);
        }
      }
      fold (acc, ah, al, w_out);
      for (guint ox = 0; ox < w_out; ox++) {
        CfqpRequant rq = acc[ox] >= 0 ? q->rq_pos[oc] : q->rq_neg[oc];
        o[ox] = cfqp_clamp_u16 (q->z_out + cfqp_requant_wide (acc[ox], rq), q->lo, q->hi);
      }
    }
  }
}

/* Whether a concat only copies: every input on the output's grid (the
 * program unifies the inputs that feed only it), nothing clamped. */
static gboolean
concat_copies (const CfqpNode *node, const CfqpInt8Node *q)
{
  guint c_n = node->out_channels;
  CfqpRequant one;

  cfqp_requant_from_real (1.0, &one);
  if (q->lo != 0 || q->hi != 65535)
    return FALSE;
  for (guint k = 0; k < node->n_inputs; k++) {
    if (q->z_inputs[k] != q->z_out)
      return FALSE;
    for (guint c = 0; c < 2 * c_n; c++) {
      CfqpRequant rq = q->rq_in[(gsize) k * 2 * c_n + c];
      if (rq.m != one.m || rq.shift != one.shift)
        return FALSE;
    }
  }
  return TRUE;
}

void
cfqp_int16_cpu_concat (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU16View *inputs,
    const CfqpU16View *output, guint y0, guint y1)
{
  if (concat_copies (node, q))
    cfqp_int16_ref_move (node, q, inputs, output, y0, y1);
  else
    cfqp_int16_cpu_ref_op (node, q, inputs, output, y0, y1);
}

void
cfqp_int16_cpu_ref_op (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU16View *inputs,
    const CfqpU16View *output, guint y0, guint y1)
{
  cfqp_int8_ref_backend.ops16[node->op] (node, q, inputs, output, y0, y1);
}
