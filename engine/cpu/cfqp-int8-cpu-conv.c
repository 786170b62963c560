/* The cpu conv: per output row, gather each output pixel's inputs into a
 * channels-inner column (im2col), then one u8·s8 GEMM against the packed
 * weights and a requantisation pass.
 *
 * The input zero point is folded into the bias at pack time:
 *   b + Σ w·(x − z) = (b − z·Σw) + Σ w·x
 * where padded taps carry the channel's pad byte as x, exactly as ref
 * uses (pad − z).  Integer sums in any order give ref's accumulator, so
 * the requantised bytes are ref's. */
#include "cfqp-int8-cpu-gemm.h"
#include "cfqp-int8-cpu-private.h"

#include <config.h>
#include <string.h>
#ifdef HAVE_ORC
#include "cfqp-orc.h"
#endif

#define K_ALIGN  32   /* zero-padded reduction length: whole vectors */
#define OC_BLOCK 4    /* output channels per micro-kernel call */

typedef struct {
  CfqpInt8CpuPacked head;
  CfqpInt8CpuConvPath path;
  CfqpInt8GemmFunc gemm;     /* dot-product paths */
  CfqpInt8GemmFunc gemm_c4;  /* the C4 path */
  CfqpInt8RequantFunc requant;
  guint   ic, ocp;
  gsize   k, kp;       /* kh·kw·ic, and padded to K_ALIGN */
  gint8  *weight;      /* [ocp][kp], k = (ky·kw + kx)·ic + c; zeros past k and oc */
  gint32 *bias;        /* [ocp] b − z_in·Σw */
} CpuConv;

const char *
cfqp_int8_cpu_conv_path_name (CfqpInt8CpuConvPath path)
{
  switch (path) {
    case CFQP_INT8_CPU_CONV_REF: return "ref";
    case CFQP_INT8_CPU_CONV_1X1: return "1x1";
    case CFQP_INT8_CPU_CONV_ROWS: return "rows";
    case CFQP_INT8_CPU_CONV_TAPS: return "taps";
    case CFQP_INT8_CPU_CONV_C4: return "c4 (planar rows interleaved)";
  }
  return "?";
}

static void
cpu_conv_free (gpointer data)
{
  CpuConv *pc = data;
  g_free (pc->weight);
  g_free (pc->bias);
  g_free (pc->head.kernel);
  g_free (pc);
}

static CfqpInt8CpuConvPath
choose_path (const CfqpNode *node, const char *isa, CfqpInt8CpuGemmKind kind)
{
  const CfqpConvParams *cp = &node->p.conv;

  if (node->op != CFQP_OP_CONV || cp->groups != 1 || cp->kernel_h > CFQP_MAX_KERNEL)
    return CFQP_INT8_CPU_CONV_REF;
  /* pixel lanes beat the dot products wherever VNNI has them (ABPN-28
   * 640×360: 94 vs 194 ms CPU per frame on Zen 5) */
  if (kind != CFQP_INT8_CPU_GEMM_DOT && g_str_equal (isa, "avx512vnni"))
    return CFQP_INT8_CPU_CONV_C4;
  if (cp->kernel_h == 1 && cp->kernel_w == 1 && cp->stride_h == 1 && cp->stride_w == 1 &&
      cp->auto_pad == 0 && !cp->pad_t && !cp->pad_l && !cp->pad_b && !cp->pad_r)
    return CFQP_INT8_CPU_CONV_1X1;
  return cp->dilation_w == 1 ? CFQP_INT8_CPU_CONV_ROWS : CFQP_INT8_CPU_CONV_TAPS;
}

CfqpInt8CpuPacked *
cfqp_int8_cpu_conv_pack (const CfqpNode *node, const CfqpInt8Node *q)
{
  return cfqp_int8_cpu_conv_pack_kind (node, q, CFQP_INT8_CPU_GEMM_AUTO);
}

