/* Every INT8 backend against `ref`, byte for byte, where the arithmetic
 * decides bytes (docs/int8-arithmetic.md):
 *
 *  - each op wrapped between convs, so that its input and output are not
 *    the graph's pixel grid: zero points differ from 0 on both sides,
 *    negative values reach every requantisation (convs with z_in, z_out ≠ 0
 *    pad with the zero point and use the negative-side multiplier; the ORC
 *    rescale and the add/sub tables see results below the zero point);
 *  - the same graphs with power-of-two scales and weights whose scale is a
 *    power of two, so that acc·m / 2^shift lands on exact halves of both
 *    signs in the requant rows, the AVX-512 epilogue, the ORC rescale, the
 *    binary tables and OpenCL;
 *  - every shipped model (each models/NAME.onnx with its calibration) on crops of
 *    the shipped photos.
 *
 * Backends: the cpu set with each conv kernel family (every
 * CfqpInt8CpuGemmKind: auto, dot, c4, orc, native; a family the CPU or the
 * build lacks falls back as documented, so it still runs) and each
 * elementwise form (AVX-512 direct add, ORC, tables), each node's rows
 * computed in three ranges as workers split them, on views whose row and
 * plane padding must stay untouched; and OpenCL on $CFQP_OPENCL_DEVICE (or
 * device 0) when the build and the machine have it. */
#include "config.h"

#include "cfqp-calib.h"
#include "cfqp-executor.h"
#include "cfqp-int8-cpu-lut.h"
#include "cfqp-int8-cpu-private.h"
#include "cfqp-model-private.h"
#ifdef HAVE_OPENCL
#include "cfqp-opencl.h"
#endif
#include "cfqp-plan.h"
#include "ref-f64.h"
#include "test-png.h"

#include <math.h>
#include <string.h>

#define PAD_BYTE 0xa5

/* --- running a graph node by node ---------------------------------------- */

/* The elementwise forms of the cpu set (add/sub/mul, activations,
 * concat): what pack picks (the AVX-512 direct add where the CPU has it),
 * the ORC forms where they are exact (else tables), the tables alone. */
typedef enum { ELEM_PACKED, ELEM_ORC, ELEM_TABLES, ELEM_N } ElemForm;
static const char *const elem_names[] = { "", "+elementwise-orc", "+elementwise-tables" };

typedef struct {
  const char           *name;
  const CfqpInt8Backend *set;      /* ops and free_packed */
  gboolean              cpu;       /* pack convs with kind, others with set->pack */
  CfqpInt8CpuGemmKind   kind;
  ElemForm              elem;
} Backend;

static const char *const kind_names[] = { "auto", "dot", "c4", "orc", "wino", "native" };
G_STATIC_ASSERT (G_N_ELEMENTS (kind_names) == CFQP_INT8_CPU_GEMM_N_KINDS);

static CfqpU8View
view_new (const CfqpShape *s)
{
  gsize row_stride = s->w + (8 - s->w % 8) % 8 + 8;
  CfqpU8View v = { NULL, s->c, s->h, s->w, row_stride, row_stride * s->h + 16 };

  v.data = g_malloc (v.plane_stride * MAX (s->c, 1));
  memset (v.data, PAD_BYTE, v.plane_stride * MAX (s->c, 1));
  return v;
}

/* Runs the program on planar bytes in (graph input, w×h); returns the
 * planar output.  Fails the test if a kernel wrote into view padding. */
