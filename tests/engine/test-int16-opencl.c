/* INT16 on OpenCL against ref's 16-bit kernels, level for level and byte
 * for byte (docs/int8-arithmetic.md, "16-bit programs"):
 *
 *  - hand-made nodes, each alone in a graph, on every level of their
 *    output (cfqp_opencl_exec_run_levels): convs with zero points off 0 on
 *    both sides, negative sums into the negative-side multiplier, int64
 *    biases beyond int32 whose products outgrow 64 bits (the high half),
 *    exact rounding ties of both signs there, saturation at ±2^62, pads,
 *    strides, dilations, groups; conv transpose; add/sub/mul; standalone
 *    activations; concat; the data moves;
 *  - the frame's ends: every byte widened and narrowed, ties up, levels
 *    beyond 255.5 bytes saturating;
 *  - every shipped anchorless net's INT16 program with its shipped
 *    calibration on an odd-sized photo crop: the output's levels, and the
 *    runner's bytes against the cpu set's;
 *  - a node with no INT16 kernel refused when the program is set.
 *
 * OpenCL on $CFQP_OPENCL_DEVICE (or device 0); skipped where none opens. */
#include "cfqp-calib.h"
#include "cfqp-model-private.h"
#include "cfqp-opencl.h"
#include "cfqp-plan.h"
#include "graph-build.h"
#include "test-png.h"

#include <math.h>
#include <string.h>

static const char *
device (void)
{
  const char *d = g_getenv ("CFQP_OPENCL_DEVICE");
  return d && *d ? d : "0";
}

/* An INT16 executor for g, or NULL (the test skipped) without a device. */
static CfqpExecutor *
exec_new (const CfqpGraph *g, guint scale)
{
  g_autoptr (GError) error = NULL;
  CfqpExecutor *exec = cfqp_opencl_exec_new (g, CFQP_PRECISION_INT16, scale, 1, device (),
      FALSE, &error);

  if (!exec)
    g_test_skip_printf ("no OpenCL device: %s", error->message);
  return exec;
}

/* ref's ops16 over g on dense planar levels; returns the output's, and
 * its element count in n_out. */
static guint16 *
ref_run (const CfqpGraph *g, const CfqpInt8Program *prog, const guint16 *in, guint w, guint h,
    gsize *n_out)
{
  g_autofree CfqpShape *shapes = g_new (CfqpShape, g->n_values);
  g_autofree CfqpU16View *views = g_new0 (CfqpU16View, g->n_values);
  g_autoptr (GError) error = NULL;
  guint16 *out;

  g_assert_true (cfqp_graph_infer_shapes (g, w, h, shapes, &error));
  for (guint v = 0; v < g->n_values; v++) {
    const CfqpShape *s = &shapes[v];
    views[v] = (CfqpU16View) { g_new0 (guint16, cfqp_shape_elements (s) + 1), s->c, s->h,
                               s->w, s->w, (gsize) s->w * s->h };
  }
  memcpy (views[0].data, in, cfqp_shape_elements (&shapes[0]) * sizeof (guint16));
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *n = &g->nodes[i];
    g_autofree CfqpU16View *ins = g_new (CfqpU16View, n->n_inputs);

    for (guint k = 0; k < n->n_inputs; k++)
      ins[k] = views[n->inputs[k]];
    cfqp_int8_ref_backend.ops16[n->op] (n, &prog->nodes[i], ins, &views[n->output], 0,
        views[n->output].h);
  }
  *n_out = cfqp_shape_elements (&shapes[g->output]);
  out = g_memdup2 (views[g->output].data, *n_out * sizeof (guint16));
  for (guint v = 0; v < g->n_values; v++)
    g_free (views[v].data);
  return out;
}

static void
compare_levels (const char *what, const guint16 *got, const guint16 *want, gsize n)
{
  guint16 lo = 65535, hi = 0;
  gsize inside = 0;

  for (gsize k = 0; k < n; k++) {
    if (got[k] != want[k])
      g_error ("%s: level %" G_GSIZE_FORMAT " is %u on OpenCL, ref says %u", what, k, got[k],
          want[k]);
    lo = MIN (lo, want[k]);
    hi = MAX (hi, want[k]);
  }
  for (gsize k = 0; k < n; k++)
    inside += want[k] > lo && want[k] < hi;
  g_test_message ("%s: %" G_GSIZE_FORMAT " levels equal, in %u..%u, %" G_GSIZE_FORMAT
      " strictly inside", what, n, lo, hi, inside);
}