CfqpInt8CpuPacked *
cfqp_int8_cpu_conv_pack_kind (const CfqpNode *node, const CfqpInt8Node *q,
    CfqpInt8CpuGemmKind kind)
{
  const CfqpConvParams *cp = &node->p.conv;
  CpuConv *pc = g_new0 (CpuConv, 1);
  const char *isa = "";
  guint taps = cp->kernel_h * cp->kernel_w;

  pc->head.free = cpu_conv_free;
  pc->gemm = cfqp_int8_cpu_gemm_select (&isa);
  pc->path = choose_path (node, isa, kind);
#if CFQP_GEMM_X86
  pc->gemm_c4 = cfqp_int8_gemm_u8s8_64x4c4__avx512vnni;
#endif
  if (pc->path != CFQP_INT8_CPU_CONV_REF) {
    pc->ic = cp->in_channels;
    pc->k = (gsize) taps * pc->ic;
    pc->kp = (pc->k + K_ALIGN - 1) / K_ALIGN * K_ALIGN;
    pc->ocp = (cp->out_channels + OC_BLOCK - 1) / OC_BLOCK * OC_BLOCK;
    pc->weight = g_new0 (gint8, pc->ocp * pc->kp);
    pc->bias = g_new0 (gint32, pc->ocp);
    pc->requant = cfqp_int8_cpu_requant_select ();
    for (guint oc = 0; oc < cp->out_channels; oc++) {
      gint64 sum = 0, abs_sum = 0, bias;
      for (guint c = 0; c < pc->ic; c++)
        for (guint t = 0; t < taps; t++) {
          gint8 w = q->weight[((gsize) oc * pc->ic + c) * taps + t];
          pc->weight[oc * pc->kp + (gsize) t * pc->ic + c] = w;
          sum += w;
          abs_sum += ABS (w);
        }
      bias = q->bias[oc] - (gint64) q->z_in[0] * sum;
      /* every partial sum of the int32 GEMM must stay exact */
      if (ABS (bias) + 255 * abs_sum > G_MAXINT32) {
        pc->path = CFQP_INT8_CPU_CONV_REF;
        break;
      }
      pc->bias[oc] = (gint32) bias;
    }
  }
  if (pc->path == CFQP_INT8_CPU_CONV_REF) {
    g_clear_pointer (&pc->weight, g_free);
    g_clear_pointer (&pc->bias, g_free);
    pc->head.kernel = g_strdup_printf ("%s %ux%u g%u: ref kernel",
        node->op == CFQP_OP_CONV ? "conv" : "conv-transpose", cp->kernel_h, cp->kernel_w,
        cp->groups);
  } else {
    g_autofree char *gemm_name = pc->path == CFQP_INT8_CPU_CONV_C4 ?
        g_strdup ("64x4c4__avx512vnni") : g_strconcat ("1x4__", isa, NULL);
    pc->head.kernel = g_strdup_printf ("conv %ux%u s%u d%u: %s gather + "
        "cfqp_int8_gemm_u8s8_%s (k %" G_GSIZE_FORMAT "->%" G_GSIZE_FORMAT ", oc %u->%u)",
        cp->kernel_h, cp->kernel_w, cp->stride_w, cp->dilation_w,
        cfqp_int8_cpu_conv_path_name (pc->path), gemm_name, pc->k, pc->kp,
        cp->out_channels, pc->ocp);
  }
  g_debug ("node '%s': %s", node->name, pc->head.kernel);
  return &pc->head;
}

/* One input row in channels-inner order over the columns the conv reads,
 * pad bytes outside the image.  iy out of range: all pad. */
static void
gather_hwc_row (const CfqpU8View *in, gint iy, guint pl, guint cols, guint ic,
    const guint8 *pad, guint8 *dst)
{
  guint x0 = MIN (pl, cols), x1 = MIN (cols, pl + in->w);

  if (iy < 0 || iy >= (gint) in->h)
    x0 = x1 = cols;
  for (guint c = 0; c < ic; c++) {
    const guint8 *src = x1 > x0 ? cfqp_u8_row (in, c, iy) : NULL;
    guint8 p = pad[c];
    for (guint x = 0; x < x0; x++)
      dst[x * ic + c] = p;
    for (guint x = x0; x < x1; x++)
      dst[x * ic + c] = src[x - pl];
    for (guint x = MAX (x0, x1); x < cols; x++)
      dst[x * ic + c] = p;
  }
}

/* Planar input rows, pad bytes around, over the columns the conv reads. */
static void
gather_planar_rows (const CfqpU8View *in, gint iy, guint pl, guint cols, guint ic,
    const guint8 *pad, guint8 *dst)
{
  guint x0 = MIN (pl, cols), x1 = MIN (cols, pl + in->w);

  if (iy < 0 || iy >= (gint) in->h)
    x0 = x1 = cols;
  for (guint c = 0; c < ic; c++, dst += cols) {
    memset (dst, pad[c], x0);
    if (x1 > x0)
      memcpy (dst + x0, cfqp_u8_row (in, c, iy) + (x0 - pl), x1 - x0);
    memset (dst + MAX (x0, x1), pad[c], cols - MAX (x0, x1));
  }
}

