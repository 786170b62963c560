/* The `ref` INT8 kernels: plain scalar C, the definition of the arithmetic
 * (see cfqp-int8.h).  Written for clarity, not speed; other backends must
 * produce the same bytes.  The arithmetic ops (cfqp-int8-ref-arith.h) also
 * run 16-bit programs. */
#include "cfqp-int8.h"
#include "cfqp-moves.h"

#include <string.h>

#define REF_T         guint8
#define REF_VIEW      CfqpU8View
#define REF_CLAMP     cfqp_clamp_u8
#define REF_W_T       gint8
#define REF_WEIGHT(q) ((q)->weight)
#define REF_BIAS(q)   ((q)->bias)
#define REF_PAD(q)    ((q)->pad)
#define REF_REQUANT   cfqp_requant
#define REF_FN(name)  name##_u8
#include "cfqp-int8-ref-arith.h"
#undef REF_T
#undef REF_VIEW
#undef REF_CLAMP
#undef REF_W_T
#undef REF_WEIGHT
#undef REF_BIAS
#undef REF_PAD
#undef REF_REQUANT
#undef REF_FN

#define REF_T         guint16
#define REF_VIEW      CfqpU16View
#define REF_CLAMP     cfqp_clamp_u16
#define REF_W_T       gint16
#define REF_WEIGHT(q) ((q)->weight16)
#define REF_BIAS(q)   ((q)->bias64)
#define REF_PAD(q)    ((q)->pad16)
#define REF_REQUANT   cfqp_requant_wide
#define REF_FN(name)  name##_u16
#include "cfqp-int8-ref-arith.h"

static inline guint8 *
row_of (const CfqpU8View *v, guint c, guint y)
{
  return v->data + c * v->plane_stride + y * v->row_stride;
}

static void
ref_depth_to_space (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  guint b = node->p.shuffle.block;
  gboolean dcr = node->p.shuffle.mode == CFQP_D2S_DCR;

  for (guint c = 0; c < output->c; c++)
    for (guint y = y0; y < y1; y++) {
      guint8 *o = row_of (output, c, y);
      guint i = y % b;
      for (guint j = 0; j < b; j++) {
        guint ic = dcr ? (i * b + j) * output->c + c : c * b * b + i * b + j;
        const guint8 *in = row_of (&inputs[0], ic, y / b);
        for (guint x = 0; x < inputs[0].w; x++)
          o[x * b + j] = in[x];
      }
    }
}

static void
ref_space_to_depth (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  guint b = node->p.shuffle.block, in_c = inputs[0].c;
  gboolean dcr = node->p.shuffle.mode == CFQP_D2S_DCR;

  for (guint oc = 0; oc < output->c; oc++) {
    guint c = dcr ? oc % in_c : oc / (b * b);
    guint ij = dcr ? oc / in_c : oc % (b * b), i = ij / b, j = ij % b;
    for (guint y = y0; y < y1; y++) {
      guint8 *o = row_of (output, oc, y);
      const guint8 *in = row_of (&inputs[0], c, y * b + i) + j;
      for (guint x = 0; x < output->w; x++)
        o[x] = in[x * b];
    }
  }
}

static void
ref_resize_nearest (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  guint sh = node->p.resize.scale_h, sw = node->p.resize.scale_w;

  for (guint c = 0; c < output->c; c++)
    for (guint y = y0; y < y1; y++) {
      guint8 *o = row_of (output, c, y);
      const guint8 *in = row_of (&inputs[0], c, y / sh);
      for (guint x = 0; x < output->w; x++)
        o[x] = in[x / sw];
    }
}

static void
ref_tile_channels (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  for (guint c = 0; c < output->c; c++) {
    guint src = node->p.tile.interleave ? c / node->p.tile.repeats : c % inputs[0].c;
    for (guint y = y0; y < y1; y++)
      memcpy (row_of (output, c, y), row_of (&inputs[0], src, y), output->w);
  }
}

/* A 16-bit program's data moves: the element-generic copies, two bytes each
 * (a move's input and output share their grid: nothing to compute). */
void
cfqp_int16_ref_move (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU16View *inputs,
    const CfqpU16View *output, guint y0, guint y1)
{
  CfqpView *in = g_newa (CfqpView, node->n_inputs);
  CfqpView out = CFQP_VIEW_AS (CfqpView, output);

  for (guint k = 0; k < node->n_inputs; k++)
    in[k] = CFQP_VIEW_AS (CfqpView, &inputs[k]);
  cfqp_moves_run (node, sizeof (guint16), NULL, in, &out, y0, y1);
}

const CfqpInt8Backend cfqp_int8_ref_backend = {
  "ref",
  {
    [CFQP_OP_CONV] = ref_conv_u8,
    [CFQP_OP_CONV_TRANSPOSE] = ref_conv_transpose_u8,
    [CFQP_OP_ACTIVATION] = ref_rescale_u8,
    [CFQP_OP_BINARY] = ref_binary_u8,
    [CFQP_OP_CONCAT] = ref_rescale_u8,
    [CFQP_OP_DEPTH_TO_SPACE] = ref_depth_to_space,
    [CFQP_OP_SPACE_TO_DEPTH] = ref_space_to_depth,
    [CFQP_OP_RESIZE_NEAREST] = ref_resize_nearest,
    [CFQP_OP_TILE_CHANNELS] = ref_tile_channels,
  },
  NULL, NULL,
  {
    [CFQP_OP_CONV] = ref_conv_u16,
    [CFQP_OP_CONV_TRANSPOSE] = ref_conv_transpose_u16,
    [CFQP_OP_ACTIVATION] = ref_rescale_u16,
    [CFQP_OP_BINARY] = ref_binary_u16,
    [CFQP_OP_CONCAT] = ref_rescale_u16,
    [CFQP_OP_DEPTH_TO_SPACE] = cfqp_int16_ref_move,
    [CFQP_OP_SPACE_TO_DEPTH] = cfqp_int16_ref_move,
    [CFQP_OP_RESIZE_NEAREST] = cfqp_int16_ref_move,
    [CFQP_OP_TILE_CHANNELS] = cfqp_int16_ref_move,
  },
};