/* OpenCL's levels of a one-program graph against ref's. */
static void
check_levels (const char *what, const CfqpGraph *g, const CfqpInt8Program *prog,
    const guint16 *in, guint w, guint h)
{
  g_autoptr (GError) error = NULL;
  CfqpExecutor *exec = exec_new (g, 0);
  g_autofree guint16 *want = NULL, *got = NULL;
  gsize n;

  if (!exec)
    return;
  want = ref_run (g, prog, in, w, h, &n);
  got = g_new (guint16, n);
  g_assert_true (exec->klass->set_program (exec, prog, &error));
  g_assert_no_error (error);
  g_assert_true (cfqp_opencl_exec_run_levels (exec, in, w, h, got, &error));
  g_assert_no_error (error);
  compare_levels (what, got, want, n);
  exec->klass->free (exec);
}

/* --- hand-made nodes ---------------------------------------------------- */

static guint16 *
random_levels (GRand *rand, gsize n, gint lo, gint hi)
{
  guint16 *v = g_new (guint16, n);

  for (gsize e = 0; e < n; e++)
    v[e] = (guint16) g_rand_int_range (rand, lo, hi + 1);
  return v;
}

typedef enum {
  CONV_RANDOM,     /* random taps, inputs, zero points, 32-bit biases */
  CONV_WIDE,       /* biases near ±2^45, shift 62: acc·m near 2^76 */
  CONV_TIES,       /* acc·2^30 / 2^62 on exact halves of both signs beyond int64 */
  CONV_SATURATE,   /* products beyond 2^62 after the shift: ±2^62, then the clamp */
} ConvKind;

typedef struct {
  const char *name;
  ConvKind    kind;
  gboolean    transpose;
  guint       k, stride, dil, groups, in_c, out_c, w, h, pad;
} ConvCase;

static const ConvCase conv_cases[] = {
  { "3x3", CONV_RANDOM, FALSE, 3, 1, 1, 1, 5, 6, 37, 9, 1 },
  { "5x5-stride2", CONV_RANDOM, FALSE, 5, 2, 1, 1, 3, 5, 23, 11, 2 },
  { "3x3-dilation2-pad3", CONV_RANDOM, FALSE, 3, 1, 2, 1, 2, 3, 15, 8, 3 },
  { "3x3-groups2", CONV_RANDOM, FALSE, 3, 1, 1, 2, 6, 10, 11, 5, 1 },
  { "3x3-depthwise", CONV_RANDOM, FALSE, 3, 1, 1, 6, 6, 6, 9, 4, 1 },
  { "1x1-33-channels", CONV_RANDOM, FALSE, 1, 1, 1, 1, 33, 7, 31, 3, 0 },
  { "3x3-wide", CONV_WIDE, FALSE, 3, 1, 1, 1, 4, 5, 19, 7, 1 },
  { "1x1-ties", CONV_TIES, FALSE, 1, 1, 1, 1, 1, 4, 29, 5, 0 },
  { "3x3-saturate", CONV_SATURATE, FALSE, 3, 1, 1, 1, 3, 4, 13, 6, 1 },
  { "transpose-3x3-stride2", CONV_RANDOM, TRUE, 3, 2, 1, 1, 4, 3, 9, 7, 1 },
  { "transpose-wide", CONV_WIDE, TRUE, 3, 2, 1, 1, 3, 2, 7, 5, 1 },
};