static guint8 *
host_run (const CfqpGraph *g, CfqpInt8Program *prog, const Backend *b, const guint8 *in,
    guint w, guint h, gsize *n_out)
{
  g_autofree CfqpShape *shapes = g_new (CfqpShape, g->n_values);
  g_autofree CfqpU8View *views = g_new0 (CfqpU8View, g->n_values);
  g_autoptr (GError) error = NULL;
  const CfqpShape *os;
  guint8 *out;

  g_assert_true (cfqp_graph_infer_shapes (g, w, h, shapes, &error));
  g_assert_no_error (error);
  for (guint v = 0; v < g->n_values; v++)
    views[v] = view_new (&shapes[v]);
  for (guint c = 0; c < shapes[0].c; c++)
    for (guint y = 0; y < h; y++)
      memcpy (views[0].data + c * views[0].plane_stride + y * views[0].row_stride,
          in + ((gsize) c * h + y) * w, w);

  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *n = &g->nodes[i];
    CfqpInt8Node *q = &prog->nodes[i];
    g_autofree CfqpU8View *ins = g_new (CfqpU8View, n->n_inputs);
    CfqpU8View *o = &views[n->output];
    guint cuts[4] = { 0, o->h / 3, o->h - o->h / 4, o->h };

    if (b->cpu && (n->op == CFQP_OP_CONV || n->op == CFQP_OP_CONV_TRANSPOSE))
      q->packed = cfqp_int8_cpu_conv_pack_kind (n, q, b->kind);
    else if (b->cpu && b->elem != ELEM_PACKED && (n->op == CFQP_OP_BINARY ||
        n->op == CFQP_OP_ACTIVATION || n->op == CFQP_OP_CONCAT))
      q->packed = cfqp_int8_cpu_lut_pack_with (n, q, b->elem == ELEM_ORC, FALSE);
    else if (b->cpu)
      q->packed = b->set->pack (n, q);
    for (guint k = 0; k < n->n_inputs; k++)
      ins[k] = views[n->inputs[k]];
    for (guint r = 0; r < 3; r++)
      if (cuts[r + 1] > cuts[r])
        b->set->ops[n->op] (n, q, ins, o, cuts[r], cuts[r + 1]);
    if (q->packed)
      b->set->free_packed (g_steal_pointer (&q->packed));
  }

  os = &shapes[g->output];
  *n_out = cfqp_shape_elements (os);
  out = g_malloc (*n_out);
  for (guint v = 0; v < g->n_values; v++) {
    const CfqpU8View *vv = &views[v];
    for (gsize e = 0; e < vv->plane_stride * vv->c; e++) {
      gsize y = e % vv->plane_stride / vv->row_stride, x = e % vv->plane_stride % vv->row_stride;
      if ((y >= vv->h || x >= vv->w) && vv->data[e] != PAD_BYTE)
        g_error ("%s: tensor '%s': a kernel wrote into the view's padding", b->name,
            g->values[v].name);
    }
  }
  for (guint c = 0; c < os->c; c++)
    for (guint y = 0; y < os->h; y++)
      memcpy (out + ((gsize) c * os->h + y) * os->w,
          views[g->output].data + c * views[g->output].plane_stride +
          y * views[g->output].row_stride, os->w);
  for (guint v = 0; v < g->n_values; v++)
    g_free (views[v].data);
  return out;
}

#ifdef HAVE_OPENCL
static const char *
opencl_device (void)
{
  const char *d = g_getenv ("CFQP_OPENCL_DEVICE");
  return d && *d ? d : "0";
}

/* NULL (with a message) when no OpenCL device can run it. */
static guint8 *
opencl_run (const CfqpGraph *g, const CfqpInt8Program *prog, const guint8 *in, guint w,
    guint h, gsize n_out)
{
  g_autoptr (GError) error = NULL;
  CfqpExecutor *exec = cfqp_opencl_exec_new (g, CFQP_PRECISION_INT8, 0, 1, opencl_device (),
      FALSE, &error);
  guint8 *out;

  if (!exec) {
    g_test_message ("no OpenCL: %s", error->message);
    return NULL;
  }
  g_assert_true (exec->klass->set_program (exec, prog, &error));
  g_assert_no_error (error);
  out = g_malloc (n_out);
  g_assert_true (exec->klass->run (exec, in, w, h, out, &error));
  g_assert_no_error (error);
  exec->klass->free (exec);
  return out;
}
#endif

