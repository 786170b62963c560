/* FP32 kernels of every op but the conv family, and the op table.
 * Each computes output rows [y0, y1) of every channel, then applies the
 * node's fused activation; the data moves are cfqp-moves.c's. */
#include "cfqp-f32-kernels.h"
#include "cfqp-moves.h"

#include <string.h>

static inline float *
row_of (const CfqpF32View *v, guint c, guint y)
{
  return v->data + c * v->plane_stride + y * v->row_stride;
}

void
cfqp_f32_activate_row (const CfqpActivation *act, guint channel, float *row, guint n)
{
  float slope, lo, hi;

  switch (act->kind) {
    case CFQP_ACT_NONE:
      return;
    case CFQP_ACT_RELU:
      for (guint x = 0; x < n; x++)
        row[x] = row[x] > 0.f ? row[x] : 0.f;
      return;
    case CFQP_ACT_LEAKY_RELU:
    case CFQP_ACT_PRELU:
      slope = act->kind == CFQP_ACT_LEAKY_RELU ? act->alpha :
          act->slopes[act->n_slopes == 1 ? 0 : channel];
      for (guint x = 0; x < n; x++)
        row[x] = row[x] >= 0.f ? row[x] : row[x] * slope;
      return;
    case CFQP_ACT_CLIP:
      lo = act->lo;
      hi = act->hi;
      /* ONNX's order, min(max(x, lo), hi): hi everywhere when lo > hi */
      for (guint x = 0; x < n; x++) {
        float v = row[x] < lo ? lo : row[x];
        row[x] = v > hi ? hi : v;
      }
      return;
  }
}

static void
f32_activation (const CfqpNode *node, const CfqpF32View *inputs,
    const CfqpF32View *output, guint y0, guint y1)
{
  for (guint c = 0; c < output->c; c++) {
    for (guint y = y0; y < y1; y++) {
      float *o = row_of (output, c, y);
      memcpy (o, row_of (&inputs[0], c, y), output->w * sizeof (float));
      cfqp_f32_activate_row (&node->act, c, o, output->w);
    }
  }
}

/* o = a ⊕ b over n floats; b_step 0 broadcasts b[0]. */
static inline void
binary_row (CfqpBinaryKind kind, const float *a, gsize a_step, const float *b, gsize b_step,
    float *o, guint n)
{
  switch (kind) {
    case CFQP_BINARY_ADD:
      for (guint x = 0; x < n; x++)
        o[x] = a[x * a_step] + b[x * b_step];
      break;
    case CFQP_BINARY_SUB:
      for (guint x = 0; x < n; x++)
        o[x] = a[x * a_step] - b[x * b_step];
      break;
    case CFQP_BINARY_MUL:
      for (guint x = 0; x < n; x++)
        o[x] = a[x * a_step] * b[x * b_step];
      break;
    case CFQP_BINARY_DIV:
      for (guint x = 0; x < n; x++)
        o[x] = a[x * a_step] / b[x * b_step];
      break;
  }
}

/* Dispatch so that the common unit-step cases get loops the compiler
 * vectorizes. */
static void
binary_dispatch (CfqpBinaryKind kind, const float *a, gsize a_step, const float *b,
    gsize b_step, float *o, guint n)
{
  if (a_step == 1 && b_step == 1)
    binary_row (kind, a, 1, b, 1, o, n);
  else if (a_step == 1)
    binary_row (kind, a, 1, b, 0, o, n);
  else
    binary_row (kind, a, 0, b, 1, o, n);
}

static void
f32_binary (const CfqpNode *node, const CfqpF32View *inputs,
    const CfqpF32View *output, guint y0, guint y1)
{
  const CfqpBinaryParams *p = &node->p.binary;

  for (guint c = 0; c < output->c; c++) {
    for (guint y = y0; y < y1; y++) {
      float *o = row_of (output, c, y);
      const float *a = row_of (&inputs[0], inputs[0].c == 1 ? 0 : c, y);

      if (p->constant) {
        const float *k = &p->constant[p->n_constant == 1 ? 0 : c];
        if (p->constant_first)
          binary_dispatch (p->kind, k, 0, a, 1, o, output->w);
        else
          binary_dispatch (p->kind, a, 1, k, 0, o, output->w);
      } else {
        const float *b = row_of (&inputs[1], inputs[1].c == 1 ? 0 : c, y);
        binary_dispatch (p->kind, a, 1, b, 1, o, output->w);
      }
      cfqp_f32_activate_row (&node->act, c, o, output->w);
    }
  }
}

/* The data moves: cfqp-moves.c's, shared with INT8, then the fused activation. */
static void
f32_move (const CfqpNode *node, const CfqpF32View *inputs, const CfqpF32View *output,
    guint y0, guint y1)
{
  CfqpView *in = g_newa (CfqpView, node->n_inputs);
  CfqpView out = CFQP_VIEW_AS (CfqpView, output);

  for (guint k = 0; k < node->n_inputs; k++)
    in[k] = CFQP_VIEW_AS (CfqpView, &inputs[k]);
  cfqp_moves_run (node, sizeof (float), NULL, in, &out, y0, y1);
  if (node->act.kind == CFQP_ACT_NONE)
    return;
  for (guint c = 0; c < output->c; c++)
    for (guint y = y0; y < y1; y++)
      cfqp_f32_activate_row (&node->act, c, row_of (output, c, y), output->w);
}

const CfqpF32OpFunc cfqp_f32_ops[CFQP_OP_N_OPS] = {
  [CFQP_OP_CONV] = cfqp_f32_conv,
  [CFQP_OP_CONV_TRANSPOSE] = cfqp_f32_conv_transpose,
  [CFQP_OP_ACTIVATION] = f32_activation,
  [CFQP_OP_BINARY] = f32_binary,
  [CFQP_OP_CONCAT] = f32_move,
  [CFQP_OP_DEPTH_TO_SPACE] = f32_move,
  [CFQP_OP_SPACE_TO_DEPTH] = f32_move,
  [CFQP_OP_RESIZE_NEAREST] = f32_move,
  [CFQP_OP_TILE_CHANNELS] = f32_move,
};