static void
test_conv (gconstpointer data)
{
  const ConvCase *tc = data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_str_hash (tc->name));
  CfqpGraph *g = cfqp_graph_new ();
  CfqpNode *node;
  CfqpConvParams *cp;
  CfqpInt8Node q = { 0 };
  CfqpInt8Program prog = { .bits = 16, .n_nodes = 1, .nodes = &q };
  guint icg = tc->in_c / tc->groups, ocg = tc->out_c / tc->groups;
  gsize n_w = (gsize) (tc->transpose ? tc->in_c * ocg : tc->out_c * icg) * tc->k * tc->k;
  gsize n_in = (gsize) tc->in_c * tc->w * tc->h;
  g_autofree guint16 *in = NULL;

  cfqp_graph_add_value (g, "input", tc->in_c, -1);
  node = graph_add_node (g, tc->transpose ? CFQP_OP_CONV_TRANSPOSE : CFQP_OP_CONV, "node", 0, -1,
      tc->out_c);
  cp = &node->p.conv;
  *cp = (CfqpConvParams) { .kernel_h = tc->k, .kernel_w = tc->k, .stride_h = tc->stride,
      .stride_w = tc->stride, .dilation_h = tc->dil, .dilation_w = tc->dil, .pad_t = tc->pad,
      .pad_l = tc->pad, .pad_b = tc->pad, .pad_r = tc->pad, .groups = tc->groups,
      .in_channels = tc->in_c, .out_channels = tc->out_c };
  cp->weight = g_new0 (float, n_w);   /* the graph's; the program's taps are q's */
  if (tc->transpose)
    cp->output_pad_h = cp->output_pad_w = tc->stride - 1;
  q.weight16 = g_new (gint16, n_w);
  q.bias64 = g_new (gint64, tc->out_c);
  q.rq_pos = g_new (CfqpRequant, tc->out_c);
  q.rq_neg = g_new (CfqpRequant, tc->out_c);
  q.pad16 = g_new (guint16, tc->in_c);
  q.z_in[0] = g_rand_int_range (rand, 1000, 64000);
  q.z_out = g_rand_int_range (rand, 20000, 45000);
  q.lo = g_rand_int_range (rand, 0, 1000);
  q.hi = g_rand_int_range (rand, 64535, 65536);
  for (gsize e = 0; e < n_w; e++)
    q.weight16[e] = (gint16) g_rand_int_range (rand, -32767, 32768);
  for (guint c = 0; c < tc->in_c; c++)
    q.pad16[c] = (guint16) g_rand_int_range (rand, 0, 65536);
  in = random_levels (rand, n_in, 0, 65535);
  for (guint oc = 0; oc < tc->out_c; oc++) {
    guint shift;
    double typical;

    switch (tc->kind) {
      case CONV_RANDOM:
        /* a typical sum (√K·3.6e8 on random taps and levels) to ~2^15 */
        typical = sqrt ((double) icg * tc->k * tc->k) * 3.6e8;
        shift = (guint) ceil (log2 (typical)) - 15 + 31;
        q.bias64[oc] = (gint64) g_rand_double_range (rand, -typical, typical);
        q.rq_pos[oc] = (CfqpRequant) { g_rand_int_range (rand, 1 << 30, G_MAXINT32), shift };
        q.rq_neg[oc] = (CfqpRequant) { -g_rand_int_range (rand, 1 << 30, G_MAXINT32),
            shift + 2 };
        break;
      case CONV_WIDE:
        /* bias ±(2^45 − small): beyond int32, acc·m near 2^76 */
        q.bias64[oc] = (oc % 2 ? -1 : 1) * (((gint64) 1 << 45) -
            g_rand_int_range (rand, 0, 1 << 30));
        q.rq_pos[oc] = (CfqpRequant) { g_rand_int_range (rand, 1 << 30, G_MAXINT32), 62 };
        q.rq_neg[oc] = (CfqpRequant) { g_rand_int_range (rand, 1 << 30, G_MAXINT32), 62 };
        break;
      case CONV_TIES:
        /* m = 2^30, shift 62: out = z + acc / 2^32; acc = ±(2^44 + 2^31) on
         * a level 1000 above the zero point (weight 1), a tie either way */
        q.weight16[oc] = 1;
        q.bias64[oc] = oc % 2 ? -((gint64) 1 << 44) - ((gint64) 1 << 31) - 1000 * (oc % 4 == 1 ? -1 : 1) :
            ((gint64) 1 << 44) + ((gint64) 1 << 31) - 1000;
        q.rq_pos[oc] = q.rq_neg[oc] = (CfqpRequant) { 1 << 30, 62 };
        break;
      default:
        /* shift 1: |acc·m| / 2 far beyond 2^62 */
        q.bias64[oc] = (oc % 2 ? -1 : 1) * ((gint64) 1 << 45);
        q.rq_pos[oc] = q.rq_neg[oc] = (CfqpRequant) { G_MAXINT32 - (gint) oc, 1 };
        q.z_out = 32768;
        break;
    }
  }
  if (tc->kind == CONV_TIES) {
    /* the zero point, ±1000 around it, and a few beside: half the ties */
    q.z_in[0] = 30000;
    q.z_out = 30000 - 4096;
    for (gsize e = 0; e < n_in; e++)
      in[e] = (guint16) (q.z_in[0] + (e % 2 ? 1000 : -1000) + (e % 3 == 0 ? (gint) (e % 7) - 3 : 0));
    q.lo = 0;
    q.hi = 65535;
  }
  check_levels (tc->name, g, &prog, in, tc->w, tc->h);
  if (tc->kind == CONV_TIES) {
    /* ref itself: acc / 2^32 on the tie rounds away from zero */
    gsize n;
    g_autofree guint16 *want = ref_run (g, &prog, in, tc->w, tc->h, &n);
    g_assert_cmpuint (want[1], ==, (guint) (q.z_out + 4096 + 1));   /* channel 0, +1000 */
  }
  cfqp_int8_node_clear (&q);
  cfqp_graph_free (g);
}