static void
compare (const char *what, const char *backend, const guint8 *got, const guint8 *want, gsize n)
{
  for (gsize k = 0; k < n; k++)
    if (got[k] != want[k])
      g_error ("%s: %s: byte %" G_GSIZE_FORMAT " is %u, ref says %u", what, backend, k,
          got[k], want[k]);
}

/* Every backend on one program and input, against ref. */
static void
check_all_backends (const char *what, const CfqpGraph *g, CfqpInt8Program *prog,
    const guint8 *in, guint w, guint h)
{
  static const Backend ref = { "ref", &cfqp_int8_ref_backend, FALSE, 0, 0 };
  gsize n_out, n;
  g_autofree guint8 *want = host_run (g, prog, &ref, in, w, h, &n_out);

  /* each conv kernel family with the packed elementwise forms, then the
   * other elementwise forms (with the auto convs) */
  for (guint k = 0; k < CFQP_INT8_CPU_GEMM_N_KINDS + ELEM_N - 1; k++) {
    CfqpInt8CpuGemmKind kind = k < CFQP_INT8_CPU_GEMM_N_KINDS ? k : CFQP_INT8_CPU_GEMM_AUTO;
    ElemForm elem = k < CFQP_INT8_CPU_GEMM_N_KINDS ? ELEM_PACKED :
        (ElemForm) (k - CFQP_INT8_CPU_GEMM_N_KINDS + 1);
    g_autofree char *name = g_strdup_printf ("cpu/%s%s", kind_names[kind], elem_names[elem]);
    Backend b = { name, &cfqp_int8_cpu_backend, TRUE, kind, elem };
    g_autofree guint8 *got = host_run (g, prog, &b, in, w, h, &n);
    g_assert_cmpuint (n, ==, n_out);
    compare (what, name, got, want, n_out);
  }
#ifdef HAVE_OPENCL
  {
    g_autofree guint8 *got = opencl_run (g, prog, in, w, h, n_out);
    if (got)
      compare (what, "opencl", got, want, n_out);
  }
#endif
}

/* --- input bytes: a real photo crop ---------------------------------------- */

static guint8 *
photo_planar (const char *file, guint c_n, guint x0, guint y0, guint w, guint h)
{
  const char *data = g_getenv ("CFQP_TEST_DATA");
  g_autofree char *path = g_build_filename (data ? data : CFQP_MODELS_DIR "/../tests/data",
      "images", file, NULL);
  guint pw, ph;
  g_autofree guint8 *rgb = test_png_load_rgb (path, &pw, &ph);
  guint8 *out = g_malloc ((gsize) c_n * w * h);

  for (guint c = 0; c < c_n; c++)
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        out[((gsize) c * h + y) * w + x] =
            rgb[(((gsize) (y0 + y) % ph) * pw + (x0 + x) % pw) * 3 + c % 3];
  return out;
}

/* --- op cases between convs --------------------------------------------------- */

static CfqpNode *
add_node (CfqpGraph *g, CfqpOpType op, guint n_inputs, const guint *inputs, guint out_c)
{
  char *name = g_strdup_printf ("n%u", g->n_nodes);
  guint out = cfqp_graph_add_value (g, name, out_c, g->n_nodes);
  CfqpNode *n = cfqp_graph_add_node (g, op, name);

  g_free (name);
  n->n_inputs = n_inputs;
  n->inputs = g_memdup2 (inputs, n_inputs * sizeof (guint));
  n->output = out;
  n->out_channels = out_c;
  g->output = out;
  return n;
}

/* pow2: weights on a 2^-7 grid with one ±127/128 per output channel, so
 * that the weight scale is exactly 2^-7 */
