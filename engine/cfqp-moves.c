/* The data moves of cfqp-moves.h, written once over bytes × element size.
 * Each inner loop copies whole elements with a memcpy of the element size,
 * which the compiler turns into plain loads and stores once the size is a
 * constant (BY_SIZE makes the 1- and 4-byte cases constants).  ORC takes
 * the byte cases an opcode does exactly (interleaves of 2 and 4, ×2
 * duplication); block 3, which no ORC 0.4 opcode interleaves, has its own
 * C loop. */
#include "cfqp-moves.h"

#include <config.h>
#include <string.h>
#ifdef HAVE_ORC
#include "cfqp-orc.h"
#endif

/* f (args…, es) with the element size a constant where it is 1 or 4, so
 * that the compiler turns each element's memcpy into one load and store. */
#define BY_SIZE(es, f, ...) \
  ((es) == 1 ? f (__VA_ARGS__, 1) : (es) == 4 ? f (__VA_ARGS__, 4) : f (__VA_ARGS__, es))

/* d[b·x + j] = s[j][x] for n elements of es bytes. */
static inline void
interleave (guint8 *d, const guint8 *const *s, guint b, guint n, gsize es)
{
  if (b == 3) {
    const guint8 *s0 = s[0], *s1 = s[1], *s2 = s[2];
    for (guint x = 0; x < n; x++) {
      memcpy (d + 3 * x * es, s0 + x * es, es);
      memcpy (d + (3 * x + 1) * es, s1 + x * es, es);
      memcpy (d + (3 * x + 2) * es, s2 + x * es, es);
    }
    return;
  }
  for (guint j = 0; j < b; j++)
    for (guint x = 0; x < n; x++)
      memcpy (d + ((gsize) b * x + j) * es, s[j] + x * es, es);
}

static void
interleave_row (CfqpMovesInterleaveFunc kernel, guint8 *d, const guint8 *const *s, guint b,
    guint n, gsize es)
{
  if (es == 1 && kernel && kernel (d, s, b, n))
    return;
#ifdef HAVE_ORC
  if (es == 1 && b == 2 && cfqp_aligned (d, 2)) {
    cfqp_orc_interleave2_u8 (d, s[0], s[1], n);
    return;
  }
  if (es == 1 && b == 4 && cfqp_aligned (d, 4)) {
    cfqp_orc_interleave4_u8 (d, s[0], s[1], s[2], s[3], n);
    return;
  }
#endif
  BY_SIZE (es, interleave, d, s, b, n);
}

/* d[x] = s[b·x] for n elements of es bytes. */
static inline void
gather (guint8 *d, const guint8 *s, guint b, guint n, gsize es)
{
  for (guint x = 0; x < n; x++)
    memcpy (d + x * es, s + (gsize) b * x * es, es);
}

/* d[r·x + j] = s[x], j < r, for n elements of es bytes. */
static inline void
repeat (guint8 *d, const guint8 *s, guint r, guint n, gsize es)
{
  for (guint x = 0; x < n; x++)
    for (guint j = 0; j < r; j++)
      memcpy (d + ((gsize) r * x + j) * es, s + x * es, es);
}

static void
repeat_row (guint8 *d, const guint8 *s, guint r, guint n, gsize es)
{
  if (r == 1) {
    memcpy (d, s, n * es);
    return;
  }
#ifdef HAVE_ORC
  if (es == 1 && r == 2 && cfqp_aligned (d, 2)) {
    cfqp_orc_dup2_u8 (d, s, n);
    return;
  }
#endif
  BY_SIZE (es, repeat, d, s, r, n);
}

/* ONNX DepthToSpace: output (c, y·b+i, x·b+j) reads input channel
 * (i·b + j)·C + c in DCR mode, c·b² + i·b + j in CRD mode. */
static void
depth_to_space (const CfqpNode *node, gsize es, CfqpMovesInterleaveFunc kernel,
    const CfqpView *in, const CfqpView *out, guint y0, guint y1)
{
  guint b = node->p.shuffle.block;
  gboolean dcr = node->p.shuffle.mode == CFQP_D2S_DCR;
  const guint8 *src[64];

  for (guint c = 0; c < out->c; c++)
    for (guint y = y0; y < y1; y++) {
      guint8 *d = cfqp_view_row (out, es, c, y);
      guint i = y % b;
      for (guint j = 0; j < b; j++) {
        guint ic = dcr ? (i * b + j) * out->c + c : c * b * b + i * b + j;
        const guint8 *s = cfqp_view_row (in, es, ic, y / b);
        if (b <= G_N_ELEMENTS (src))
          src[j] = s;
        else   /* no model has such blocks: one source at a time */
          for (guint x = 0; x < in->w; x++)
            memcpy (d + ((gsize) b * x + j) * es, s + x * es, es);
      }
      if (b <= G_N_ELEMENTS (src))
        interleave_row (kernel, d, src, b, in->w, es);
    }
}