/* Per channel: a multiplier that puts t near 2^35 (random), or powers of
 * two that land the final shift by 20 on exact halves (ties). */
static void
binary_multipliers (GRand *rand, CfqpInt8Node *q, guint c_n, gboolean mul)
{
  for (guint c = 0; c < c_n; c++)
    if (c % 2) {
      q->rq_in[c] = (CfqpRequant) { g_rand_int_range (rand, 1 << 30, G_MAXINT32),
                                    mul ? 30 : 14 };
      q->rq_in[c_n + c] = (CfqpRequant) { -g_rand_int_range (rand, 1 << 30, G_MAXINT32), 14 };
    } else {
      /* a: ·2^19 (add/sub: half a 2^20 unit per step), b: ·2^20 */
      q->rq_in[c] = (CfqpRequant) { 1 << 30, mul ? 26 : 11 };
      q->rq_in[c_n + c] = (CfqpRequant) { 1 << 30, 10 };
    }
}

static const char *const binary_names[] = { "add", "sub", "mul" };

static void
test_binary (gconstpointer data)
{
  CfqpBinaryKind kind = GPOINTER_TO_UINT (data);
  g_autoptr (GRand) rand = g_rand_new_with_seed (17 + kind);
  const guint C = 6, w = 23, h = 7;
  CfqpGraph *g = cfqp_graph_new ();
  CfqpNode *node;
  CfqpInt8Node q = { 0 };
  CfqpInt8Program prog = { .bits = 16, .n_nodes = 1, .nodes = &q };
  g_autofree guint16 *in = NULL;

  cfqp_graph_add_value (g, "input", C, -1);
  node = graph_add_node (g, CFQP_OP_BINARY, "node", 0, 0, C);
  node->p.binary.kind = kind == 0 ? CFQP_BINARY_ADD : kind == 1 ? CFQP_BINARY_SUB :
      CFQP_BINARY_MUL;
  q.rq_in = g_new (CfqpRequant, 2 * C);
  q.offset = g_new (gint64, C);
  binary_multipliers (rand, &q, C, kind == 2);
  for (guint c = 0; c < C; c++)
    q.offset[c] = c % 3 == 0 ? 0 : g_rand_int_range (rand, -(1 << 30), 1 << 30) * (gint64) 64;
  q.z_in[0] = 31001;
  q.z_in[1] = 12345;
  q.z_out = 33000;
  q.lo = 7;
  q.hi = 65530;
  in = random_levels (rand, (gsize) C * w * h, 0, 65535);
  check_levels (binary_names[kind], g, &prog, in, w, h);
  cfqp_int8_node_clear (&q);
  cfqp_graph_free (g);
}

/* Standalone activations and concat: ref_rescale, both sides of the zero
 * point, ties (d/2) on even channels. */