static CfqpNode *
add_conv (CfqpGraph *g, guint in, guint ic, guint oc, guint k, guint groups, gboolean pow2,
    GRand *rand)
{
  CfqpNode *n = add_node (g, CFQP_OP_CONV, 1, &in, oc);
  CfqpConvParams *c = &n->p.conv;
  gsize per_oc = (gsize) (ic / groups) * k * k;

  c->kernel_h = c->kernel_w = k;
  c->stride_h = c->stride_w = c->dilation_h = c->dilation_w = 1;
  c->pad_t = c->pad_l = c->pad_b = c->pad_r = k / 2;
  c->groups = groups;
  c->in_channels = ic;
  c->out_channels = oc;
  c->weight = ref_random_floats (rand, oc * per_oc, -1.f, 1.f);
  c->bias = ref_random_floats (rand, oc, -0.4f, 0.4f);
  if (pow2)
    for (guint o = 0; o < oc; o++) {
      float *w = c->weight + o * per_oc;
      for (gsize t = 0; t < per_oc; t++)
        w[t] = CLAMP (roundf (w[t] * 128.f), -127.f, 127.f) / 128.f;
      w[g_rand_int_range (rand, 0, (gint) per_oc)] = o % 2 ? -127.f / 128.f : 127.f / 128.f;
    }
  return n;
}

typedef enum { MID_CONV_LEAKY, MID_CONV_PRELU_DIL, MID_CONV_GROUPED, MID_CONV_1X1_CLIP,
               MID_CONV_5X5_TAIL, MID_CONV_TRANSPOSE,
               MID_LEAKY, MID_PRELU, MID_RELU, MID_CLIP,
               MID_ADD, MID_SUB, MID_MUL, MID_ADD_RELU, MID_SUB_CLIP, MID_ADD_CLIP_MIN_OVER_MAX,
               MID_ADD_CONST, MID_CONST_SUB, MID_MUL_CONST,
               MID_CONCAT, MID_D2S, MID_S2D, MID_RESIZE, MID_TILE,
               MID_N } MidOp;

static const char *const mid_names[] = {
  "conv-leaky", "conv-prelu-dilated", "conv-grouped", "conv-1x1-clip", "conv-5x5-tail",
  "conv-transpose", "leaky", "prelu", "relu", "clip", "add", "sub", "mul", "add-relu",
  "sub-clip", "add-clip-min-over-max", "add-const", "const-sub", "mul-const", "concat",
  "depth-to-space", "space-to-depth", "resize-nearest", "tile" };
G_STATIC_ASSERT (G_N_ELEMENTS (mid_names) == MID_N);

static void
set_act (CfqpNode *n, CfqpActKind kind, float lo, float hi, GRand *rand)
{
  n->act.kind = kind;
  n->act.alpha = 0.25f;   /* a power of two: ties on the negative side too */
  n->act.lo = lo;
  n->act.hi = hi;
  if (kind == CFQP_ACT_PRELU) {
    n->act.n_slopes = n->out_channels;
    n->act.slopes = g_new (float, n->out_channels);
    for (guint c = 0; c < n->out_channels; c++)
      n->act.slopes[c] = ldexpf (1.f, -1 - (gint) (c % 3));
  }
}

/* input (3) → conv 3×3 (C, leaky) → op → conv → depth-to-space 2 → output:
 * the op's tensors keep the table's parameters. */