/* d[4x + j] = s[j][x·stride] */
static void
interleave4 (guint8 *d, const guint8 *const *s, guint stride, guint n)
{
#ifdef HAVE_ORC
  if (stride == 1 && ((guintptr) d & 3) == 0) {
    cfqp_orc_interleave4_u8 (d, s[0], s[1], s[2], s[3], n);
    return;
  }
#endif
  for (guint x = 0; x < n; x++) {
    d[4 * x] = s[0][x * stride];
    d[4 * x + 1] = s[1][x * stride];
    d[4 * x + 2] = s[2][x * stride];
    d[4 * x + 3] = s[3][x * stride];
  }
}

/* Pixel-lanes path: per output row, column block [k/4][px][4] built by
 * interleaving 4 padded planar rows at a time, then the 64×4 kernel. */
static void
conv_c4 (const CpuConv *pc, const CfqpNode *node, const CfqpInt8Node *q,
    const CfqpU8View *in, const CfqpU8View *output, guint y0, guint y1)
{
#if CFQP_GEMM_X86
  const CfqpConvParams *cp = &node->p.conv;
  guint ow = output->w, ic = pc->ic, kw = cp->kernel_w, sw = cp->stride_w, dw = cp->dilation_w;
  guint npx = (ow + CFQP_GEMM_C4_PIXELS - 1) / CFQP_GEMM_C4_PIXELS * CFQP_GEMM_C4_PIXELS;
  guint pt, pl, pb, pr, cols, ring;
  gsize slot_bytes, col_bytes, acc_bytes, k4n = pc->kp / 4;
  guint8 *scratch, *rows, *col, *zeros;
  gint32 *acc;
  gint *tags;

  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  cols = (ow - 1) * sw + (kw - 1) * dw + 1;
  ring = (cp->kernel_h - 1) * cp->dilation_h + 1;
  slot_bytes = (gsize) cols * ic;
  col_bytes = (gsize) npx * pc->kp;
  acc_bytes = (gsize) pc->ocp * npx * sizeof (gint32);
  scratch = cfqp_int8_cpu_scratch (acc_bytes + col_bytes + ring * slot_bytes + cols +
      ring * sizeof (gint) + 64);
  /* int arrays first, where they stay aligned */
  acc = (gint32 *) scratch;
  tags = (gint *) (scratch + acc_bytes);
  col = scratch + acc_bytes + ring * sizeof (gint);
  rows = col + col_bytes;
  zeros = rows + ring * slot_bytes;
  memset (zeros, 0, cols);
  for (guint r = 0; r < ring; r++)
    tags[r] = G_MININT;
  /* pixels past the row meet the kernel too; cleared so they read no stale byte */
  if (npx > ow)
    for (gsize k4 = 0; k4 < k4n; k4++)
      memset (col + (k4 * npx + ow) * 4, 0, (gsize) (npx - ow) * 4);

  for (guint oy = y0; oy < y1; oy++) {
    const guint8 *slot_of_ky[CFQP_MAX_KERNEL];
    for (guint ky = 0; ky < cp->kernel_h; ky++) {
      gint iy = (gint) (oy * cp->stride_h + ky * cp->dilation_h) - (gint) pt;
      guint slot = (guint) (((iy % (gint) ring) + (gint) ring) % (gint) ring);
      if (tags[slot] != iy) {
        gather_planar_rows (in, iy, pl, cols, ic, q->pad, rows + slot * slot_bytes);
        tags[slot] = iy;
      }
      slot_of_ky[ky] = rows + slot * slot_bytes;
    }
    for (gsize k4 = 0; k4 < k4n; k4++) {
      const guint8 *src[4];
      for (guint j = 0; j < 4; j++) {
        gsize k = 4 * k4 + j, tap = k / ic;
        src[j] = k < pc->k ? slot_of_ky[tap / kw] + (k % ic) * cols + (tap % kw) * dw : zeros;
      }
      interleave4 (col + k4 * npx * 4, src, sw, ow);
    }
    pc->gemm_c4 (col, pc->kp, npx, pc->weight, pc->ocp, pc->bias, acc, npx);
    for (guint oc = 0; oc < output->c; oc++)
      pc->requant (acc + (gsize) oc * npx, ow, q->rq_pos[oc], q->rq_neg[oc], q->z_out, q->lo,
          q->hi, cfqp_u8_row (output, oc, oy));
  }
#else
  g_assert_not_reached ();
#endif
}