static void
test_rescale (gconstpointer data)
{
  gboolean concat = GPOINTER_TO_UINT (data);
  g_autoptr (GRand) rand = g_rand_new_with_seed (99 + concat);
  const guint C = 5, w = 19, h = 6, k_n = concat ? 2 : 1, out_c = C * k_n;
  CfqpGraph *g = cfqp_graph_new ();
  CfqpInt8Node q = { 0 };
  CfqpInt8Program prog = { .bits = 16, .n_nodes = 1, .nodes = &q };
  g_autofree guint16 *in = NULL;

  cfqp_graph_add_value (g, "input", C, -1);
  graph_add_node (g, concat ? CFQP_OP_CONCAT : CFQP_OP_ACTIVATION, "node", 0, concat ? 0 : -1,
      out_c);
  q.rq_in = g_new (CfqpRequant, (gsize) k_n * 2 * out_c);
  q.z_inputs = g_new (gint32, k_n);
  for (guint e = 0; e < k_n * 2 * out_c; e++)
    q.rq_in[e] = e % 2 ? (CfqpRequant) { g_rand_int_range (rand, -G_MAXINT32, G_MAXINT32), 31 } :
        (CfqpRequant) { 1 << 30, 31 };
  q.z_inputs[0] = q.z_in[0] = 40000;
  if (concat)
    q.z_inputs[1] = 2001;
  q.z_out = 25000;
  q.lo = 25000;   /* ReLU */
  q.hi = 65535;
  if (!concat)
    q.lo = 100;
  in = random_levels (rand, (gsize) C * w * h, 0, 65535);
  check_levels (concat ? "concat" : "activation", g, &prog, in, w, h);
  cfqp_int8_node_clear (&q);
  cfqp_graph_free (g);
}

/* The data moves copy levels. */
static void
test_moves (void)
{
  static const CfqpOpType ops[] = { CFQP_OP_DEPTH_TO_SPACE, CFQP_OP_SPACE_TO_DEPTH,
                                    CFQP_OP_RESIZE_NEAREST, CFQP_OP_TILE_CHANNELS };
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);

  for (guint k = 0; k < G_N_ELEMENTS (ops); k++) {
    CfqpGraph *g = cfqp_graph_new ();
    CfqpInt8Node q = { 0 };
    CfqpInt8Program prog = { .bits = 16, .n_nodes = 1, .nodes = &q };
    guint C = 8, out_c = ops[k] == CFQP_OP_DEPTH_TO_SPACE ? 2 :
        ops[k] == CFQP_OP_SPACE_TO_DEPTH ? 32 : ops[k] == CFQP_OP_TILE_CHANNELS ? 24 : 8;
    CfqpNode *n;
    g_autofree guint16 *in = random_levels (rand, (gsize) C * 14 * 6, 0, 65535);

    cfqp_graph_add_value (g, "input", C, -1);
    n = graph_add_node (g, ops[k], "node", 0, -1, out_c);
    n->p.shuffle.block = 2;
    n->p.shuffle.mode = k % 2 ? CFQP_D2S_DCR : CFQP_D2S_CRD;
    if (ops[k] == CFQP_OP_RESIZE_NEAREST)
      n->p.resize.scale_h = n->p.resize.scale_w = 2;
    else if (ops[k] == CFQP_OP_TILE_CHANNELS) {
      n->p.tile.repeats = 3;
      n->p.tile.interleave = TRUE;
    }
    check_levels (cfqp_op_type_to_string (ops[k]), g, &prog, in, 14, 6);
    cfqp_graph_free (g);
  }
}

/* The frame's ends: every byte in as 64·b, out as round(q/64) ties up and
 * saturated: channel 0 halves (32·b, a tie for odd b), 1 copies, 2 takes
 * ×4 (beyond 255.5 bytes from b = 64). */