static CfqpGraph *
mid_graph (MidOp op, gboolean pow2, GRand *rand)
{
  const guint C = 12;
  CfqpGraph *g = cfqp_graph_new ();
  CfqpNode *n;
  guint a, b, v, vc = C, up = 1;

  cfqp_graph_add_value (g, "input", 3, -1);
  n = add_conv (g, 0, 3, C, 3, 1, pow2, rand);
  set_act (n, CFQP_ACT_LEAKY_RELU, 0, 0, rand);
  a = n->output;
  switch (op) {
    case MID_CONV_LEAKY:
      n = add_conv (g, a, C, C, 3, 1, pow2, rand);
      set_act (n, CFQP_ACT_LEAKY_RELU, 0, 0, rand);
      break;
    case MID_CONV_PRELU_DIL:
      n = add_conv (g, a, C, 9, 3, 1, pow2, rand);
      n->p.conv.dilation_h = n->p.conv.dilation_w = 2;
      n->p.conv.pad_t = n->p.conv.pad_l = 2;
      n->p.conv.pad_b = n->p.conv.pad_r = 2;
      set_act (n, CFQP_ACT_PRELU, 0, 0, rand);
      vc = 9;
      break;
    case MID_CONV_GROUPED:
      n = add_conv (g, a, C, C, 3, 3, pow2, rand);
      break;
    case MID_CONV_1X1_CLIP:
      n = add_conv (g, a, C, 7, 1, 1, pow2, rand);
      set_act (n, CFQP_ACT_CLIP, -0.3f, 0.4f, rand);
      vc = 7;
      break;
    case MID_CONV_5X5_TAIL:
      n = add_conv (g, a, C, 5, 5, 1, pow2, rand);
      vc = 5;
      break;
    case MID_CONV_TRANSPOSE: {
      CfqpConvParams *c;
      n = add_conv (g, a, C, 4, 3, 1, pow2, rand);
      n->op = CFQP_OP_CONV_TRANSPOSE;
      c = &n->p.conv;
      c->stride_h = c->stride_w = 2;
      c->pad_t = c->pad_l = c->pad_b = c->pad_r = 1;
      c->output_pad_h = c->output_pad_w = 1;
      vc = 4;
      up = 2;
      break;
    }
    case MID_LEAKY: case MID_PRELU: case MID_RELU: case MID_CLIP:
      n = add_node (g, CFQP_OP_ACTIVATION, 1, &a, C);
      set_act (n, op == MID_LEAKY ? CFQP_ACT_LEAKY_RELU : op == MID_PRELU ? CFQP_ACT_PRELU :
          op == MID_RELU ? CFQP_ACT_RELU : CFQP_ACT_CLIP, -0.2f, 0.3f, rand);
      break;
    case MID_ADD: case MID_SUB: case MID_MUL: case MID_ADD_RELU: case MID_SUB_CLIP:
    case MID_ADD_CLIP_MIN_OVER_MAX:
      /* a second operand of its own zero point: a 1×1 conv of a */
      b = add_conv (g, a, C, C, 1, 1, pow2, rand)->output;
      n = add_node (g, CFQP_OP_BINARY, 2, (guint[]) { a, b }, C);
      n->p.binary.kind = op == MID_MUL ? CFQP_BINARY_MUL :
          (op == MID_SUB || op == MID_SUB_CLIP) ? CFQP_BINARY_SUB : CFQP_BINARY_ADD;
      if (op == MID_ADD_RELU)
        set_act (n, CFQP_ACT_RELU, 0, 0, rand);
      else if (op == MID_SUB_CLIP)
        set_act (n, CFQP_ACT_CLIP, -0.25f, 0.5f, rand);
      else if (op == MID_ADD_CLIP_MIN_OVER_MAX)
        set_act (n, CFQP_ACT_CLIP, 0.3f, -0.1f, rand);
      break;
    case MID_ADD_CONST: case MID_CONST_SUB: case MID_MUL_CONST:
      n = add_node (g, CFQP_OP_BINARY, 1, &a, C);
      n->p.binary.kind = op == MID_ADD_CONST ? CFQP_BINARY_ADD :
          op == MID_CONST_SUB ? CFQP_BINARY_SUB : CFQP_BINARY_MUL;
      n->p.binary.n_constant = op == MID_MUL_CONST ? 1 : C;
      n->p.binary.constant = g_new (float, n->p.binary.n_constant);
      for (guint c = 0; c < n->p.binary.n_constant; c++)
        n->p.binary.constant[c] = op == MID_MUL_CONST ? -0.75f : ldexpf (c % 2 ? -1 : 1,
            -(gint) (c % 5));
      n->p.binary.constant_first = op == MID_CONST_SUB;
      break;
    case MID_CONCAT:
      /* a feeds the concat and the 1×1 conv: the concat rescales it */
      b = add_conv (g, a, C, 5, 1, 1, pow2, rand)->output;
      n = add_node (g, CFQP_OP_CONCAT, 2, (guint[]) { a, b }, C + 5);
      vc = C + 5;
      break;
    case MID_D2S:
      n = add_node (g, CFQP_OP_DEPTH_TO_SPACE, 1, &a, C / 4);
      n->p.shuffle.block = 2;
      n->p.shuffle.mode = CFQP_D2S_DCR;
      vc = C / 4;
      up = 2;
      break;
    case MID_S2D:
      n = add_node (g, CFQP_OP_SPACE_TO_DEPTH, 1, &a, 4 * C);
      n->p.shuffle.block = 2;
      n->p.shuffle.mode = CFQP_D2S_DCR;
      vc = 4 * C;
      break;
    case MID_RESIZE:
      n = add_node (g, CFQP_OP_RESIZE_NEAREST, 1, &a, C);
      n->p.resize.scale_h = n->p.resize.scale_w = 2;
      up = 2;
      break;
    case MID_TILE:
      n = add_node (g, CFQP_OP_TILE_CHANNELS, 1, &a, 2 * C);
      n->p.tile.repeats = 2;
      n->p.tile.interleave = TRUE;
      vc = 2 * C;
      break;
    default:
      g_assert_not_reached ();
  }
  v = n->output;
  (void) up;
  v = add_conv (g, v, vc, 12, 3, 1, pow2, rand)->output;
  n = add_node (g, CFQP_OP_DEPTH_TO_SPACE, 1, &v, 3);
  n->p.shuffle.block = 2;
  n->p.shuffle.mode = CFQP_D2S_CRD;
  return g;
}