void
cfqp_int8_cpu_conv (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  const CpuConv *pc = q->packed;
  const CfqpConvParams *cp = &node->p.conv;
  const CfqpU8View *in = &inputs[0];
  guint ow = output->w, ic, kh, kw, sw, dw, pt, pl, pb, pr, cols, ring;
  gsize row_bytes, col_bytes, acc_bytes;
  guint8 *scratch, *rows, *col;
  gint32 *acc;
  gint *tags;

  if (!pc || pc->path == CFQP_INT8_CPU_CONV_REF) {
    cfqp_int8_ref_backend.ops[node->op] (node, q, inputs, output, y0, y1);
    return;
  }
  if (pc->path == CFQP_INT8_CPU_CONV_C4) {
    conv_c4 (pc, node, q, in, output, y0, y1);
    return;
  }
  ic = pc->ic;
  kh = cp->kernel_h;
  kw = cp->kernel_w;
  sw = cp->stride_w;
  dw = cp->dilation_w;
  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  cols = (ow - 1) * sw + (kw - 1) * dw + 1;
  /* rows alive at once: one output row's taps span (kh − 1)·dh + 1 input rows */
  ring = pc->path == CFQP_INT8_CPU_CONV_1X1 ? 0 : (kh - 1) * cp->dilation_h + 1;
  row_bytes = (gsize) cols * ic;
  col_bytes = (gsize) ow * pc->kp;
  acc_bytes = (gsize) pc->ocp * ow * sizeof (gint32);
  scratch = cfqp_int8_cpu_scratch (acc_bytes + col_bytes + ring * row_bytes +
      ring * sizeof (gint) + 64);
  acc = (gint32 *) scratch;
  tags = (gint *) (scratch + acc_bytes);
  col = scratch + acc_bytes + ring * sizeof (gint);
  rows = col + col_bytes;
  for (guint r = 0; r < ring; r++)
    tags[r] = G_MININT;
  /* the k tail meets zero weights; cleared so no stale byte is read */
  if (pc->kp > pc->k)
    for (guint x = 0; x < ow; x++)
      memset (col + x * pc->kp + pc->k, 0, pc->kp - pc->k);

  for (guint oy = y0; oy < y1; oy++) {
    if (pc->path == CFQP_INT8_CPU_CONV_1X1) {
      for (guint c = 0; c < ic; c++) {
        const guint8 *src = cfqp_u8_row (in, c, oy);
        for (guint x = 0; x < ow; x++)
          col[x * pc->kp + c] = src[x];
      }
    } else {
      for (guint ky = 0; ky < kh; ky++) {
        gint iy = (gint) (oy * cp->stride_h + ky * cp->dilation_h) - (gint) pt;
        guint slot = (guint) (((iy % (gint) ring) + (gint) ring) % (gint) ring);
        const guint8 *row = rows + slot * row_bytes;
        if (tags[slot] != iy) {
          gather_hwc_row (in, iy, pl, cols, ic, q->pad, rows + slot * row_bytes);
          tags[slot] = iy;
        }
        if (pc->path == CFQP_INT8_CPU_CONV_ROWS) {
          for (guint x = 0; x < ow; x++)
            memcpy (col + x * pc->kp + (gsize) ky * kw * ic, row + (gsize) x * sw * ic,
                (gsize) kw * ic);
        } else {
          for (guint x = 0; x < ow; x++)
            for (guint kx = 0; kx < kw; kx++)
              memcpy (col + x * pc->kp + ((gsize) ky * kw + kx) * ic,
                  row + ((gsize) x * sw + kx * dw) * ic, ic);
        }
      }
    }
    pc->gemm (col, pc->kp, ow, pc->weight, pc->ocp, pc->bias, acc, ow);
    for (guint oc = 0; oc < output->c; oc++)
      pc->requant (acc + (gsize) oc * ow, ow, q->rq_pos[oc], q->rq_neg[oc], q->z_out, q->lo,
          q->hi, cfqp_u8_row (output, oc, oy));
  }
}
