/* The data moves of cfqp-moves.c, written once over element sizes, at the
 * sizes INT8 (1 byte) and FP32 (4) use and at 3 bytes (the generic path),
 * against the `ref` INT8 kernels, which keep loops of their own: every byte
 * plane of a move's output is ref's u8 kernel run on that byte plane of
 * the input.  Output rows are computed in uneven pieces, as workers and
 * stripes ask for them, into a view whose planes are taller than the
 * tensor (as stripe buffers are).  Concat, which ref rescales, against a
 * plain channel copy. */
#include "cfqp-int8.h"
#include "cfqp-moves.h"

#include <string.h>

typedef struct {
  const char *name;
  CfqpOpType  op;
  guint       a, b;        /* block (and mode), scale_h/scale_w, repeats (and interleave) */
  guint       c, h, w;     /* input */
} MoveCase;

static const MoveCase cases[] = {
  { "d2s-2-dcr", CFQP_OP_DEPTH_TO_SPACE, 2, CFQP_D2S_DCR, 12, 3, 5 },
  { "d2s-3-crd", CFQP_OP_DEPTH_TO_SPACE, 3, CFQP_D2S_CRD, 27, 2, 7 },
  { "d2s-4-dcr", CFQP_OP_DEPTH_TO_SPACE, 4, CFQP_D2S_DCR, 32, 2, 3 },
  { "s2d-2-dcr", CFQP_OP_SPACE_TO_DEPTH, 2, CFQP_D2S_DCR, 3, 6, 10 },
  { "s2d-3-crd", CFQP_OP_SPACE_TO_DEPTH, 3, CFQP_D2S_CRD, 2, 6, 9 },
  { "resize-2x3", CFQP_OP_RESIZE_NEAREST, 2, 3, 3, 4, 5 },
  { "resize-1x2", CFQP_OP_RESIZE_NEAREST, 1, 2, 2, 5, 7 },
  { "tile-3", CFQP_OP_TILE_CHANNELS, 3, FALSE, 2, 4, 6 },
  { "tile-3-interleave", CFQP_OP_TILE_CHANNELS, 3, TRUE, 2, 4, 6 },
};

static const gsize element_sizes[] = { 1, 3, 4 };

static void
node_init (CfqpNode *node, const MoveCase *mc, guint *in_val)
{
  memset (node, 0, sizeof *node);
  node->op = mc->op;
  node->n_inputs = 1;
  node->inputs = in_val;
  node->output = 1;
  switch (mc->op) {
    case CFQP_OP_DEPTH_TO_SPACE:
    case CFQP_OP_SPACE_TO_DEPTH:
      node->p.shuffle.block = mc->a;
      node->p.shuffle.mode = (CfqpD2SMode) mc->b;
      break;
    case CFQP_OP_RESIZE_NEAREST:
      node->p.resize.scale_h = mc->a;
      node->p.resize.scale_w = mc->b;
      break;
    default:
      node->p.tile.repeats = mc->a;
      node->p.tile.interleave = mc->b;
      break;
  }
}

static void
out_shape (const MoveCase *mc, guint *c, guint *h, guint *w)
{
  switch (mc->op) {
    case CFQP_OP_DEPTH_TO_SPACE:
      *c = mc->c / (mc->a * mc->a), *h = mc->h * mc->a, *w = mc->w * mc->a;
      break;
    case CFQP_OP_SPACE_TO_DEPTH:
      *c = mc->c * mc->a * mc->a, *h = mc->h / mc->a, *w = mc->w / mc->a;
      break;
    case CFQP_OP_RESIZE_NEAREST:
      *c = mc->c, *h = mc->h * mc->a, *w = mc->w * mc->b;
      break;
    default:
      *c = mc->c * mc->a, *h = mc->h, *w = mc->w;
      break;
  }
}

static guint8
byte_at (gsize element, gsize k)
{
  return (guint8) (element * 7 + k * 101 + 13);
}