/* random: scales in [0.004, 0.03], zero points in [1, 254];
 * pow2: scales 2^k / 255 for k in [−2, 2], zero points in [20, 235] */
static CfqpQParams *
mid_table (const CfqpGraph *g, gboolean pow2, GRand *rand)
{
  CfqpQParams *t = g_new (CfqpQParams, g->n_values);

  for (guint v = 0; v < g->n_values; v++) {
    if (pow2)
      t[v] = (CfqpQParams) { ldexpf (1.f / 255.f, g_rand_int_range (rand, -2, 3)),
                             g_rand_int_range (rand, 20, 236) };
    else
      t[v] = (CfqpQParams) { (float) g_rand_double_range (rand, 0.004, 0.03),
                             g_rand_int_range (rand, 1, 255) };
  }
  return t;
}

static void
test_mid (gconstpointer data)
{
  MidOp op = GPOINTER_TO_UINT (data) >> 1;
  gboolean pow2 = GPOINTER_TO_UINT (data) & 1;
  static const guint sizes[][2] = { { 67, 5 }, { 13, 9 }, { 1, 1 } };
  static const guint even[][2] = { { 66, 6 }, { 14, 8 }, { 2, 2 } };   /* space-to-depth 2 */
  g_autoptr (GRand) rand = g_rand_new_with_seed (op * 2 + pow2 + 1);

  for (guint trial = 0; trial < 2; trial++) {
    CfqpGraph *g = mid_graph (op, pow2, rand);
    g_autofree CfqpQParams *table = mid_table (g, pow2, rand);
    g_autoptr (GError) error = NULL;
    CfqpInt8Program *prog = cfqp_int8_program_new (g, table, &error);

    g_assert_no_error (error);
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
      guint w = op == MID_S2D ? even[s][0] : sizes[s][0];
      guint h = op == MID_S2D ? even[s][1] : sizes[s][1];
      g_autofree guint8 *in = photo_planar ("boats-x3.png", 3, 11 * s + 5 * trial, 7, w, h);
      g_autofree char *what = g_strdup_printf ("%s%s trial %u %u×%u", mid_names[op],
          pow2 ? " pow2" : "", trial, w, h);
      check_all_backends (what, g, prog, in, w, h);
    }
    cfqp_int8_program_free (prog);
    cfqp_graph_free (g);
  }
}

