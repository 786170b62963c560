/* Elementwise ops of the cpu set through per-channel tables built at pack
 * time.  Wherever each input's contribution depends on one byte, ref's
 * 64-bit requantisation is evaluated once per (channel, byte value):
 *   concat / activation   out = lut[c][a]                    (bytes)
 *   add / sub / const op  t = ta[c][a] + tb[c][b] + offset    (int64, 2^20 units)
 * Same expressions as ref, so the same bytes.  Mul of two activations
 * depends on both bytes and is computed directly. */
#include "cfqp-int8-cpu-private.h"

typedef struct {
  CfqpInt8CpuPacked head;
  guint8 *bytes;    /* rescale: [input][out channel][256] */
  gint64 *terms;    /* binary add/sub: [input][channel][256] */
  guint   c_n;
} CpuLut;

static void
cpu_lut_free (gpointer data)
{
  CpuLut *pl = data;
  g_free (pl->bytes);
  g_free (pl->terms);
  g_free (pl->head.kernel);
  g_free (pl);
}

static gboolean
is_two_input_mul (const CfqpNode *node)
{
  return node->n_inputs == 2 && node->p.binary.kind == CFQP_BINARY_MUL;
}

CfqpInt8CpuPacked *
cfqp_int8_cpu_lut_pack (const CfqpNode *node, const CfqpInt8Node *q)
{
  CpuLut *pl = g_new0 (CpuLut, 1);
  guint c_n = node->out_channels;

  pl->head.free = cpu_lut_free;
  pl->c_n = c_n;
  if (node->op == CFQP_OP_BINARY && is_two_input_mul (node)) {
    pl->head.kernel = g_strdup ("mul: direct int64 requantisation");
  } else if (node->op == CFQP_OP_BINARY) {
    pl->terms = g_new0 (gint64, (gsize) node->n_inputs * c_n * 256);
    for (guint k = 0; k < node->n_inputs; k++)
      for (guint c = 0; c < c_n; c++)
        for (guint v = 0; v < 256; v++)
          pl->terms[((gsize) k * c_n + c) * 256 + v] =
              cfqp_requant ((gint64) v - q->z_in[k], q->rq_in[k * c_n + c]);
    pl->head.kernel = g_strdup_printf ("%s: per-channel int64 term tables",
        cfqp_op_type_to_string (node->op));
  } else {
    /* concat / activation: which input feeds output channel oc depends on
     * the inputs' channel counts, so every (input, output channel) gets one */
    pl->bytes = g_new (guint8, (gsize) node->n_inputs * c_n * 256);
    for (guint k = 0; k < node->n_inputs; k++) {
      const CfqpRequant *rq = q->rq_in + (gsize) k * 2 * c_n;
      for (guint oc = 0; oc < c_n; oc++)
        for (guint v = 0; v < 256; v++) {
          gint64 d = (gint64) v - q->z_inputs[k];
          pl->bytes[((gsize) k * c_n + oc) * 256 + v] = cfqp_clamp_u8 (q->z_out +
              cfqp_requant (d, d >= 0 ? rq[oc] : rq[c_n + oc]), q->lo, q->hi);
        }
    }
    pl->head.kernel = g_strdup_printf ("%s: per-channel byte tables",
        cfqp_op_type_to_string (node->op));
  }
  g_debug ("node '%s': %s", node->name, pl->head.kernel);
  return &pl->head;
}

void
cfqp_int8_cpu_binary (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  const CpuLut *pl = q->packed;
  guint c_n = output->c;
  gboolean two = node->n_inputs == 2;

  if (!pl || !pl->terms) {
    cfqp_int8_ref_backend.ops[node->op] (node, q, inputs, output, y0, y1);
    return;
  }
  for (guint c = 0; c < c_n; c++) {
    guint ca = inputs[0].c == 1 ? 0 : c, cb = two && inputs[1].c == 1 ? 0 : c;
    const gint64 *ta = pl->terms + (gsize) c * 256;
    const gint64 *tb = two ? pl->terms + ((gsize) c_n + c) * 256 : NULL;
    gint64 off = q->offset[c];
    for (guint y = y0; y < y1; y++) {
      const guint8 *a = cfqp_u8_row (&inputs[0], ca, y);
      const guint8 *b = two ? cfqp_u8_row (&inputs[1], cb, y) : NULL;
      guint8 *o = cfqp_u8_row (output, c, y);
      if (two)
        for (guint x = 0; x < output->w; x++)
          o[x] = cfqp_clamp_u8 (q->z_out + cfqp_rshift_round (ta[a[x]] + tb[b[x]] + off,
              CFQP_INT8_FRAC_BITS), q->lo, q->hi);
      else
        for (guint x = 0; x < output->w; x++)
          o[x] = cfqp_clamp_u8 (q->z_out + cfqp_rshift_round (ta[a[x]] + off,
              CFQP_INT8_FRAC_BITS), q->lo, q->hi);
    }
  }
}

void
cfqp_int8_cpu_rescale (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  const CpuLut *pl = q->packed;
  guint oc = 0;

  if (!pl || !pl->bytes) {
    cfqp_int8_ref_backend.ops[node->op] (node, q, inputs, output, y0, y1);
    return;
  }
  for (guint k = 0; k < node->n_inputs; k++)
    for (guint c = 0; c < inputs[k].c; c++, oc++) {
      const guint8 *lut = pl->bytes + ((gsize) k * pl->c_n + oc) * 256;
      for (guint y = y0; y < y1; y++) {
        const guint8 *a = cfqp_u8_row (&inputs[k], c, y);
        guint8 *o = cfqp_u8_row (output, oc, y);
        for (guint x = 0; x < output->w; x++)
          o[x] = lut[a[x]];
      }
    }
}
