/* The cpu set's kernels for 16-bit programs (INT16): a conv on int16
 * tap pairs, a concat that copies where it can, ref's kernels for
 * everything else.
 *
 * ref sums Σ w·(x − z) in int64 one tap at a time, testing every pixel
 * against the image's edges.  Here each output row first packs the input
 * rows it reads, pad values in place, two input channels per int32 lane
 * and one row per byte of the activation (x = 256·h + l); then the
 * micro-kernel of the kernel config (cfqp-int16-cpu-gemm.c) sums 4 output
 * channels × a block of pixels over all taps in registers, in int32 on
 * the bytes, folded into int64 every CFQP_INT16_FOLD_PAIRS tap pairs.
 * The taps in pairs and the zero point come from the program's pack
 * (cfqp-int16-cpu-pack.c), once: Σ w·(x − z) = Σ w·x' − z·Σw, x' being
 * the pad value outside the image.  Strides and dilations go through the
 * packing: the row of phase φ holds the input columns j·s + φ − pl, so
 * tap kx reads phase kx·d mod s from lane ox + kx·d div s.  The same
 * int64 sums and requantisation as ref, so ref's values
 * (tests/engine/test-int16.c). */
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu-private.h"
#include "cfqp-int8-cpu-scratch.h"

#include <string.h>

static inline const guint16 *
row_of (const CfqpU16View *v, guint c, guint y)
{
  return v->data + c * v->plane_stride + y * v->row_stride;
}