static void
test_ends (void)
{
  CfqpGraph *g = cfqp_graph_new ();
  CfqpInt8Node q = { 0 };
  CfqpInt8Program prog = { .bits = 16, .n_nodes = 1, .nodes = &q };
  static const CfqpRequant rq[3] = { { 1 << 30, 31 }, { 1 << 30, 30 }, { 1 << 30, 28 } };
  guint8 in[3 * 256], got[3 * 256], want[3 * 256];
  guint16 in16[3 * 256];
  g_autofree guint16 *ref = NULL;
  g_autoptr (GError) error = NULL;
  CfqpExecutor *exec;
  gsize n;

  cfqp_graph_add_value (g, "input", 3, -1);
  graph_add_node (g, CFQP_OP_ACTIVATION, "node", 0, -1, 3);
  q.rq_in = g_new (CfqpRequant, 6);
  q.z_inputs = g_new0 (gint32, 1);
  for (guint c = 0; c < 3; c++)
    q.rq_in[c] = q.rq_in[3 + c] = rq[c];
  q.hi = 65535;
  for (guint e = 0; e < G_N_ELEMENTS (in); e++) {
    in[e] = (guint8) e;
    in16[e] = (guint16) (in[e] * CFQP_INT16_STEPS_PER_U8);
  }
  ref = ref_run (g, &prog, in16, 256, 1, &n);
  for (gsize e = 0; e < n; e++)
    want[e] = cfqp_int16_to_byte (ref[e]);
  g_assert_cmpuint (want[1], ==, 1);      /* 32: a tie, up */
  g_assert_cmpuint (want[256 + 7], ==, 7);
  g_assert_cmpuint (want[512 + 70], ==, 255);
  if ((exec = exec_new (g, 0))) {
    g_assert_true (exec->klass->set_program (exec, &prog, &error));
    g_assert_true (exec->klass->run (exec, in, 256, 1, got, &error));
    g_assert_no_error (error);
    g_assert_cmpmem (got, sizeof got, want, sizeof want);
    /* one upload and one download, of the frame's bytes */
    {
      guint64 up, down;
      g_assert_cmpuint (cfqp_opencl_exec_get_frame_transfers (exec, &up, &down), ==, 2);
      g_assert_cmpuint (up, ==, sizeof in);
      g_assert_cmpuint (down, ==, sizeof got);
    }
    exec->klass->free (exec);
  }
  cfqp_int8_node_clear (&q);
  cfqp_graph_free (g);
}

