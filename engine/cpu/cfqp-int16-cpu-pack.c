/* The INT16 conv's taps, laid out once per program (the set's pack16):
 * the micro-kernels (cfqp-int16-cpu-gemm.h) read two input channels' int16
 * taps per int32 lane, and the zero point comes out of the bias once per
 * output channel as z·Σw.  Neither depends on the frame, so the conv
 * (cfqp-int16-cpu-conv.c) only reads them. */
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu-private.h"

/* Taps beyond this (a conv far wider than any SR net's, at the engine's
 * limits a hostile model's) are not packed: the conv takes ref's kernel. */
#define MAX_TAP_BYTES ((gsize) 64 << 20)

static void
int16_conv_free (gpointer data)
{
  CfqpInt16CpuConv *pc = data;

  g_free (pc->taps);
  g_free (pc->base);
  g_free (pc->head.kernel);
  g_free (pc);
}

/* One group's taps in pairs of input channels, ocr output channels (0
 * beyond the group's), and its biases less z·Σw. */
static void
pack_group (const CfqpConvParams *cp, const CfqpInt8Node *q, guint g, guint n_taps, guint ocr,
    gint32 *taps, gint64 *base)
{
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  guint k_n = cp->kernel_h * cp->kernel_w, n_pairs = (icg + 1) / 2, oc0 = g * ocg;

  for (guint o = 0; o < ocr; o++) {
    const gint16 *w = q->weight16 + (gsize) (oc0 + MIN (o, ocg - 1)) * icg * k_n;
    gint64 wsum = 0;

    /* an odd count's last channel gets a partner of 0 taps: the conv pairs
     * it with itself, so the partner's values add nothing */
    for (guint p = 0, t = 0; p < n_pairs; p++)
      for (guint k = 0; k < k_n; k++, t++) {
        gint32 wa = o < ocg ? w[(gsize) 2 * p * k_n + k] : 0;
        gint32 wb = o < ocg && 2 * p + 1 < icg ? w[(gsize) (2 * p + 1) * k_n + k] : 0;

        taps[(gsize) o * n_taps + t] = cfqp_int16_pair (wa, wb);
        wsum += wa + wb;
      }
    base[o] = o < ocg ? q->bias64[oc0 + o] - (gint64) q->z_in[0] * wsum : 0;
  }
}

CfqpInt8CpuPacked *
cfqp_int16_cpu_conv_pack (const CfqpNode *node, const CfqpInt8Node *q)
{
  const CfqpInt8CpuConfig *cfg = cfqp_int8_cpu_config ();
  const CfqpConvParams *cp = &node->p.conv;
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  guint n_taps = (icg + 1) / 2 * cp->kernel_h * cp->kernel_w;
  guint ocr = (ocg + CFQP_INT16_GEMM_OC - 1) / CFQP_INT16_GEMM_OC * CFQP_INT16_GEMM_OC;
  gsize n_oc = (gsize) cp->groups * ocr;
  CfqpInt16CpuConv *pc;

  if (node->op != CFQP_OP_CONV || !q->weight16 ||
      n_oc * n_taps > MAX_TAP_BYTES / sizeof (gint32))
    return NULL;
  pc = g_new0 (CfqpInt16CpuConv, 1);
  pc->head.free = int16_conv_free;
  pc->head.kernel = g_strdup_printf ("int16 conv: %s, %s", cfg->int16_gemm_name,
      cfg->int16_requant_name);
  pc->n_taps = n_taps;
  pc->ocr = ocr;
  pc->taps = g_new (gint32, n_oc * n_taps);
  pc->base = g_new (gint64, n_oc);
  for (guint g = 0; g < cp->groups; g++)
    pack_group (cp, q, g, n_taps, ocr, pc->taps + (gsize) g * ocr * n_taps, pc->base + g * ocr);
  return &pc->head;
}