static inline guint
round_up (guint v, guint m)
{
  return (v + m - 1) / m * m;
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

static inline gint32
high_bytes (guint16 a, guint16 b)
{
  return cfqp_int16_pair (a >> 8, b >> 8);
}

static inline gint32
low_bytes (guint16 a, guint16 b)
{
  return cfqp_int16_pair (a & 0xff, b & 0xff);
}

/* Lanes of a packed row from contiguous input; restrict lets the
 * vectoriser take it (a and b may be the same row: only writes must not
 * alias). */
static void
pack_contiguous (const guint16 *a, const guint16 *b, guint n, gint32 *restrict xh,
    gint32 *restrict xl)
{
  for (guint j = 0; j < n; j++) {
    xh[j] = high_bytes (a[j], b[j]);
    xl[j] = low_bytes (a[j], b[j]);
  }
}

/* One packed row: lane j holds the bytes of channels a and b at input
 * column j·s + first, or their pad values pa, pb outside the image (ra and
 * rb NULL: the row is outside). */
static void
pack_pair_row (const guint16 *ra, const guint16 *rb, guint16 pa, guint16 pb, gint first,
    guint s, guint in_w, guint width, gint32 *xh, gint32 *xl)
{
  gint32 ph = high_bytes (pa, pb), pl = low_bytes (pa, pb);
  guint lo = width, hi = width;      /* no input row: every lane pads */

  if (ra)
    interior (first, s, in_w, width, &lo, &hi);
  for (guint j = 0; j < lo; j++) {
    xh[j] = ph;
    xl[j] = pl;
  }
  if (s == 1 && hi > lo) {
    gint at = first + (gint) lo;

    pack_contiguous (ra + at, rb + at, hi - lo, xh + lo, xl + lo);
  } else {
    for (guint j = lo; j < hi; j++) {
      gint col = (gint) (j * s) + first;

      xh[j] = high_bytes (ra[col], rb[col]);
      xl[j] = low_bytes (ra[col], rb[col]);
    }
  }
  for (guint j = MAX (hi, lo); j < width; j++) {
    xh[j] = ph;
    xl[j] = pl;
  }
}

/* Scratch beyond this per call (packed rows: only a conv far wider than
 * any SR net's, at the engine's limits a hostile model's) takes ref's
 * kernel, which needs none. */
#define MAX_SCRATCH ((gsize) 64 << 20)

/* bytes rounded up to a cache line */
static inline gsize
line (gsize bytes)
{
  return (bytes + 63) / 64 * 64;
}

void
cfqp_int16_cpu_conv (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU16View *inputs,
    const CfqpU16View *output, guint y0, guint y1)
{
  const CfqpInt8CpuConfig *cfg = cfqp_int8_cpu_config ();
  const CfqpInt16CpuConv *pc = q->packed;
  const CfqpConvParams *cp = &node->p.conv;
  const CfqpU16View *in = &inputs[0];
  const guint oc_n = CFQP_INT16_GEMM_OC, px_n = cfg->int16_pixels;
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  guint kh = cp->kernel_h, kw = cp->kernel_w, s = cp->stride_w, d = cp->dilation_w;
  guint w_out = output->w, n_px = round_up (w_out, px_n);
  guint n_pairs = (icg + 1) / 2, width = n_px + (kw - 1) * d / s;
  gsize n_rows = (gsize) n_pairs * kh * s, at = 0, scratch;
  guint pt, pl, pb, pr;
  guint8 *mem;
  gint32 *xh, *xl;
  gint64 *acc;
  gsize *off;

  /* no pack: its taps were too large, or a 16-bit program set by hand */
  if (!pc || node->op != CFQP_OP_CONV) {
    cfqp_int16_cpu_ref_op (node, q, inputs, output, y0, y1);
    return;
  }
  scratch = 2 * line (n_rows * width * sizeof (gint32)) +
      line ((gsize) oc_n * n_px * sizeof (gint64)) + line (pc->n_taps * sizeof (gsize));
  if (scratch > MAX_SCRATCH) {
    cfqp_int16_cpu_ref_op (node, q, inputs, output, y0, y1);
    return;
  }
  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  mem = cfqp_int8_cpu_scratch (scratch);
  xh = (gint32 *) (mem + at);
  at += line (n_rows * width * sizeof (gint32));
  xl = (gint32 *) (mem + at);
  at += line (n_rows * width * sizeof (gint32));
  acc = (gint64 *) (mem + at);
  at += line ((gsize) oc_n * n_px * sizeof (gint64));
  off = (gsize *) (mem + at);

  /* tap t = (pair, ky, kx) reads its phase's packed row from lane kx·d / s */
  for (guint p = 0, t = 0; p < n_pairs; p++)
    for (guint ky = 0; ky < kh; ky++)
      for (guint kx = 0; kx < kw; kx++, t++)
        off[t] = (((gsize) p * kh + ky) * s + kx * d % s) * width + kx * d / s;

  for (guint g = 0; g < cp->groups; g++) {
    guint ic0 = g * icg, oc0 = g * ocg;
    /* the group's taps and biases as the pack left them */
    const gint32 *wp = pc->taps + (gsize) g * pc->ocr * pc->n_taps;
    const gint64 *base = pc->base + (gsize) g * pc->ocr;

    for (guint oy = y0; oy < y1; oy++) {
      for (guint p = 0; p < n_pairs; p++) {
        /* an odd count's last channel pairs with itself: its partner's
         * taps are 0 (cfqp-int16-cpu-pack.c), so they add nothing */
        guint a = ic0 + 2 * p, b = 2 * p + 1 < icg ? a + 1 : a;

        for (guint ky = 0; ky < kh; ky++) {
          gint iy = (gint) (oy * cp->stride_h + ky * cp->dilation_h) - (gint) pt;
          gboolean inside = iy >= 0 && iy < (gint) in->h;

          for (guint phase = 0; phase < s; phase++) {
            gsize r = ((gsize) p * kh + ky) * s + phase;

            pack_pair_row (inside ? row_of (in, a, iy) : NULL,
                inside ? row_of (in, b, iy) : NULL, q->pad16[a], q->pad16[b],
                (gint) phase - (gint) pl, s, in->w, width, xh + r * width, xl + r * width);
          }
        }
      }
      /* 4 output channels' rows of sums, then their bytes */
      for (guint ob = 0; ob < pc->ocr; ob += oc_n) {
        for (guint x0 = 0; x0 < n_px; x0 += px_n)
          cfg->int16_gemm (xh + x0, xl + x0, off, pc->n_taps, wp + (gsize) ob * pc->n_taps,
              pc->n_taps, acc + x0, n_px);
        for (guint o = 0; o < oc_n && ob + o < ocg; o++) {
          guint oc = oc0 + ob + o;
          guint16 *out = output->data + oc * output->plane_stride + oy * output->row_stride;

          cfg->int16_requant (acc + (gsize) o * n_px, w_out, base[ob + o], q->rq_pos[oc],
              q->rq_neg[oc], q->z_out, q->lo, q->hi, out);
        }
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