/* A node no INT16 kernel runs: refused when the program is set, naming it. */
static void
test_refused (void)
{
  CfqpGraph *g = cfqp_graph_new ();
  CfqpInt8Node q = { 0 };
  CfqpInt8Program prog8 = { .bits = 8, .n_nodes = 1, .nodes = &q };
  CfqpInt8Program prog = { .bits = 16, .n_nodes = 1, .nodes = &q };
  g_autoptr (GError) error = NULL;
  CfqpExecutor *exec;
  CfqpNode *n;

  cfqp_graph_add_value (g, "input", 3, -1);
  n = graph_add_node (g, CFQP_OP_TILE_CHANNELS, "node", 0, -1, 3);
  n->p.tile.repeats = 1;
  if (!(exec = exec_new (g, 0))) {
    cfqp_graph_free (g);
    return;
  }
  g_assert_false (exec->klass->set_program (exec, &prog8, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  n->op = CFQP_OP_N_OPS;   /* an op the kernels do not know */
  g_free (n->name);
  n->name = g_strdup ("mystery");
  g_assert_false (exec->klass->set_program (exec, &prog, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'mystery'"));
  g_test_message ("%s", error->message);
  exec->klass->free (exec);
  n->op = CFQP_OP_TILE_CHANNELS;
  cfqp_graph_free (g);
}

/* --- the shipped anchorless nets ------------------------------------------ */

static guint8 *
photo_packed (guint w, guint h)
{
  g_autofree char *png = test_data_path ("images", "demo-hr.png");
  guint pw, ph;
  g_autofree guint8 *rgb = test_png_load_rgb (png, &pw, &ph);
  guint8 *crop = g_malloc ((gsize) 3 * w * h);

  for (guint y = 0; y < h; y++)
    memcpy (crop + (gsize) y * w * 3, rgb + ((gsize) (y + 40) * pw + 30) * 3, (gsize) w * 3);
  return crop;
}

static guint8 *
runner_bytes (CfqpModel *model, CfqpCalibration *calib, const CfqpQParams *qp,
    CfqpBackendKind backend, const guint8 *in, guint w, guint h, guint scale)
{
  g_autoptr (GError) error = NULL;
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  CfqpPackedLayout rgb = { 3, 0, 1, 2, -1 };
  CfqpRunner *r;
  guint8 *out = g_malloc ((gsize) 3 * scale * w * scale * h);

  o.precision = CFQP_PRECISION_INT16;
  o.backend = backend;
  o.device = device ();
  o.n_threads = 2;
  cfqp_calibration_fill_runner_options (calib, qp, &o);
  r = cfqp_runner_new (model, &o, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (cfqp_runner_get_active_backend (r),
      backend == CFQP_BACKEND_OPENCL ? "opencl:" : "cpu"));
  g_assert_true (cfqp_runner_run_packed (r, &rgb, in, (gsize) w * 3, w, h, out,
      (gsize) scale * w * 3, &error));
  g_assert_no_error (error);
  cfqp_runner_free (r);
  return out;
}

static void
test_shipped (gconstpointer data)
{
  const char *name = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *mpath = g_strdup_printf ("%s/%s.onnx", CFQP_MODELS_DIR, name);
  g_autofree char *cpath = g_strdup_printf ("%s/%s.calib.json", CFQP_MODELS_DIR, name);
  g_autoptr (CfqpModel) loaded = cfqp_model_new_from_file (mpath, &error);
  g_autoptr (CfqpCalibration) calib = cfqp_calibration_load (cpath, NULL, &error);
  g_autoptr (CfqpModel) model = NULL;
  g_autofree CfqpQParams *qp = NULL;
  g_autofree guint8 *packed = NULL, *cpu = NULL, *cl = NULL;
  g_autofree guint16 *in16 = NULL;
  /* odd sizes; bicubicpp halves its input first, so its sides are even
   * and odd inside */
  gboolean halves = g_str_has_prefix (name, "bicubicpp");
  guint w = halves ? 62 : 61, h = halves ? 38 : 37, scale;
  CfqpQuantisation quant;
  CfqpInt8Program *prog;
  const CfqpGraph *g;
  gsize n_out;

  g_assert_no_error (error);
  model = cfqp_calibration_new_run_model (calib, loaded);
  qp = cfqp_calibration_to_qparams (calib, model, &error);
  g_assert_no_error (error);
  g = cfqp_model_get_graph (model);
  scale = cfqp_model_get_scale (model);
  quant = cfqp_calibration_get_quantisation (calib, qp);
  prog = cfqp_int8_program_new_bits (g, &quant, 16, &error);
  g_assert_no_error (error);

  /* the output's levels, from the photo's bytes on the input grid */
  packed = photo_packed (w, h);
  in16 = g_new (guint16, (gsize) 3 * w * h);
  for (guint c = 0; c < 3; c++)
    for (gsize p = 0; p < (gsize) w * h; p++)
      in16[c * w * h + p] = (guint16) (packed[p * 3 + c] * CFQP_INT16_STEPS_PER_U8);
  check_levels (name, g, prog, in16, w, h);
  cfqp_int8_program_free (prog);

  /* and the runner's bytes against the cpu set's (which test-int16 holds
   * to ref), where a device opens */
  {
    g_autoptr (GError) e2 = NULL;
    CfqpExecutor *probe = cfqp_opencl_exec_new (g, CFQP_PRECISION_INT16, 0, 1, device (), FALSE,
        &e2);
    if (!probe)
      return;
    probe->klass->free (probe);
  }
  n_out = (gsize) 3 * scale * w * scale * h;
  cpu = runner_bytes (model, calib, qp, CFQP_BACKEND_CPU, packed, w, h, scale);
  cl = runner_bytes (model, calib, qp, CFQP_BACKEND_OPENCL, packed, w, h, scale);
  g_assert_cmpmem (cl, n_out, cpu, n_out);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (conv_cases); i++) {
    g_autofree char *path = g_strdup_printf ("/int16-opencl/conv/%s", conv_cases[i].name);
    g_test_add_data_func (path, &conv_cases[i], test_conv);
  }
  for (guint k = 0; k < G_N_ELEMENTS (binary_names); k++) {
    g_autofree char *path = g_strdup_printf ("/int16-opencl/binary/%s", binary_names[k]);
    g_test_add_data_func (path, GUINT_TO_POINTER (k), test_binary);
  }
  g_test_add_data_func ("/int16-opencl/activation", GUINT_TO_POINTER (FALSE), test_rescale);
  g_test_add_data_func ("/int16-opencl/concat", GUINT_TO_POINTER (TRUE), test_rescale);
  g_test_add_func ("/int16-opencl/moves", test_moves);
  g_test_add_func ("/int16-opencl/ends", test_ends);
  g_test_add_func ("/int16-opencl/refused", test_refused);
  g_test_add_data_func ("/int16-opencl/shipped/xlsr-x2", "xlsr-x2", test_shipped);
  g_test_add_data_func ("/int16-opencl/shipped/xlsr-x3", "xlsr-x3", test_shipped);
  g_test_add_data_func ("/int16-opencl/shipped/bicubicpp-x2", "bicubicpp-x2", test_shipped);
  g_test_add_data_func ("/int16-opencl/shipped/bicubicpp-x3", "bicubicpp-x3", test_shipped);
  return g_test_run ();
}