/* Output channel (i·b + j)·C + c (DCR: ONNX SpaceToDepth) or c·b² + i·b + j
 * (CRD: PyTorch pixel_unshuffle); pixel (y, x) reads input (c, y·b+i, x·b+j). */
static void
space_to_depth (const CfqpNode *node, gsize es, const CfqpView *in, const CfqpView *out,
    guint y0, guint y1)
{
  guint b = node->p.shuffle.block;
  gboolean dcr = node->p.shuffle.mode == CFQP_D2S_DCR;

  for (guint oc = 0; oc < out->c; oc++) {
    guint c = dcr ? oc % in->c : oc / (b * b);
    guint ij = dcr ? oc / in->c : oc % (b * b), i = ij / b, j = ij % b;
    for (guint y = y0; y < y1; y++) {
      guint8 *d = cfqp_view_row (out, es, oc, y);
      const guint8 *s = cfqp_view_row (in, es, c, y * b + i) + j * es;
      BY_SIZE (es, gather, d, s, b, out->w);
    }
  }
}

static void
resize_nearest (const CfqpNode *node, gsize es, const CfqpView *in, const CfqpView *out,
    guint y0, guint y1)
{
  guint sh = node->p.resize.scale_h, sw = node->p.resize.scale_w;

  /* the shape rule makes out->w = sw · in->w */
  for (guint c = 0; c < out->c; c++)
    for (guint y = y0; y < y1; y++)
      repeat_row (cfqp_view_row (out, es, c, y), cfqp_view_row (in, es, c, y / sh), sw, in->w,
          es);
}

/* Whole rows: memcpy already runs at copy speed. */
static void
tile_channels (const CfqpNode *node, gsize es, const CfqpView *in, const CfqpView *out,
    guint y0, guint y1)
{
  for (guint c = 0; c < out->c; c++) {
    guint src = node->p.tile.interleave ? c / node->p.tile.repeats : c % in->c;
    for (guint y = y0; y < y1; y++)
      memcpy (cfqp_view_row (out, es, c, y), cfqp_view_row (in, es, src, y), out->w * es);
  }
}

static void
concat (const CfqpNode *node, gsize es, const CfqpView *inputs, const CfqpView *out, guint y0,
    guint y1)
{
  guint oc = 0;

  for (guint k = 0; k < node->n_inputs; k++)
    for (guint c = 0; c < inputs[k].c; c++, oc++)
      for (guint y = y0; y < y1; y++)
        memcpy (cfqp_view_row (out, es, oc, y), cfqp_view_row (&inputs[k], es, c, y),
            out->w * es);
}

gboolean
cfqp_moves_handles (CfqpOpType op)
{
  switch (op) {
    case CFQP_OP_DEPTH_TO_SPACE:
    case CFQP_OP_SPACE_TO_DEPTH:
    case CFQP_OP_RESIZE_NEAREST:
    case CFQP_OP_TILE_CHANNELS:
    case CFQP_OP_CONCAT:
      return TRUE;
    default:
      return FALSE;
  }
}

void
cfqp_moves_run (const CfqpNode *node, gsize esize, CfqpMovesInterleaveFunc interleave,
    const CfqpView *inputs, const CfqpView *output, guint y0, guint y1)
{
  switch (node->op) {
    case CFQP_OP_DEPTH_TO_SPACE:
      depth_to_space (node, esize, interleave, &inputs[0], output, y0, y1);
      break;
    case CFQP_OP_SPACE_TO_DEPTH:
      space_to_depth (node, esize, &inputs[0], output, y0, y1);
      break;
    case CFQP_OP_RESIZE_NEAREST:
      resize_nearest (node, esize, &inputs[0], output, y0, y1);
      break;
    case CFQP_OP_TILE_CHANNELS:
      tile_channels (node, esize, &inputs[0], output, y0, y1);
      break;
    case CFQP_OP_CONCAT:
      concat (node, esize, inputs, output, y0, y1);
      break;
    default:
      g_return_if_reached ();
  }
}

const char *
cfqp_moves_describe (const CfqpNode *node, gsize esize)
{
  switch (node->op) {
    case CFQP_OP_DEPTH_TO_SPACE:
#ifdef HAVE_ORC
      if (esize == 1 && (node->p.shuffle.block == 2 || node->p.shuffle.block == 4))
        return "depth-to-space: ORC interleave rows";
#endif
      return "depth-to-space: C interleave rows";
    case CFQP_OP_SPACE_TO_DEPTH:
      return "space-to-depth: strided row gathers";
    case CFQP_OP_RESIZE_NEAREST:
      return esize == 1 ? "resize-nearest: row copies (ORC ×2 columns)" :
          "resize-nearest: row copies";
    case CFQP_OP_TILE_CHANNELS:
      return "tile: row copies";
    case CFQP_OP_CONCAT:
      return "concat: row copies";
    default:
      return NULL;
  }
}