/* --- the shipped models on the shipped photos ------------------------------- */

static void
test_shipped_model (gconstpointer data)
{
  const char *onnx = data;
  g_autofree char *stem = g_strndup (onnx, strlen (onnx) - strlen (".onnx"));
  g_autofree char *calib_path = g_strconcat (stem, ".calib.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (onnx, &error);
  g_autoptr (CfqpCalibration) calib = NULL;
  g_autofree CfqpQParams *qp = NULL;
  static const char *const photos[] = { "boats", "forest", "grass" };
  const CfqpGraph *g;
  CfqpInt8Program *prog;
  guint num, den;

  g_assert_no_error (error);
  calib = cfqp_calibration_load (calib_path, NULL, &error);
  g_assert_no_error (error);
  {
    CfqpModel *run = cfqp_calibration_new_run_model (calib, model);
    cfqp_model_unref (model);
    model = run;
  }
  g_assert_true (cfqp_calibration_check_model (calib, model, &error));
  g_assert_no_error (error);
  qp = cfqp_calibration_to_qparams (calib, model, &error);
  g_assert_no_error (error);
  g = cfqp_model_get_graph (model);
  cfqp_model_get_scale_ratio (model, &num, &den);
  {
    CfqpQuantisation q = cfqp_calibration_get_quantisation (calib, qp);

    prog = cfqp_int8_program_new_full (g, &q, &error);
  }
  g_assert_no_error (error);
  /* one crop per photo, odd sizes, the widest over a 64-pixel block (a
   * ×3/2 net: one less, its sides must be even; its crops are <photo>-x1.5) */
  for (guint p = 0; p < G_N_ELEMENTS (photos); p++) {
    static const guint sizes[][2] = { { 71, 9 }, { 33, 17 }, { 5, 3 } };
    g_autofree char *file = g_strdup_printf ("%s-x%g.png", photos[p], (double) num / den);
    guint w = sizes[p][0] - sizes[p][0] % den, h = sizes[p][1] - sizes[p][1] % den;
    g_autofree guint8 *in = photo_planar (file, g->values[0].channels, 40, 30, w, h);
    g_autofree char *what = g_strdup_printf ("%s on %s %u×%u", onnx, file, w, h);
    check_all_backends (what, g, prog, in, w, h);
  }
  cfqp_int8_program_free (prog);
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
main (int argc, char **argv)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) models = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_test_init (&argc, &argv, NULL);
  for (guint op = 0; op < MID_N; op++)
    for (guint pow2 = 0; pow2 < 2; pow2++) {
      g_autofree char *path = g_strdup_printf ("/int8-backends/between-convs/%s/%s",
          mid_names[op], pow2 ? "pow2-ties" : "random");
      g_test_add_data_func (path, GUINT_TO_POINTER (op << 1 | pow2), test_mid);
    }
  dir = g_dir_open (CFQP_MODELS_DIR, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, ".onnx"))
      g_ptr_array_add (models, g_build_filename (CFQP_MODELS_DIR, name, NULL));
  g_ptr_array_sort (models, compare_paths);
  for (guint i = 0; i < models->len; i++) {
    const char *onnx = g_ptr_array_index (models, i);
    g_autofree char *base = g_path_get_basename (onnx);
    g_autofree char *path = g_strdup_printf ("/int8-backends/shipped/%s", base);
    g_test_add_data_func (path, onnx, test_shipped_model);
  }
  return g_test_run ();
}