/* Rows [0, oh) in uneven pieces. */
static void
run_in_pieces (const CfqpNode *node, gsize es, const CfqpView *in, const CfqpView *out)
{
  guint y = 0, step = 1;

  while (y < out->h) {
    guint y1 = MIN (out->h, y + step);
    cfqp_moves_run (node, es, NULL, in, out, y, y1);
    y = y1;
    step = step % 3 + 1;
  }
}

static void
test_move (gconstpointer data)
{
  const MoveCase *mc = data;
  guint in_val = 0, oc, oh, ow;
  gsize n_in = (gsize) mc->c * mc->h * mc->w, n_out;
  CfqpNode node;
  CfqpInt8Node q = { 0 };

  node_init (&node, mc, &in_val);
  g_assert_true (cfqp_moves_handles (mc->op));
  out_shape (mc, &oc, &oh, &ow);
  n_out = (gsize) oc * oh * ow;
  for (guint s = 0; s < G_N_ELEMENTS (element_sizes); s++) {
    gsize es = element_sizes[s], plane = (gsize) (oh + 2) * ow;
    g_autofree guint8 *in = g_malloc (n_in * es);
    g_autofree guint8 *out = g_malloc0 (oc * plane * es);
    g_autofree guint8 *in8 = g_malloc (n_in), *want = g_malloc (n_out);
    CfqpView vin = { in, mc->c, mc->h, mc->w, mc->w, (gsize) mc->h * mc->w };
    CfqpView vout = { out, oc, oh, ow, ow, plane };
    CfqpU8View uin = { in8, mc->c, mc->h, mc->w, mc->w, (gsize) mc->h * mc->w };
    CfqpU8View uout = { want, oc, oh, ow, ow, (gsize) oh * ow };

    for (gsize i = 0; i < n_in; i++)
      for (gsize k = 0; k < es; k++)
        in[i * es + k] = byte_at (i, k);
    run_in_pieces (&node, es, &vin, &vout);
    for (gsize k = 0; k < es; k++) {
      for (gsize i = 0; i < n_in; i++)
        in8[i] = in[i * es + k];
      cfqp_int8_ref_backend.ops[mc->op] (&node, &q, &uin, &uout, 0, oh);
      for (guint c = 0; c < oc; c++)
        for (gsize i = 0; i < (gsize) oh * ow; i++)
          if (out[(c * plane + i) * es + k] != want[c * (gsize) oh * ow + i])
            g_error ("%s, %" G_GSIZE_FORMAT "-byte elements: channel %u element %" G_GSIZE_FORMAT
                " byte %" G_GSIZE_FORMAT " differs from ref", mc->name, es, c, i, k);
    }
  }
}

static void
test_concat (void)
{
  const guint cs[2] = { 2, 3 }, h = 4, w = 5;
  guint ids[2] = { 0, 1 };
  CfqpNode node = { 0 };

  node.op = CFQP_OP_CONCAT;
  node.n_inputs = 2;
  node.inputs = ids;
  node.output = 2;
  for (guint s = 0; s < G_N_ELEMENTS (element_sizes); s++) {
    gsize es = element_sizes[s], plane = (gsize) h * w;
    g_autofree guint8 *a = g_malloc (cs[0] * plane * es), *b = g_malloc (cs[1] * plane * es);
    g_autofree guint8 *out = g_malloc ((cs[0] + cs[1]) * plane * es);
    CfqpView in[2] = { { a, cs[0], h, w, w, plane }, { b, cs[1], h, w, w, plane } };
    CfqpView vout = { out, cs[0] + cs[1], h, w, w, plane };

    for (gsize i = 0; i < cs[0] * plane * es; i++)
      a[i] = byte_at (i, 1);
    for (gsize i = 0; i < cs[1] * plane * es; i++)
      b[i] = byte_at (i, 2);
    run_in_pieces (&node, es, in, &vout);
    g_assert_cmpmem (out, cs[0] * plane * es, a, cs[0] * plane * es);
    g_assert_cmpmem (out + cs[0] * plane * es, cs[1] * plane * es, b, cs[1] * plane * es);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *path = g_strdup_printf ("/moves/%s", cases[i].name);
    g_test_add_data_func (path, &cases[i], test_move);
  }
  g_test_add_func ("/moves/concat", test_concat);
  return g_test_run ();
}
