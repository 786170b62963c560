/* FP32 kernels of every op but the conv family, and the op table.
 * Each computes output rows [y0, y1) of every channel, then applies the
 * node's fused activation. */
#include "cfqp-f32-kernels.h"

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

static void
f32_concat (const CfqpNode *node, const CfqpF32View *inputs,
    const CfqpF32View *output, guint y0, guint y1)
{
  guint oc = 0;

  for (guint i = 0; i < node->n_inputs; i++) {
    for (guint c = 0; c < inputs[i].c; c++, oc++) {
      for (guint y = y0; y < y1; y++) {
        float *o = row_of (output, oc, y);
        memcpy (o, row_of (&inputs[i], c, y), output->w * sizeof (float));
        cfqp_f32_activate_row (&node->act, oc, o, output->w);
      }
    }
  }
}

/* ONNX DepthToSpace: output (c, y·b+i, x·b+j) reads input channel
 * (i·b + j)·C + c in DCR mode, c·b² + i·b + j in CRD mode. */
static void
f32_depth_to_space (const CfqpNode *node, const CfqpF32View *inputs,
    const CfqpF32View *output, guint y0, guint y1)
{
  guint b = node->p.shuffle.block;
  gboolean dcr = node->p.shuffle.mode == CFQP_D2S_DCR;

  for (guint c = 0; c < output->c; c++) {
    for (guint y = y0; y < y1; y++) {
      float *o = row_of (output, c, y);
      guint i = y % b;

      for (guint j = 0; j < b; j++) {
        guint ic = dcr ? (i * b + j) * output->c + c : c * b * b + i * b + j;
        const float *in = row_of (&inputs[0], ic, y / b);
        for (guint x = 0; x < inputs[0].w; x++)
          o[x * b + j] = in[x];
      }
      cfqp_f32_activate_row (&node->act, c, o, output->w);
    }
  }
}

/* Output channel (i·b + j)·C + c (DCR: ONNX SpaceToDepth) or c·b² + i·b + j
 * (CRD: PyTorch pixel_unshuffle); pixel (y, x) reads input (c, y·b+i, x·b+j). */
static void
f32_space_to_depth (const CfqpNode *node, const CfqpF32View *inputs,
    const CfqpF32View *output, guint y0, guint y1)
{
  guint b = node->p.shuffle.block, in_c = inputs[0].c;
  gboolean dcr = node->p.shuffle.mode == CFQP_D2S_DCR;

  for (guint oc = 0; oc < output->c; oc++) {
    guint c = dcr ? oc % in_c : oc / (b * b);
    guint ij = dcr ? oc / in_c : oc % (b * b), i = ij / b, j = ij % b;

    for (guint y = y0; y < y1; y++) {
      float *o = row_of (output, oc, y);
      const float *in = row_of (&inputs[0], c, y * b + i) + j;
      for (guint x = 0; x < output->w; x++)
        o[x] = in[x * b];
      cfqp_f32_activate_row (&node->act, oc, o, output->w);
    }
  }
}

static void
f32_resize_nearest (const CfqpNode *node, const CfqpF32View *inputs,
    const CfqpF32View *output, guint y0, guint y1)
{
  guint sh = node->p.resize.scale_h, sw = node->p.resize.scale_w;

  for (guint c = 0; c < output->c; c++) {
    for (guint y = y0; y < y1; y++) {
      float *o = row_of (output, c, y);
      const float *in = row_of (&inputs[0], c, y / sh);
      for (guint x = 0; x < inputs[0].w; x++)
        for (guint j = 0; j < sw; j++)
          o[x * sw + j] = in[x];
      cfqp_f32_activate_row (&node->act, c, o, output->w);
    }
  }
}

static void
f32_tile_channels (const CfqpNode *node, const CfqpF32View *inputs,
    const CfqpF32View *output, guint y0, guint y1)
{
  for (guint c = 0; c < output->c; c++) {
    for (guint y = y0; y < y1; y++) {
      float *o = row_of (output, c, y);
      guint src = node->p.tile.interleave ? c / node->p.tile.repeats : c % inputs[0].c;
      memcpy (o, row_of (&inputs[0], src, y), output->w * sizeof (float));
      cfqp_f32_activate_row (&node->act, c, o, output->w);
    }
  }
}

const CfqpF32OpFunc cfqp_f32_ops[CFQP_OP_N_OPS] = {
  [CFQP_OP_CONV] = cfqp_f32_conv,
  [CFQP_OP_CONV_TRANSPOSE] = cfqp_f32_conv_transpose,
  [CFQP_OP_ACTIVATION] = f32_activation,
  [CFQP_OP_BINARY] = f32_binary,
  [CFQP_OP_CONCAT] = f32_concat,
  [CFQP_OP_DEPTH_TO_SPACE] = f32_depth_to_space,
  [CFQP_OP_SPACE_TO_DEPTH] = f32_space_to_depth,
  [CFQP_OP_RESIZE_NEAREST] = f32_resize_nearest,
  [CFQP_OP_TILE_CHANNELS] = f32_tile_channels,
};
