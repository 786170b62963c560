/* The `cpu` INT8 kernel set against `ref`, byte for byte: every kernel on
 * random and image data over odd sizes, channel counts off the vector
 * width, strides, dilation, groups, every fused activation and extreme
 * zero points (the cpu set runs ref's own loop for conv transposes,
 * space-to-depth and overflow-prone convs: those cases only check that it
 * still does; the OpenCL kernels for them are compared with ref in
 * test-int8-backends.c); each micro-kernel variant of every ISA level the
 * CPU runs under the CFQP_MAX_CPU_ISA cap (the c4 conv kernels'
 * requantising epilogues included, on exact rounding ties) against the
 * integer formula; the ORC pixel adapters against the C ones; a whole
 * ABPN-like network through cfqp_runner_run_packed, and every shipped model
 * with its calibration.  meson runs it once per level
 * (tests/engine/meson.build). */
#include "cfqp-calib.h"
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu-gemm.h"
#include "cfqp-int8-cpu-lut.h"
#include "cfqp-int8-cpu-pixels.h"
#include "cfqp-int8-cpu-private.h"
#include "cfqp-model-private.h"
#include "cfqp-pixels.h"
#include "minmax-qparams.h"
#include "ref-f64.h"
#include "test-models.h"

#include <math.h>
#include <string.h>
#include "test-png.h"

#define PAD_BYTE 0xa5   /* fills view padding, which kernels must not touch */

/* --- input data ------------------------------------------------------------ */

typedef struct {
  guint8 *rgb;          /* planar 3×h×w */
  guint   w, h;
  const char *source;
} Image;

static Image image;

/* A real photo crop (the shipped test image), planar bytes. */
static void
image_load (void)
{
  g_autofree char *path = test_data_path ("images", "boats-x3.png");
  g_autofree guint8 *packed = test_png_load_rgb (path, &image.w, &image.h);

  image.rgb = g_malloc ((gsize) 3 * image.w * image.h);
  for (gsize p = 0; p < (gsize) image.w * image.h; p++)
    for (guint c = 0; c < 3; c++)
      image.rgb[c * image.w * image.h + p] = packed[p * 3 + c];
  image.source = "boats-x3.png";
}

/* Channel c of an image-backed tensor: an image plane, shifted per channel
 * so channels differ, cropped at an offset. */
static guint8
image_byte (guint c, guint y, guint x)
{
  guint ox = (c * 7) % MAX (image.w / 3, 1), oy = (c * 5) % MAX (image.h / 3, 1);
  guint xx = (x + ox) % image.w, yy = (y + oy) % image.h;
  guint8 v = image.rgb[((gsize) (c % 3) * image.h + yy) * image.w + xx];
  return c >= 3 && c % 2 ? 255 - v : v;
}

/* --- one node: ref vs cpu ------------------------------------------------- */

typedef enum { DATA_RANDOM, DATA_IMAGE } DataKind;

/* A view with padding after each row and each plane: odd amounts, or
 * multiples of 8 that keep rows aligned for the ORC paths. */
static CfqpU8View
padded_view_aligned (guint c, guint h, guint w, gboolean align)
{
  guint row_pad = align ? (8 - w % 8) % 8 + 8 : 5;
  gsize row_stride = w + row_pad;
  CfqpU8View v = { NULL, c, h, w, row_stride, row_stride * h + (align ? 16 : 11) };
  gsize n = v.plane_stride * c;
  v.data = g_malloc (n);
  memset (v.data, PAD_BYTE, n);
  return v;
}

static CfqpU8View
padded_view (guint c, guint h, guint w)
{
  return padded_view_aligned (c, h, w, FALSE);
}

static guint8 *
view_at (const CfqpU8View *v, guint c, guint y, guint x)
{
  return v->data + c * v->plane_stride + y * v->row_stride + x;
}

static CfqpQParams
qparams_with_zero (GRand *rand, guint which)
{
  /* zero points at both ends of the range and in between */
  static const gint32 zeros[] = { 0, 255, -1 };
  gint32 z = zeros[which % 3];
  CfqpQParams q = { (float) g_rand_double_range (rand, 0.003, 0.03),
                    z >= 0 ? z : g_rand_int_range (rand, 1, 255) };
  return q;
}

typedef struct {
  char       name[96];
  CfqpOpType op;
  guint      in_c, out_c, n_inputs, w, h;
  guint      k, stride, dil, groups;
  CfqpActKind act;
  guint      variant;   /* op-specific: block, kind… */
} Case;

static void
setup_node (CfqpNode *n, const Case *tc, GRand *rand)
{
  if (tc->op == CFQP_OP_CONV || tc->op == CFQP_OP_CONV_TRANSPOSE) {
    CfqpConvParams *c = &n->p.conv;
    gsize nw;
    c->kernel_h = c->kernel_w = tc->k;
    c->stride_h = c->stride_w = tc->stride;
    c->dilation_h = c->dilation_w = tc->dil;
    c->groups = tc->groups;
    c->in_channels = tc->in_c;
    c->out_channels = tc->out_c;
    if (tc->op == CFQP_OP_CONV) {
      /* asymmetric pads when variant says so */
      c->pad_t = c->pad_l = (tc->k / 2) * tc->dil;
      c->pad_b = c->pad_r = (tc->k / 2) * tc->dil + (tc->variant & 1);
    } else {
      c->pad_t = c->pad_l = c->pad_b = c->pad_r = tc->k / 2;
      c->output_pad_h = c->output_pad_w = tc->stride - 1;
    }
    nw = (gsize) tc->out_c * (tc->in_c / tc->groups) * tc->k * tc->k;
    c->weight = ref_random_floats (rand, nw, -0.5f, 0.5f);
    c->bias = ref_random_floats (rand, tc->out_c, -0.3f, 0.3f);
    if (tc->variant & 2) {
      /* a pad value that is not the zero point (folded normalisation) */
      c->pad_value = ref_random_floats (rand, tc->in_c, -0.2f, 0.4f);
    }
  } else if (tc->op == CFQP_OP_BINARY) {
    n->p.binary.kind = (CfqpBinaryKind) (tc->variant % 3);
    if (tc->n_inputs == 1) {
      n->p.binary.n_constant = tc->variant >= 3 ? 1 : tc->out_c;
      n->p.binary.constant = ref_random_floats (rand, n->p.binary.n_constant, -0.6f, 0.6f);
      n->p.binary.constant_first = tc->variant % 2;
    }
  } else if (tc->op == CFQP_OP_DEPTH_TO_SPACE || tc->op == CFQP_OP_SPACE_TO_DEPTH) {
    n->p.shuffle.block = tc->variant / 2;
    n->p.shuffle.mode = tc->variant % 2 ? CFQP_D2S_DCR : CFQP_D2S_CRD;
  } else if (tc->op == CFQP_OP_RESIZE_NEAREST) {
    n->p.resize.scale_h = tc->variant / 10;
    n->p.resize.scale_w = tc->variant % 10;
  } else if (tc->op == CFQP_OP_TILE_CHANNELS) {
    n->p.tile.repeats = tc->out_c / tc->in_c;
    n->p.tile.interleave = tc->variant;
  }
  switch (tc->act) {
    case CFQP_ACT_RELU:
      n->act.kind = CFQP_ACT_RELU;
      break;
    case CFQP_ACT_CLIP:
      n->act = (CfqpActivation) { CFQP_ACT_CLIP, 0, -0.1f, 0.5f, NULL, 0 };
      break;
    case CFQP_ACT_LEAKY_RELU:
      n->act.kind = CFQP_ACT_LEAKY_RELU;
      n->act.alpha = 0.1f;
      break;
    case CFQP_ACT_PRELU:
      n->act.kind = CFQP_ACT_PRELU;
      n->act.n_slopes = tc->variant & 4 ? 1 : tc->out_c;
      n->act.slopes = ref_random_floats (rand, n->act.n_slopes, 0.02f, 0.5f);
      break;
    default:
      break;
  }
}

static void
check_case (const Case *tc, DataKind data, guint zero_choice, CfqpInt8CpuGemmKind kind)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (g_str_hash (tc->name) + zero_choice * 31 + data);
  CfqpGraph *g = cfqp_graph_new ();
  CfqpNode *node;
  guint in_ids[2] = { 1, 2 };
  g_autofree CfqpQParams *table = NULL;
  g_autoptr (GError) error = NULL;
  CfqpInt8Program *prog;
  CfqpShape shapes[4];
  CfqpU8View in[2], want, got;
  guint cuts[4];
  gpointer packed = NULL;

  cfqp_graph_add_value (g, "input", tc->in_c, -1);
  for (guint k = 0; k < tc->n_inputs; k++)
    cfqp_graph_add_value (g, k ? "b" : "a", tc->in_c, -1);
  node = cfqp_graph_add_node (g, tc->op, tc->name);
  node->n_inputs = tc->n_inputs;
  node->inputs = g_memdup2 (in_ids, tc->n_inputs * sizeof (guint));
  node->out_channels = tc->out_c;
  node->output = cfqp_graph_add_value (g, "out", tc->out_c, 0);
  g->output = 0;
  setup_node (node, tc, rand);

  memset (node->inputs, 0, tc->n_inputs * sizeof (guint));
  g_assert_true (cfqp_graph_infer_shapes (g, tc->w, tc->h, shapes, &error));
  g_assert_no_error (error);
  memcpy (node->inputs, in_ids, tc->n_inputs * sizeof (guint));
  for (guint k = 1; k <= tc->n_inputs; k++)
    shapes[k] = shapes[0];

  table = g_new (CfqpQParams, g->n_values);
  for (guint v = 0; v < g->n_values; v++)
    table[v] = qparams_with_zero (rand, zero_choice + v);
  prog = cfqp_int8_program_new (g, table, &error);
  g_assert_no_error (error);

  for (guint k = 0; k < tc->n_inputs; k++) {
    const CfqpShape *s = &shapes[1 + k];
    in[k] = padded_view_aligned (s->c, s->h, s->w, data == DATA_IMAGE);
    for (guint c = 0; c < s->c; c++)
      for (guint y = 0; y < s->h; y++)
        for (guint x = 0; x < s->w; x++)
          *view_at (&in[k], c, y, x) = data == DATA_IMAGE ? image_byte (c + 3 * k, y, x)
                                                         : (guint8) g_rand_int_range (rand, 0, 256);
  }
  {
    const CfqpShape *s = &shapes[node->output];
    want = padded_view_aligned (s->c, s->h, s->w, data == DATA_IMAGE);
    got = padded_view_aligned (s->c, s->h, s->w, data == DATA_IMAGE);
  }

  cfqp_int8_ref_backend.ops[tc->op] (node, &prog->nodes[0], in, &want, 0, want.h);
  if (tc->op == CFQP_OP_CONV || tc->op == CFQP_OP_CONV_TRANSPOSE)
    packed = prog->nodes[0].packed = cfqp_int8_cpu_conv_pack_kind (node, &prog->nodes[0], kind);
  else
    packed = prog->nodes[0].packed = cfqp_int8_cpu_backend.pack (node, &prog->nodes[0]);
  /* three row ranges, as workers would split them */
  cuts[0] = 0;
  cuts[1] = got.h / 3;
  cuts[2] = got.h - got.h / 4;
  cuts[3] = got.h;
  for (guint r = 0; r < 3; r++)
    if (cuts[r + 1] > cuts[r])
      cfqp_int8_cpu_backend.ops[tc->op] (node, &prog->nodes[0], in, &got, cuts[r], cuts[r + 1]);

  for (gsize e = 0; e < got.plane_stride * got.c; e++)
    if (got.data[e] != want.data[e]) {
      gsize c = e / got.plane_stride, y = e % got.plane_stride / got.row_stride;
      gsize x = e % got.plane_stride % got.row_stride;
      g_error ("%s (%s data, zero points %u, kernel %s): c %zu y %zu x %zu: cpu %u, ref %u",
          tc->name, data == DATA_IMAGE ? "image" : "random", zero_choice,
          packed ? ((CfqpInt8CpuPacked *) packed)->kernel : "-", c, y, x, got.data[e],
          want.data[e]);
    }

  if (packed)
    cfqp_int8_cpu_backend.free_packed (g_steal_pointer (&prog->nodes[0].packed));
  for (guint k = 0; k < tc->n_inputs; k++)
    g_free (in[k].data);
  g_free (want.data);
  g_free (got.data);
  cfqp_int8_program_free (prog);
  cfqp_graph_free (g);
}

static void
test_case (gconstpointer data)
{
  const Case *tc = data;
  gboolean conv = tc->op == CFQP_OP_CONV || tc->op == CFQP_OP_CONV_TRANSPOSE;

  /* convs: each kernel family (C4 falls back to DOT below sse4.1, ORC to
   * native without ORC, WINO to native where the level or the conv has
   * none) */
  CfqpInt8CpuGemmKind first = conv ? CFQP_INT8_CPU_GEMM_DOT : CFQP_INT8_CPU_GEMM_AUTO;
  CfqpInt8CpuGemmKind last = conv ? CFQP_INT8_CPU_GEMM_WINO : CFQP_INT8_CPU_GEMM_AUTO;

  /* grouped convs: also the measured choice and native */
  if (conv && tc->groups > 1) {
    first = CFQP_INT8_CPU_GEMM_AUTO;
    last = CFQP_INT8_CPU_GEMM_NATIVE;
  }

  for (CfqpInt8CpuGemmKind kind = first; kind <= last; kind++)
    for (guint z = 0; z < 3; z++) {
      check_case (tc, DATA_RANDOM, z, kind);
      check_case (tc, DATA_IMAGE, z, kind);
    }
}

/* --- the case list ----------------------------------------------------------- */

static GPtrArray *cases;

static Case *
add_case (CfqpOpType op, guint in_c, guint out_c, guint n_inputs, guint w, guint h)
{
  Case *c = g_new0 (Case, 1);
  *c = (Case) { "", op, in_c, out_c, n_inputs, w, h, 1, 1, 1, 1, CFQP_ACT_NONE, 0 };
  g_ptr_array_add (cases, c);
  return c;
}

static void
add_conv (guint in_c, guint out_c, guint w, guint h, guint k, guint stride, guint dil,
    guint groups, CfqpActKind act, guint variant, gboolean transpose)
{
  Case *c = add_case (transpose ? CFQP_OP_CONV_TRANSPOSE : CFQP_OP_CONV, in_c, out_c, 1, w, h);
  c->k = k;
  c->stride = stride;
  c->dil = dil;
  c->groups = groups;
  c->act = act;
  c->variant = variant;
  g_snprintf (c->name, sizeof c->name, "/int8-cpu/%s/%ux%u-s%u-d%u-g%u/%u-%u/%ux%u/%s/v%u",
      transpose ? "conv-transpose" : "conv", k, k, stride, dil, groups, in_c, out_c, w, h,
      cfqp_act_kind_to_string (act), variant);
}

static void
build_cases (void)
{
  static const guint channels[] = { 3, 5, 27, 28, 33 };
  static const guint widths[] = { 1, 3, 17, 37 };
  static const CfqpActKind acts[] = { CFQP_ACT_NONE, CFQP_ACT_RELU, CFQP_ACT_CLIP,
                                      CFQP_ACT_LEAKY_RELU, CFQP_ACT_PRELU };
  Case *c;

  cases = g_ptr_array_new_with_free_func (g_free);
  /* 3×3 stride 1 and 1×1 over channel counts, widths and activations */
  for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
    for (guint j = 0; j < G_N_ELEMENTS (widths); j++) {
      guint oc = channels[(i + j + 1) % G_N_ELEMENTS (channels)];
      CfqpActKind act = acts[(i + j) % G_N_ELEMENTS (acts)];
      add_conv (channels[i], oc, widths[j], 5 + j, 3, 1, 1, 1, act, i % 4, FALSE);
      add_conv (channels[i], oc, widths[j], 3 + j, 1, 1, 1, 1, acts[(i + 2 * j) % 5], 0, FALSE);
    }
  for (guint a = 0; a < G_N_ELEMENTS (acts); a++)
    add_conv (28, 28, 19, 6, 3, 1, 1, 1, acts[a], a == 4 ? 4 : 0, FALSE);
  /* rows of several 64-pixel blocks with a tail, channel counts on and off
   * the groups of 4 the C4 kernel reads */
  add_conv (28, 28, 131, 4, 3, 1, 1, 1, CFQP_ACT_RELU, 2, FALSE);
  add_conv (3, 28, 200, 3, 3, 1, 1, 1, CFQP_ACT_RELU, 3, FALSE);
  add_conv (8, 27, 64, 3, 3, 1, 1, 1, CFQP_ACT_PRELU, 0, FALSE);
  add_conv (4, 9, 65, 5, 3, 2, 1, 1, CFQP_ACT_LEAKY_RELU, 1, FALSE);
  add_conv (29, 6, 129, 3, 3, 1, 2, 1, CFQP_ACT_CLIP, 0, FALSE);
  add_conv (3, 28, 1, 1, 3, 1, 1, 1, CFQP_ACT_RELU, 0, FALSE);     /* 1×1 frame */
  add_conv (28, 27, 1, 1, 3, 1, 1, 1, CFQP_ACT_NONE, 0, FALSE);
  add_conv (5, 3, 1, 1, 1, 1, 1, 1, CFQP_ACT_NONE, 0, FALSE);
  /* strides, dilation, bigger kernels, 1×1 with stride (the generic gather) */
  add_conv (5, 7, 21, 17, 5, 2, 1, 1, CFQP_ACT_NONE, 1, FALSE);
  add_conv (27, 5, 17, 9, 3, 2, 1, 1, CFQP_ACT_RELU, 2, FALSE);
  add_conv (3, 5, 37, 8, 3, 1, 2, 1, CFQP_ACT_LEAKY_RELU, 0, FALSE);
  add_conv (33, 3, 17, 7, 3, 2, 2, 1, CFQP_ACT_CLIP, 3, FALSE);
  add_conv (28, 5, 17, 7, 1, 2, 1, 1, CFQP_ACT_NONE, 0, FALSE);
  add_conv (3, 33, 3, 3, 7, 1, 1, 1, CFQP_ACT_PRELU, 1, FALSE);
  /* groups and depthwise: each group a 1-group conv on the fast paths
   * (channel-offset views); every kernel kind incl. auto and native */
  add_conv (6, 4, 13, 9, 3, 1, 1, 2, CFQP_ACT_NONE, 0, FALSE);
  add_conv (28, 28, 17, 6, 3, 1, 1, 28, CFQP_ACT_RELU, 0, FALSE);
  add_conv (27, 27, 3, 5, 3, 2, 2, 27, CFQP_ACT_PRELU, 0, FALSE);
  {
    /* channels per group (in, out): on and off the C4 groups of 4 */
    static const guint per_group[][2] = { { 3, 3 }, { 5, 5 }, { 3, 5 }, { 8, 8 }, { 5, 2 },
                                          { 1, 3 } };
    static const guint group_counts[] = { 2, 4, 3 };
    static const guint gwidths[] = { 1, 7, 37, 131 };
    guint n = 0;
    for (guint i = 0; i < G_N_ELEMENTS (per_group); i++)
      for (guint j = 0; j < G_N_ELEMENTS (group_counts); j++, n++) {
        guint gn = group_counts[j], w = gwidths[n % G_N_ELEMENTS (gwidths)];
        guint k = n % 3 == 2 ? 1 : 3, stride = n % 4 == 3 ? 2 : 1;
        add_conv (per_group[i][0] * gn, per_group[i][1] * gn, w, 3 + n % 5, k, stride, 1, gn,
            acts[n % G_N_ELEMENTS (acts)], n % 4, FALSE);
      }
    /* 1×1 frames, padded strides (asymmetric pads, stride 2), dilation,
     * XLSR's shapes (4 groups of 8 → 8, 3×3) */
    add_conv (6, 10, 1, 1, 3, 1, 1, 2, CFQP_ACT_RELU, 0, FALSE);
    add_conv (12, 12, 1, 1, 1, 1, 1, 4, CFQP_ACT_NONE, 0, FALSE);
    add_conv (10, 10, 1, 1, 3, 2, 1, 2, CFQP_ACT_NONE, 1, FALSE);
    add_conv (12, 20, 17, 9, 3, 2, 1, 4, CFQP_ACT_LEAKY_RELU, 1, FALSE);
    add_conv (15, 9, 33, 7, 3, 2, 1, 3, CFQP_ACT_CLIP, 3, FALSE);
    add_conv (10, 6, 21, 8, 5, 2, 1, 2, CFQP_ACT_PRELU, 1, FALSE);
    add_conv (12, 12, 19, 6, 3, 1, 2, 4, CFQP_ACT_RELU, 2, FALSE);
    add_conv (32, 32, 70, 5, 3, 1, 1, 4, CFQP_ACT_RELU, 0, FALSE);
    add_conv (32, 32, 65, 4, 1, 1, 1, 4, CFQP_ACT_NONE, 2, FALSE);
    add_conv (28, 28, 66, 4, 3, 2, 1, 28, CFQP_ACT_RELU, 1, FALSE);
  }
  /* conv transpose: the cpu set runs ref's kernel (ref against ref here) */
  add_conv (4, 3, 11, 7, 3, 2, 1, 1, CFQP_ACT_NONE, 0, TRUE);
  add_conv (5, 5, 3, 1, 3, 1, 1, 1, CFQP_ACT_RELU, 0, TRUE);

  /* elementwise: add, sub, mul of activations; constant forms */
  for (guint v = 0; v < 3; v++)
    for (guint j = 0; j < G_N_ELEMENTS (widths); j++) {
      c = add_case (CFQP_OP_BINARY, 27, 27, 2, widths[j], 4);
      c->variant = v;
      c->act = j % 2 ? CFQP_ACT_RELU : (j == 2 ? CFQP_ACT_CLIP : CFQP_ACT_NONE);
      g_snprintf (c->name, sizeof c->name, "/int8-cpu/binary/%u/two/%u/%s", v, widths[j],
          cfqp_act_kind_to_string (c->act));
    }
  for (guint v = 0; v < 6; v++) {
    c = add_case (CFQP_OP_BINARY, 5, 5, 1, 17, 3);
    c->variant = v;
    c->act = v == 4 ? CFQP_ACT_RELU : CFQP_ACT_NONE;
    g_snprintf (c->name, sizeof c->name, "/int8-cpu/binary/const/%u", v);
  }
  for (guint a = 0; a < G_N_ELEMENTS (acts); a++) {
    c = add_case (CFQP_OP_ACTIVATION, 5, 5, 1, 17, 3);
    c->act = acts[a];
    g_snprintf (c->name, sizeof c->name, "/int8-cpu/activation/%s",
        cfqp_act_kind_to_string (acts[a]));
  }
  c = add_case (CFQP_OP_CONCAT, 3, 6, 2, 37, 5);
  c->act = CFQP_ACT_RELU;
  g_snprintf (c->name, sizeof c->name, "/int8-cpu/concat/relu");
  c = add_case (CFQP_OP_CONCAT, 5, 10, 2, 1, 1);
  g_snprintf (c->name, sizeof c->name, "/int8-cpu/concat/1x1");

  /* data movement: blocks 2 (ORC), 3 (C), 4 (ORC), both modes */
  for (guint b = 2; b <= 4; b++)
    for (guint mode = 0; mode < 2; mode++)
      for (guint j = 0; j < G_N_ELEMENTS (widths); j++) {
        c = add_case (CFQP_OP_DEPTH_TO_SPACE, 3 * b * b, 3, 1, widths[j], 3);
        c->variant = b * 2 + mode;
        g_snprintf (c->name, sizeof c->name, "/int8-cpu/depth-to-space/%u/%s/%u", b,
            mode ? "dcr" : "crd", widths[j]);
      }
  /* the cpu set runs ref's loop (ref against ref here) */
  c = add_case (CFQP_OP_SPACE_TO_DEPTH, 3, 12, 1, 10, 6);
  c->variant = 4;
  g_snprintf (c->name, sizeof c->name, "/int8-cpu/space-to-depth");
  for (guint v = 0; v < 3; v++) {
    static const guint scales[] = { 22, 32, 13 };
    c = add_case (CFQP_OP_RESIZE_NEAREST, 3, 3, 1, 17, 4);
    c->variant = scales[v];
    g_snprintf (c->name, sizeof c->name, "/int8-cpu/resize-nearest/%u", scales[v]);
  }
  for (guint il = 0; il < 2; il++) {
    c = add_case (CFQP_OP_TILE_CHANNELS, 3, 27, 1, 17, 3);
    c->variant = il;
    g_snprintf (c->name, sizeof c->name, "/int8-cpu/tile/%s", il ? "interleave" : "repeat");
  }
}

/* --- pack decisions --------------------------------------------------------- */


static const char *
packed_kernel (const CfqpNode *node, const CfqpInt8Node *q)
{
  const CfqpInt8CpuPacked *head = q->packed;
  return head ? head->kernel : "";
}

static void
test_paths (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_graph (test_model_abpn (3, 28, 2, 3, 5),
      "abpn", &error);
  const CfqpGraph *g = cfqp_model_get_graph (model);
  g_autofree CfqpQParams *table = g_new (CfqpQParams, g->n_values);
  CfqpInt8Program *prog;
  g_autofree char *text = NULL;

  for (guint v = 0; v < g->n_values; v++)
    table[v] = (CfqpQParams) { 0.01f, 10 };
  prog = cfqp_int8_program_new (g, table, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < g->n_nodes; i++)
    prog->nodes[i].packed = cfqp_int8_cpu_native_backend.pack (&g->nodes[i], &prog->nodes[i]);
  text = cfqp_int8_cpu_describe (g, prog);
  g_test_message ("%s", text);
  /* native: the c4 kernel where the config has one, else the dot-product GEMM */
  if (cfqp_int8_cpu_config ()->conv_c4) {
    g_assert_nonnull (strstr (text, "c4 (rows in channel groups of 4) gather"));
    g_assert_nonnull (strstr (text, cfqp_int8_cpu_config ()->conv_c4_name));
  } else {
    g_assert_nonnull (strstr (text, "rows gather"));
  }
  g_assert_nonnull (strstr (text, cfqp_int8_cpu_gemm_isa ()));
  for (guint i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].op == CFQP_OP_CONV)
      g_assert_null (strstr (packed_kernel (&g->nodes[i], &prog->nodes[i]), "ref"));
  for (guint i = 0; i < g->n_nodes; i++)
    if (prog->nodes[i].packed)
      cfqp_int8_cpu_native_backend.free_packed (g_steal_pointer (&prog->nodes[i].packed));
  cfqp_int8_program_free (prog);
}

/* AUTO: each conv shape is timed once per process, later packs (other
 * programs, other models with the same shapes) take the plan; forced sets
 * measure nothing.  The description says which. */
static void
test_plan (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_graph (test_model_abpn (3, 28, 3, 3, 5),
      "abpn", &error);
  const CfqpGraph *g = cfqp_model_get_graph (model);
  g_autofree CfqpQParams *table = g_new (CfqpQParams, g->n_values);
  static const CfqpInt8Backend *const sets[] = { &cfqp_int8_cpu_orc_backend,
      &cfqp_int8_cpu_native_backend, &cfqp_int8_cpu_backend, &cfqp_int8_cpu_backend };
  static const char *const want[] = { "forced", "forced", "measured", "cached" };
  guint shapes;

  cfqp_int8_cpu_conv_plan_clear ();
  for (guint v = 0; v < g->n_values; v++)
    table[v] = (CfqpQParams) { 0.01f, 10 };
  for (guint r = 0; r < G_N_ELEMENTS (sets); r++) {
    CfqpInt8Program *prog = cfqp_int8_program_new (g, table, &error);
    g_autofree char *convs = NULL;
    gint64 t0 = g_get_monotonic_time ();
    g_assert_no_error (error);
    for (guint i = 0; i < g->n_nodes; i++)
      prog->nodes[i].packed = sets[r]->pack (&g->nodes[i], &prog->nodes[i]);
    convs = cfqp_int8_cpu_describe_convs (g, prog);
    g_test_message ("%s: %.1f ms to pack: %s", want[r], (g_get_monotonic_time () - t0) / 1e3,
        convs);
    g_assert_nonnull (strstr (convs, want[r]));
    if (r == 0 && cfqp_int8_cpu_have_orc ())
      g_assert_nonnull (strstr (convs, "orc mac4_u8s8"));
    if (r == 1)
      g_assert_null (strstr (convs, "orc mac4"));
    for (guint i = 0; i < g->n_nodes; i++)
      if (prog->nodes[i].packed)
        sets[r]->free_packed (g_steal_pointer (&prog->nodes[i].packed));
    cfqp_int8_program_free (prog);
    if (r < 2)
      g_assert_cmpuint (cfqp_int8_cpu_conv_plan_n_measured (), ==, 0);
  }
  /* 3→28, 28→28 and 28→27: three shapes, however many layers */
  shapes = cfqp_int8_cpu_conv_plan_n_measured ();
  g_assert_cmpuint (shapes, ==, 3);
}

/* A conv whose int32 sum could overflow goes to the ref kernel (the packed
 * kernel's name says so).  The cpu set then runs ref's own function, so the
 * byte comparison below only guards against a later guard that routes such
 * a layer elsewhere; it cannot see an arithmetic bug in ref. */
/* The end of a one-conv check: its packed data, views, program and graph. */
static void
free_conv_check (CfqpInt8Program *prog, CfqpGraph *g, CfqpU8View *in, CfqpU8View *want,
    CfqpU8View *got)
{
  cfqp_int8_cpu_backend.free_packed (g_steal_pointer (&prog->nodes[0].packed));
  g_free (in->data);
  g_free (want->data);
  g_free (got->data);
  cfqp_int8_program_free (prog);
  cfqp_graph_free (g);
}

/* A graph of one conv as tc describes it (set up by setup_node), its
 * output the graph's output. */
static CfqpNode *
one_conv_graph (CfqpGraph *g, const Case *tc, const char *name, GRand *rand)
{
  CfqpNode *node;

  cfqp_graph_add_value (g, "input", tc->in_c, -1);
  node = cfqp_graph_add_node (g, CFQP_OP_CONV, name);
  node->n_inputs = 1;
  node->inputs = g_new0 (guint, 1);
  node->out_channels = tc->out_c;
  node->output = cfqp_graph_add_value (g, "out", tc->out_c, 0);
  setup_node (node, tc, rand);
  g->output = 0;
  return node;
}

static void
test_overflow_guard (void)
{
  Case tc = { "/int8-cpu/overflow", CFQP_OP_CONV, 4096, 4, 1, 3, 2, 3, 1, 1, 1, CFQP_ACT_NONE, 0 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  CfqpGraph *g = cfqp_graph_new ();
  CfqpNode *node;
  g_autofree CfqpQParams *table = NULL;
  g_autoptr (GError) error = NULL;
  CfqpInt8Program *prog;
  CfqpU8View in, want, got;

  node = one_conv_graph (g, &tc, "big", rand);
  /* every weight at full scale, a bias of ~1.04e9 accumulator steps (the
   * input is the pixel grid, 1/255; weight scale 0.5/127): under the 2^30
   * a bias may hold, over 2^31 with the taps' 1.19e9 */
  for (gsize e = 0; e < (gsize) 4 * 4096 * 9; e++)
    node->p.conv.weight[e] = e % 2 ? 0.5f : 0.49f;
  for (guint oc = 0; oc < 4; oc++)
    node->p.conv.bias[oc] = 16000.f;
  table = g_new (CfqpQParams, 2);
  table[0] = (CfqpQParams) { 1.f, 255 };
  table[1] = (CfqpQParams) { 1000.f, 3 };
  prog = cfqp_int8_program_new (g, table, &error);
  g_assert_no_error (error);
  prog->nodes[0].packed = cfqp_int8_cpu_backend.pack (node, &prog->nodes[0]);
  g_assert_nonnull (strstr (packed_kernel (node, &prog->nodes[0]), "ref kernel"));
  in = padded_view (4096, 2, 3);
  for (guint c = 0; c < 4096; c++)
    for (guint y = 0; y < 2; y++)
      for (guint x = 0; x < 3; x++)
        *view_at (&in, c, y, x) = (guint8) g_rand_int_range (rand, 200, 256);
  want = padded_view (4, 2, 3);
  got = padded_view (4, 2, 3);
  cfqp_int8_ref_backend.ops[CFQP_OP_CONV] (node, &prog->nodes[0], &in, &want, 0, 2);
  cfqp_int8_cpu_backend.ops[CFQP_OP_CONV] (node, &prog->nodes[0], &in, &got, 0, 2);
  g_assert_cmpmem (got.data, got.plane_stride * 4, want.data, want.plane_stride * 4);
  free_conv_check (prog, g, &in, &want, &got);
}

/* Winograd at its bounds: |V| reaches 4·255 (an all-255 patch) and |U'|
 * 9·127 (every tap at +127 or −127), with sign patterns that put the
 * extremes on every transform position, and the pack keeps out a conv
 * past 4·255·Σ|w| < 2^31 (2048 input channels at ±127: 2.34e6 > 2.1e6),
 * which then runs c4 with ref's bytes.  Forced winograd; where the level
 * has no Winograd kernel both runs are native. */
static void
check_wino_conv (guint ic, guint oc, guint w, guint h, gboolean want_wino)
{
  Case tc = { "/int8-cpu/wino", CFQP_OP_CONV, ic, oc, 1, w, h, 3, 1, 1, 1, CFQP_ACT_NONE, 0 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (ic + oc);
  CfqpGraph *g = cfqp_graph_new ();
  CfqpNode *node;
  g_autofree CfqpQParams *table = NULL;
  g_autoptr (GError) error = NULL;
  CfqpInt8Program *prog;
  CfqpU8View in, want, got;
  gboolean have = cfqp_int8_cpu_config ()->conv_wino != NULL;

  node = one_conv_graph (g, &tc, "wino", rand);
  /* channel o: all +, all −, a checkerboard of taps, then random signs;
   * every weight at the channel's full scale, so ±127 */
  for (guint o = 0; o < oc; o++)
    for (gsize e = 0; e < (gsize) ic * 9; e++) {
      gboolean neg = o % 4 == 1 || (o % 4 == 2 && e % 2) || (o % 4 == 3 && g_rand_boolean (rand));
      node->p.conv.weight[(gsize) o * ic * 9 + e] = neg ? -0.5f : 0.5f;
    }
  table = g_new (CfqpQParams, 2);
  table[0] = (CfqpQParams) { 1.f / 255, 0 };
  table[1] = (CfqpQParams) { ic * 0.08f, 128 };
  prog = cfqp_int8_program_new (g, table, &error);
  g_assert_no_error (error);
  prog->nodes[0].packed = cfqp_int8_cpu_conv_pack_kind (node, &prog->nodes[0],
      CFQP_INT8_CPU_GEMM_WINO);
  if (have && want_wino)
    g_assert_nonnull (strstr (packed_kernel (node, &prog->nodes[0]), "wino"));
  else
    g_assert_null (strstr (packed_kernel (node, &prog->nodes[0]), "wino"));
  in = padded_view (ic, h, w);
  /* left third all 255, a band of 0, a 0/255 checkerboard, random bytes */
  for (guint c = 0; c < ic; c++)
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        *view_at (&in, c, y, x) = x < w / 3 ? 255 : x < w / 2 ? 0 :
            x < 3 * w / 4 ? ((x + y + c) % 2 ? 255 : 0) : (guint8) g_rand_int_range (rand, 0, 256);
  want = padded_view (oc, h, w);
  got = padded_view (oc, h, w);
  cfqp_int8_ref_backend.ops[CFQP_OP_CONV] (node, &prog->nodes[0], &in, &want, 0, h);
  /* odd row ranges, as workers split them: a pair's second row must not
   * be written past a range (nor past the last row: h is odd) */
  g_assert_true (h % 2 == 1 && h > 4);
  cfqp_int8_cpu_backend.ops[CFQP_OP_CONV] (node, &prog->nodes[0], &in, &got, 0, 3);
  cfqp_int8_cpu_backend.ops[CFQP_OP_CONV] (node, &prog->nodes[0], &in, &got, 3, 4);
  cfqp_int8_cpu_backend.ops[CFQP_OP_CONV] (node, &prog->nodes[0], &in, &got, 4, h);
  g_assert_cmpmem (got.data, got.plane_stride * oc, want.data, want.plane_stride * oc);
  {
    guint seen[256] = { 0 }, distinct = 0;
    for (gsize e = 0; e < want.plane_stride * oc; e++)
      distinct += !seen[want.data[e]]++;
    g_assert_cmpuint (distinct, >=, 8);   /* not a clamped constant */
  }
  free_conv_check (prog, g, &in, &want, &got);
}

static void
test_wino_bounds (void)
{
  check_wino_conv (8, 8, 45, 7, TRUE);
  check_wino_conv (2048, 4, 5, 5, FALSE);
}

/* A conv whose weights the level's c4_pack refuses (8x4c4__neon: a −128
 * weight) runs without c4, forced or auto, with ref's bytes; its plan
 * entry is its own, so a same-shape conv whose weights the pack took (and
 * whose measured choice may be c4) never hands it a c4 choice.  Only where
 * the level's pack refuses (ARM64 at the neon level). */
static void
test_c4_refused (void)
{
  Case tc = { "/int8-cpu/c4-refused", CFQP_OP_CONV, 16, 8, 1, 40, 6, 3, 1, 1, 1,
              CFQP_ACT_NONE, 0 };
  const CfqpInt8CpuConfig *cfg = cfqp_int8_cpu_config ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  CfqpGraph *g;
  CfqpNode *node;
  g_autofree CfqpQParams *table = NULL;
  g_autoptr (GError) error = NULL;
  CfqpInt8Program *prog;
  CfqpU8View in, want, got;
  gsize n_w = (gsize) 8 * 16 * 9;
  static const CfqpInt8CpuGemmKind kinds[] = { CFQP_INT8_CPU_GEMM_AUTO, CFQP_INT8_CPU_GEMM_AUTO,
                                               CFQP_INT8_CPU_GEMM_NATIVE };
  gint8 probe_w[16] = { G_MININT8 };
  gint32 probe_b[4] = { 0 };

  /* does this level's pack refuse a −128 weight at all? */
  if (!cfg->c4_pack || cfg->c4_pack (probe_w, 4, 1, probe_b)) {
    g_test_skip ("no c4 pack step that refuses weights at this level");
    return;
  }
  g = cfqp_graph_new ();
  cfqp_graph_add_value (g, "input", tc.in_c, -1);
  node = cfqp_graph_add_node (g, CFQP_OP_CONV, "conv");
  node->n_inputs = 1;
  node->inputs = g_new0 (guint, 1);
  node->out_channels = tc.out_c;
  node->output = cfqp_graph_add_value (g, "out", tc.out_c, 0);
  setup_node (node, &tc, rand);
  g->output = 0;
  table = g_new (CfqpQParams, 2);
  table[0] = (CfqpQParams) { 0.02f, 128 };
  table[1] = (CfqpQParams) { 0.05f, 120 };
  prog = cfqp_int8_program_new (g, table, &error);
  g_assert_no_error (error);
  in = padded_view (16, 6, 40);
  for (guint c = 0; c < 16; c++)
    for (guint y = 0; y < 6; y++)
      for (guint x = 0; x < 40; x++)
        *view_at (&in, c, y, x) = (guint8) g_rand_int_range (rand, 0, 256);
  want = padded_view (8, 6, 40);
  got = padded_view (8, 6, 40);
  cfqp_int8_cpu_conv_plan_clear ();
  for (guint r = 0; r < G_N_ELEMENTS (kinds); r++) {
    const CfqpInt8CpuPacked *pk;
    guint measured = cfqp_int8_cpu_conv_plan_n_measured ();
    gboolean refuse = r > 0;
    /* r 0: weights the pack takes (|w| <= 127); then one at −128 */
    for (gsize e = 0; e < n_w; e++)
      prog->nodes[0].weight[e] = MAX (prog->nodes[0].weight[e], -127);
    if (refuse)
      prog->nodes[0].weight[n_w / 2] = G_MININT8;
    prog->nodes[0].packed = cfqp_int8_cpu_conv_pack_kind (node, &prog->nodes[0], kinds[r]);
    pk = prog->nodes[0].packed;
    g_test_message ("%s: %s (%s)", refuse ? "refused" : "taken", pk->kernel, pk->choice);
    g_assert_true (!refuse == !strstr (pk->kernel, "c4 pack refused"));
    if (refuse)
      g_assert_false (g_str_has_prefix (pk->choice, "c4"));
    /* the refused conv is measured for itself, not served the cached entry */
    if (kinds[r] == CFQP_INT8_CPU_GEMM_AUTO && refuse)
      g_assert_cmpuint (cfqp_int8_cpu_conv_plan_n_measured (), ==, measured + 1);
    cfqp_int8_ref_backend.ops[CFQP_OP_CONV] (node, &prog->nodes[0], &in, &want, 0, 6);
    cfqp_int8_cpu_backend.ops[CFQP_OP_CONV] (node, &prog->nodes[0], &in, &got, 0, 6);
    for (guint c = 0; c < 8; c++)
      for (guint y = 0; y < 6; y++)
        g_assert_cmpmem (view_at (&got, c, y, 0), 40, view_at (&want, c, y, 0), 40);
    cfqp_int8_cpu_backend.free_packed (g_steal_pointer (&prog->nodes[0].packed));
  }
  g_free (in.data);
  g_free (want.data);
  g_free (got.data);
  cfqp_int8_program_free (prog);
  cfqp_graph_free (g);
}

/* --- micro-kernels: every ISA variant the CPU runs ----------------------------- */

typedef struct {
  const char      *name;
  CfqpInt8GemmFunc func;
  gboolean         c4;        /* pixel lanes: col in [k/4][px][4] */
  const char      *feature;   /* a level name (cpu_has), NULL: always */
} GemmVariant;

/* Whether a kernel of this level may run: the CPU has it and the
 * CFQP_MAX_CPU_ISA cap (one test run per level) allows it.  "avx512": the
 * avx512vnni level's AVX-512 F/BW/VL/DQ kernels. */
static gboolean
cpu_has (const char *feature)
{
  CfqpCpuIsa isa;

  if (!feature)
    return TRUE;
  if (g_str_equal (feature, "avx512"))
    feature = "avx512vnni";
  if (!cfqp_cpu_isa_from_name (feature, &isa))
    return FALSE;
  return isa <= cfqp_int8_cpu_config ()->isa && cfqp_int8_cpu_config_for (isa) != NULL;
}

static void
test_gemm_variants (void)
{
  static const GemmVariant variants[] = {
    { "1x4__scalar", cfqp_int8_gemm_u8s8_1x4__scalar, FALSE, NULL },
#if CFQP_GEMM_X86
    { "1x4__sse41", cfqp_int8_gemm_u8s8_1x4__sse41, FALSE, "sse4.1" },
    { "1x4__avx2", cfqp_int8_gemm_u8s8_1x4__avx2, FALSE, "avx2" },
    { "1x4__avxvnni", cfqp_int8_gemm_u8s8_1x4__avxvnni, FALSE, "avxvnni" },
    { "1x4__avx512vnni", cfqp_int8_gemm_u8s8_1x4__avx512vnni, FALSE, "avx512vnni" },
    { "64x4c4__avx512vnni", cfqp_int8_gemm_u8s8_64x4c4__avx512vnni, TRUE, "avx512vnni" },
#endif
  };
  static const guint kps[] = { 32, 96, 256, 288 };
  static const guint pxs[] = { 64, 128 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (4);
  guint tested = 0;

  for (guint v = 0; v < G_N_ELEMENTS (variants); v++) {
    if (!cpu_has (variants[v].feature)) {
      g_test_message ("%s: not on this CPU", variants[v].name);
      continue;
    }
    tested++;
    for (guint i = 0; i < G_N_ELEMENTS (kps); i++)
      for (guint j = 0; j < G_N_ELEMENTS (pxs); j++) {
        guint kp = kps[i], npx = pxs[j], noc = 8 + 4 * j;
        g_autofree guint8 *col = g_malloc ((gsize) kp * npx), *c4 = g_malloc ((gsize) kp * npx);
        g_autofree gint8 *w = g_malloc ((gsize) kp * noc);
        g_autofree gint32 *bias = g_new (gint32, noc), *acc = g_new (gint32, noc * npx);
        /* extremes included: 255 × ±127 everywhere in some rows */
        for (gsize e = 0; e < (gsize) kp * npx; e++)
          col[e] = e % 7 == 0 ? 255 : (guint8) g_rand_int_range (rand, 0, 256);
        for (gsize e = 0; e < (gsize) kp * noc; e++)
          w[e] = e / kp == 1 ? 127 : e / kp == 2 ? -127 : (gint8) g_rand_int_range (rand, -127, 128);
        for (guint o = 0; o < noc; o++)
          bias[o] = g_rand_int_range (rand, -(1 << 30), 1 << 30);
        for (guint px = 0; px < npx; px++)
          for (guint k = 0; k < kp; k++)
            c4[((gsize) (k / 4) * npx + px) * 4 + k % 4] = col[(gsize) px * kp + k];
        variants[v].func (variants[v].c4 ? c4 : col, kp, npx, w, noc, bias, acc, npx);
        for (guint o = 0; o < noc; o++)
          for (guint px = 0; px < npx; px++) {
            gint64 want = bias[o];
            for (guint k = 0; k < kp; k++)
              want += (gint64) col[(gsize) px * kp + k] * w[(gsize) o * kp + k];
            if (acc[(gsize) o * npx + px] != want)
              g_error ("%s k %u: oc %u px %u: %d, want %" G_GINT64_FORMAT, variants[v].name, kp,
                  o, px, acc[(gsize) o * npx + px], want);
          }
      }
  }
  g_assert_cmpuint (tested, >=, 1);
}

/* The int16-pair weights of CFQP_INT8_C4_WEIGHTS_S16_PAIRS, as the
 * conv pack makes them (written again here: the test must not share a
 * packing bug). */
static gint8 *
weights_s16_pairs (const gint8 *w, gsize n_groups)
{
  guint32 *p = g_new (guint32, n_groups * 2);
  for (gsize i = 0; i < n_groups; i++) {
    gint16 w0 = w[4 * i], w1 = w[4 * i + 1], w2 = w[4 * i + 2], w3 = w[4 * i + 3];
    p[2 * i] = (guint32) (guint16) w0 | (guint32) (guint16) w2 << 16;
    p[2 * i + 1] = (guint32) (guint16) w1 | (guint32) (guint16) w3 << 16;
  }
  return (gint8 *) p;
}

/* CFQP_INT8_C4_WEIGHTS_S8_MADDUBS as its definition in
 * cfqp-int8-cpu-gemm.h says, read back independently of the pack: every
 * pair of the bounded part and of each fix-up within ±128 per sign, the
 * two with the original weight's sign, and their sum the weight. */
static gboolean
maddubs_pair_bounded (const gint8 *p)
{
  return MAX (p[0], 0) + MAX (p[1], 0) <= 128 && MIN (p[0], 0) + MIN (p[1], 0) >= -128;
}

static void
check_maddubs_weights (const gint8 *wk, gsize size, gsize n_fixups, const gint8 *w, guint ocp,
    gsize k4n)
{
  const gint8 *blk = wk;
  gsize seen = 0;

  for (guint ob = 0; ob < ocp; ob += 4) {
    guint32 n[4];
    const gint8 *f = blk + sizeof n;
    const CfqpInt8C4Fixup *fix = (const CfqpInt8C4Fixup *) (f + 16 * k4n);
    memcpy (n, blk, sizeof n);
    for (guint o = 0; o < 4; o++) {
      g_autofree gint16 *sum = g_new0 (gint16, k4n * 4);
      for (gsize e = 0; e < k4n * 4; e++)
        sum[e] = f[o * k4n * 4 + e];
      for (gsize e = 0; e < k4n * 4; e += 2)
        g_assert_true (maddubs_pair_bounded (f + o * k4n * 4 + e));
      for (guint32 i = 0; i < n[o]; i++, fix++) {
        g_assert_cmpuint (fix->k4, <, k4n);
        g_assert_true (fix->r[0] || fix->r[1] || fix->r[2] || fix->r[3]);
        g_assert_true (maddubs_pair_bounded (fix->r) && maddubs_pair_bounded (fix->r + 2));
        for (guint j = 0; j < 4; j++) {
          gint8 wj = w[((gsize) (ob + o) * k4n + fix->k4) * 4 + j];
          g_assert_true (fix->r[j] == 0 || (fix->r[j] > 0) == (wj > 0));
          sum[fix->k4 * 4 + j] += fix->r[j];
        }
      }
      for (gsize e = 0; e < k4n * 4; e++) {
        gint8 we = w[(gsize) (ob + o) * k4n * 4 + e];
        g_assert_cmpint (sum[e], ==, we);
        g_assert_true (f[o * k4n * 4 + e] == 0 || (f[o * k4n * 4 + e] > 0) == (we > 0));
      }
      seen += n[o];
    }
    blk = (const gint8 *) fix;
  }
  g_assert_cmpuint (blk - wk, ==, size);
  g_assert_cmpuint (seen, ==, n_fixups);
}

/* One c4 conv kernel with its requantising epilogue against ref's
 * formula: k/4 groups read through pointers, odd pixel counts (masked
 * tails), channel counts off the block of 4, multipliers from tiny (shift
 * 62) to large (shift < 32, saturating), negative multipliers, a second
 * multiplier for acc < 0, zero points 0, 255 and random, extreme bounds;
 * bytes past the row and channels past n_oc stay untouched.  Every fourth
 * trial has power-of-two multipliers (m = ±2^30) and small weights and
 * biases, so acc·m / 2^shift lands on exact halves of both signs inside
 * the clamp: ties are counted and must be there.  The config's c4_pack
 * (ARM: weight order, the 128·Σw bias of the shifted-input kernels) is
 * applied to copies first, as the conv does. */
static void
check_conv_c4_kernel (const CfqpInt8CpuConfig *cfg)
{
  static const guint k4ns[] = { 1, 7, 9, 63 };
  static const guint pxs[] = { 1, 17, 64, 65, 130 };
  static const guint ocs[] = { 1, 3, 4, 7, 28 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (12);
  guint blk = cfg->c4_pixels, ties_pos = 0, ties_neg = 0, refused = 0;
  gsize fixups = 0;

  for (guint trial = 0; trial < 160; trial++) {
    /* the second half with even k/4 counts (2, 8, 10, 64): the 8x4c4
     * kernel's k/4 pairs end without an odd step */
    guint k4n = k4ns[trial % 4] + trial / 80, n_px = pxs[trial / 4 % 5];
    guint n_oc = ocs[trial / 20 % 5];
    guint npx = (n_px + blk - 1) / blk * blk, ocp = (n_oc + 3) / 4 * 4;
    gboolean ties = trial % 4 == 1;
    gsize stride = npx + 13;
    g_autofree guint8 *blkb = g_malloc ((gsize) k4n * (npx + 64) * 4);
    g_autofree guint8 *out = g_malloc (stride * (ocp + 1));
    g_autofree gint8 *w = g_malloc ((gsize) ocp * k4n * 4), *wk = NULL;
    g_autofree gint32 *bias = g_new (gint32, ocp), *bk = NULL;
    g_autofree CfqpRequant *pos = g_new (CfqpRequant, ocp), *neg = g_new (CfqpRequant, ocp);
    g_autofree const guint8 **a = g_new (const guint8 *, k4n);
    gint32 z = trial % 3 == 0 ? 0 : trial % 3 == 1 ? 255 : g_rand_int_range (rand, 0, 256);
    gint32 lo = trial % 4 == 0 ? z : g_rand_int_range (rand, 0, 128);
    gint32 hi = trial % 5 == 0 ? 255 : g_rand_int_range (rand, trial % 9 == 0 ? 0 : 128, 256);
    CfqpInt8ConvOut o = { pos, neg, z, lo, hi };

    if (ties) {   /* the whole range visible, z mid-way */
      z = g_rand_int_range (rand, 100, 156);
      lo = 0;
      hi = 255;
      o = (CfqpInt8ConvOut) { pos, neg, z, lo, hi };
    }
    for (gsize e = 0; e < (gsize) k4n * (npx + 64) * 4; e++)
      blkb[e] = e % 11 == 0 ? 255 : (guint8) g_rand_int_range (rand, 0, 256);
    /* each group at its own offset into the block, as taps are */
    for (guint k4 = 0; k4 < k4n; k4++)
      a[k4] = blkb + ((gsize) k4 * (npx + 64) + g_rand_int_range (rand, 0, 64)) * 4;
    for (gsize e = 0; e < (gsize) ocp * k4n * 4; e++)
      w[e] = ties ? (gint8) g_rand_int_range (rand, -2, 3) :
          e / (k4n * 4) == 0 && trial % 2 ? 127 :
          e / (k4n * 4) == 1 && trial % 2 ? -128 : (gint8) g_rand_int_range (rand, -127, 128);
    for (guint oc = 0; oc < ocp; oc++) {
      double real = exp (g_rand_double_range (rand, log (1e-12), log (1e3)));
      if (trial % 6 == 2)
        real = g_rand_double_range (rand, 1e-4, 1e-2);   /* typical layers: shift ≥ 32 */
      bias[oc] = g_rand_int_range (rand, -(1 << 24), 1 << 24);
      if (ties) {
        real = ldexp (1.0, -g_rand_int_range (rand, 1, 7));   /* m = 2^30, shift 32..37 */
        bias[oc] = g_rand_int_range (rand, -300, 300);
      }
      g_assert_true (cfqp_requant_from_real (oc % 5 == 4 ? -real : real, &pos[oc]));
      g_assert_true (cfqp_requant_from_real (ties ? ldexp (oc % 3 == 1 ? -1.0 : 1.0,
          -g_rand_int_range (rand, 1, 7)) : real * g_rand_double_range (rand, -0.5, 1.0),
          &neg[oc]));
      if (trial % 3 != 2)
        neg[oc] = pos[oc];
    }
    if (cfg->c4_weights == CFQP_INT8_C4_WEIGHTS_S8_MADDUBS) {
      gsize size, n_fixups;
      wk = cfqp_int8_c4_weights_maddubs (w, ocp, k4n, &size, &n_fixups);
      check_maddubs_weights (wk, size, n_fixups, w, ocp, k4n);
      fixups += n_fixups;
    } else {
      wk = cfg->c4_weights == CFQP_INT8_C4_WEIGHTS_S16_PAIRS ?
          weights_s16_pairs (w, (gsize) ocp * k4n) : g_memdup2 (w, (gsize) ocp * k4n * 4);
    }
    bk = g_memdup2 (bias, ocp * sizeof (gint32));
    if (cfg->c4_pack && !cfg->c4_pack ((gint8 *) wk, ocp, k4n, bk)) {
      /* refused (8x4c4__neon: −128 weights): only then, and untouched;
       * the trial runs on with those weights at −127 */
      gboolean has_min = FALSE;
      for (gsize e = 0; e < (gsize) ocp * k4n * 4; e++)
        has_min |= w[e] == G_MININT8;
      g_assert_true (has_min);
      g_assert_cmpmem (wk, (gsize) ocp * k4n * 4, w, (gsize) ocp * k4n * 4);
      refused++;
      for (gsize e = 0; e < (gsize) ocp * k4n * 4; e++)
        if (w[e] == G_MININT8)
          w[e] = -127;
      memcpy (wk, w, (gsize) ocp * k4n * 4);
      memcpy (bk, bias, ocp * sizeof (gint32));
      g_assert_true (cfg->c4_pack ((gint8 *) wk, ocp, k4n, bk));
    }
    memset (out, PAD_BYTE, stride * (ocp + 1));
    cfg->conv_c4 (a, k4n, n_px, wk, n_oc, bk, &o, out, stride);
    for (guint oc = 0; oc <= ocp; oc++)
      for (guint px = 0; px < stride; px++) {
        guint8 got = out[oc * stride + px], want = PAD_BYTE;
        if (oc < n_oc && px < n_px) {
          gint64 acc = bias[oc];
          CfqpRequant rq;
          for (guint k = 0; k < k4n * 4; k++)
            acc += (gint64) a[k / 4][px * 4 + k % 4] * w[((gsize) oc * k4n + k / 4) * 4 + k % 4];
          rq = acc >= 0 ? pos[oc] : neg[oc];
          want = cfqp_clamp_u8 (z + cfqp_requant (acc, rq), lo, hi);
          /* an exact half, not clamped away */
          if ((acc * rq.m) % ((gint64) 1 << rq.shift) != 0 &&
              ABS (acc * rq.m) % ((gint64) 1 << rq.shift) == (gint64) 1 << (rq.shift - 1) &&
              want > lo && want < hi) {
            if (acc * rq.m < 0)
              ties_neg++;
            else
              ties_pos++;
          }
        }
        if (got != want)
          g_error ("%s k4n %u n_px %u n_oc %u: oc %u px %u (m %d/%d, shift %u/%u, z %d, "
              "[%d, %d]): %u, want %u", cfg->conv_c4_name, k4n, n_px, n_oc, oc, px,
              oc < ocp ? pos[oc].m : 0, oc < ocp ? neg[oc].m : 0, oc < ocp ? pos[oc].shift : 0,
              oc < ocp ? neg[oc].shift : 0, z, lo, hi, got, want);
      }
  }
  g_test_message ("%s: %u positive and %u negative exact ties, pack refused %u trials, "
      "%" G_GSIZE_FORMAT " maddubs fix-ups", cfg->conv_c4_name, ties_pos, ties_neg, refused,
      fixups);
  g_assert_cmpuint (ties_pos, >, 100);
  g_assert_cmpuint (ties_neg, >, 100);
  /* random weights: many pairs past the int16 bound, so the fix-ups ran */
  if (cfg->c4_weights == CFQP_INT8_C4_WEIGHTS_S8_MADDUBS)
    g_assert_cmpuint (fixups, >, 1000);
#if CFQP_GEMM_ARM64
  /* its int16 tap pairs overflow on −128 weights: it must say no */
  if (cfg->isa == CFQP_CPU_ISA_NEON)
    g_assert_cmpuint (refused, >, 0);
#endif
}

/* vpmaddubsw's bound on the edge: with every input byte 255, a weight
 * pair whose positive (negative) part sums to exactly 128 (−128) gives
 * 255·128 = 32640 (−32640), still inside int16, and must not be fixed
 * up; one more (129: 32895, which the instruction would saturate to
 * 32767) must be.  The bias takes the exact sum back to 10, so the
 * output (acc/2 rounded, z 128: 133) shows any saturation, and equals
 * ref's in both cases. */
static void
test_maddubs_bound (void)
{
  static const gint8 pairs[][2] = {
    { 127, 1 }, { 64, 64 }, { -128, 0 }, { -127, -1 }, { 127, -128 }, { -64, -64 },  /* at */
    { 127, 2 }, { 65, 64 }, { -128, -1 }, { -127, -2 }, { 127, 127 }, { -128, -128 }, /* over */
  };
  const guint n_at = 6, k4n = 3, ocp = 4, n_px = 16;
  const CfqpInt8CpuConfig *cfg = NULL;
  guint8 in[64 * 4];
  const guint8 *a[3] = { in, in, in };
  CfqpRequant rq[4];
  CfqpInt8ConvOut o = { rq, rq, 128, 0, 255 };

  for (CfqpCpuIsa isa = CFQP_CPU_ISA_GENERIC; isa <= CFQP_CPU_ISA_I8MM; isa++) {
    const CfqpInt8CpuConfig *c = cfqp_int8_cpu_config_for (isa);
    if (c && c->conv_c4 && isa <= cfqp_int8_cpu_config ()->isa &&
        c->c4_weights == CFQP_INT8_C4_WEIGHTS_S8_MADDUBS)
      cfg = c;
  }
  if (!cfg) {
    g_test_skip ("no vpmaddubsw kernel at this level");
    return;
  }
  memset (in, 255, sizeof in);
  for (guint oc = 0; oc < ocp; oc++)
    rq[oc] = (CfqpRequant) { 1 << 30, 31 };   /* acc / 2^1, rounded */
  for (guint p = 0; p < G_N_ELEMENTS (pairs); p++) {
    gint8 w[4 * 3 * 4] = { 0 };
    gint32 bias[4] = { 0 };
    guint8 out[4 * 16];
    gsize size, n_fixups;
    g_autofree gint8 *wk = NULL;
    gint64 acc;

    /* channel 0, group 1, bytes 2 and 3: the pair under test; the other
     * channels 0 */
    w[4 + 2] = pairs[p][0];
    w[4 + 3] = pairs[p][1];
    wk = cfqp_int8_c4_weights_maddubs (w, ocp, k4n, &size, &n_fixups);
    check_maddubs_weights (wk, size, n_fixups, w, ocp, k4n);
    g_assert_cmpuint (n_fixups, ==, p < n_at ? 0 : 1);
    bias[0] = 10 - 255 * (pairs[p][0] + pairs[p][1]);
    cfg->conv_c4 (a, k4n, n_px, wk, 1, bias, &o, out, 16);
    acc = bias[0] + 255 * ((gint64) pairs[p][0] + pairs[p][1]);
    for (guint px = 0; px < n_px; px++) {
      g_assert_cmpuint (out[px], ==, cfqp_clamp_u8 (128 + cfqp_requant (acc, rq[0]), 0, 255));
      g_assert_cmpuint (out[px], ==, 133);
    }
  }
}

/* Every level's c4 kernel the CPU and the cap allow. */
static void
test_conv_c4_kernel (void)
{
  guint tested = 0;

  for (CfqpCpuIsa isa = CFQP_CPU_ISA_GENERIC; isa <= CFQP_CPU_ISA_I8MM; isa++) {
    const CfqpInt8CpuConfig *cfg = cfqp_int8_cpu_config_for (isa);
    if (!cfg || !cfg->conv_c4 || isa > cfqp_int8_cpu_config ()->isa)
      continue;
    check_conv_c4_kernel (cfg);
    tested++;
  }
  if (!tested)
    g_test_skip ("no c4 kernel at this level");
}

/* The ARM64 level the config was built at: CFQP_TEST_EXPECT_ARM_ISA
 * (tools/ci/test-arm64.sh, per qemu CPU model) names the widest level the
 * CPU must have, so a qemu that stopped reporting dot product or i8mm
 * cannot pass as a run of those kernels; under a CFQP_MAX_CPU_ISA cap (the
 * per-level runs) the level in use is the lower of the two.  Every level
 * above generic has a c4 kernel with its pack step. */
static void
test_arm_isa (void)
{
#if CFQP_GEMM_ARM64
  const char *want = g_getenv ("CFQP_TEST_EXPECT_ARM_ISA");
  const CfqpInt8CpuConfig *cfg = cfqp_int8_cpu_config ();
  CfqpCpuIsa cpu, cap = CFQP_CPU_ISA_I8MM;

  g_test_message ("ARM64 level: cpu %s, in use %s (cap %s); c4 kernel %s", cfg->cpu_name,
      cfg->isa_name, cfg->cap ? cfg->cap : "none",
      cfg->conv_c4_name ? cfg->conv_c4_name : "none");
  if (want)
    g_assert_cmpstr (cfg->cpu_name, ==, want);
  g_assert_true (cfqp_cpu_isa_from_name (cfg->cpu_name, &cpu));
  if (cfg->cap)
    g_assert_true (cfqp_cpu_isa_from_name (cfg->cap, &cap));
  g_assert_cmpint (cfg->isa, ==, MIN (cpu, cap));
  for (CfqpCpuIsa isa = CFQP_CPU_ISA_NEON; isa <= CFQP_CPU_ISA_I8MM; isa++) {
    const CfqpInt8CpuConfig *c = cfqp_int8_cpu_config_for (isa);
    g_assert_true ((c != NULL) == (isa <= cpu));
    if (c) {
      g_assert_nonnull (c->conv_c4);
      g_assert_nonnull (c->c4_pack);
      g_assert_cmpuint (c->c4_pixels, ==, isa == CFQP_CPU_ISA_NEON ? 8 : 16);
    }
  }
  g_assert_true ((cfg->conv_c4 == NULL) == (cfg->isa == CFQP_CPU_ISA_GENERIC));
#else
  g_test_skip ("ARM64 only");
#endif
}

typedef struct {
  const char         *name;
  CfqpInt8RequantFunc func;
  const char         *feature;
} RequantVariant;

static void
test_requant_variants (void)
{
  static const RequantVariant variants[] = {
    { "scalar", cfqp_int8_requant_row_u8__scalar, NULL },
#if CFQP_GEMM_X86
    { "sse41", cfqp_int8_requant_row_u8__sse41, "sse4.1" },
    { "avx2", cfqp_int8_requant_row_u8__avx2, "avx2" },
    { "avx512", cfqp_int8_requant_row_u8__avx512, "avx512" },
#endif
#if CFQP_GEMM_ARM64
    { "neon", cfqp_int8_requant_row_u8__neon, "neon" },
#endif
  };
  static const gint32 edges[] = { 0, 1, -1, 2, -2, G_MAXINT32, G_MININT32 + 1, G_MININT32,
                                  1 << 20, -(1 << 20), 12345, -12345 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (6);
  enum { N = 203 };
  gint32 acc[N];
  guint8 got[N], want[N];
  guint ties[2] = { 0, 0 };

  for (guint trial = 0; trial < 400; trial++) {
    CfqpRequant pos, neg;
    gint32 z = trial % 3 == 0 ? 0 : trial % 3 == 1 ? 255 : g_rand_int_range (rand, 0, 256);
    gint32 lo = trial % 4 == 0 ? z : g_rand_int_range (rand, 0, 128);
    gint32 hi = trial % 5 == 0 ? 255 : g_rand_int_range (rand, 128, 256);
    /* multipliers from tiny (shift 62) to large, negative ones too */
    double real = exp (g_rand_double_range (rand, log (1e-12), log (1e3)));
    g_assert_true (cfqp_requant_from_real (trial % 7 == 0 ? -real : real, &pos));
    g_assert_true (cfqp_requant_from_real (real * g_rand_double_range (rand, -0.5, 1.0), &neg));
    if (trial % 11 == 0)
      neg = pos;
    for (guint x = 0; x < N; x++)
      acc[x] = x < G_N_ELEMENTS (edges) ? edges[x] :
          (gint32) g_rand_int_range (rand, -(1 << (trial % 31)), 1 << (trial % 31));
    if (trial % 4 == 3) {
      /* m = 2^30 with shift 31..36 (±2^−k) on small accumulators, the whole
       * range visible: exact halves of both signs, rounded away from zero */
      g_assert_true (cfqp_requant_from_real (ldexp (1.0, -g_rand_int_range (rand, 1, 7)), &pos));
      g_assert_true (cfqp_requant_from_real (ldexp (trial % 8 == 3 ? -1.0 : 1.0,
          -g_rand_int_range (rand, 1, 7)), &neg));
      z = g_rand_int_range (rand, 100, 156);
      lo = 0;
      hi = 255;
      for (guint x = 0; x < N; x++)
        acc[x] = g_rand_int_range (rand, -300, 301);
    }
    for (guint x = 0; x < N; x++) {
      gint64 a = acc[x];
      CfqpRequant rq = a >= 0 ? pos : neg;
      want[x] = cfqp_clamp_u8 (z + cfqp_requant (a, rq), lo, hi);
      if (ABS (a * rq.m) % ((gint64) 1 << rq.shift) == (gint64) 1 << (rq.shift - 1) &&
          want[x] > lo && want[x] < hi)
        ties[a * rq.m < 0]++;
    }
    for (guint v = 0; v < G_N_ELEMENTS (variants); v++) {
      if (!cpu_has (variants[v].feature))
        continue;
      memset (got, 0, N);
      variants[v].func (acc, N, pos, neg, z, lo, hi, got);
      for (guint x = 0; x < N; x++)
        if (got[x] != want[x])
          g_error ("requant %s: acc %d (m %d/%d, shift %u/%u, z %d, [%d, %d]): %u, want %u",
              variants[v].name, acc[x], pos.m, neg.m, pos.shift, neg.shift, z, lo, hi, got[x],
              want[x]);
    }
  }
  g_test_message ("requant rows: %u positive and %u negative exact ties", ties[0], ties[1]);
  g_assert_cmpuint (ties[0], >, 100);
  g_assert_cmpuint (ties[1], >, 100);
}

/* --- pixel adapters ------------------------------------------------------------ */

static void
test_pixels (void)
{
  static const CfqpPackedLayout layouts[] = {
    { 3, 0, 1, 2, -1 }, { 3, 2, 1, 0, -1 },          /* RGB, BGR */
    { 4, 0, 1, 2, 3 }, { 4, 2, 1, 0, 3 },            /* RGBA, BGRA */
    { 4, 1, 2, 3, 0 }, { 4, 3, 2, 1, -1 },           /* ARGB, xBGR */
    { 4, 0, 1, 2, -1 },                              /* RGBx */
  };
  static const guint widths[] = { 1, 3, 17, 37 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (9);

  /* row padding 3 (misaligned rows: C) and 4 (aligned: ORC for 4-byte pixels) */
  for (guint l = 0; l < G_N_ELEMENTS (layouts) * 2; l++)
    for (guint j = 0; j < G_N_ELEMENTS (widths); j++) {
      const CfqpPackedLayout *lay = &layouts[l / 2];
      guint w = widths[j], h = 3;
      gsize stride = w * lay->pixel_stride + 3 + l % 2, n = stride * h, np = (gsize) 3 * w * h;
      g_autofree guint8 *src = g_malloc (n), *a = g_malloc (np), *b = g_malloc (np);
      g_autofree guint8 *da = g_malloc (n), *db = g_malloc (n);

      for (gsize e = 0; e < n; e++)
        src[e] = (guint8) g_rand_int_range (rand, 0, 256);
      cfqp_pixels_unpack_rgb_u8 (lay, src, stride, w, h, a);
      cfqp_int8_cpu_unpack_rgb (lay, src, stride, w, h, b);
      g_assert_cmpmem (a, np, b, np);

      memset (da, 7, n);
      memset (db, 7, n);
      cfqp_pixels_pack_rgb_u8 (lay, a, w, h, da, stride);
      cfqp_int8_cpu_pack_rgb (lay, a, w, h, db, stride);
      for (guint y = 0; y < h; y++)
        for (gsize x = 0; x < stride; x++) {
          gsize e = y * stride + x;
          gboolean alpha = x < (gsize) w * lay->pixel_stride && lay->a >= 0 &&
              x % lay->pixel_stride == (guint) lay->a;
          /* RGB and padding as the C adapter; an alpha byte 255 or left */
          if (alpha)
            g_assert_true (db[e] == da[e] || db[e] == 255);
          else
            g_assert_cmpuint (db[e], ==, da[e]);
        }
    }
}

/* --- ORC elementwise requantisation ---------------------------------------------- */

/* Add, sub, concat and standalone ReLU/Clip through the ORC forms, against
 * ref byte for byte: scale ratios from 1/64 to 8 (shifts from ~7 to ~37),
 * zero points 0, 255 and random, widths 1..641 (odd, off the vector
 * width), 1×1 frames, odd row and plane padding, random and photo bytes.
 * Every configuration that the ORC form accepts must also be taken by it
 * where the ratios are moderate, so the test cannot pass on the tables. */
/* production add/subs taken by the int64 rows [0] and the int32 tables [1] */
static guint n_direct[2];
/* TRUE: the node's output is not the graph's, so it keeps its own zero
 * point (a graph output is put on the pixel grid, z 0, where every
 * negative result clamps to 0 and hides how it was rounded) */
static gboolean elementwise_inner;

static void
check_elementwise_orc (CfqpOpType op, guint variant, const CfqpQParams *qp, guint c_n,
    guint w, guint h, DataKind data, gboolean expect_orc)
{
  CfqpGraph *g = cfqp_graph_new ();
  guint ins[2] = { 1, 2 }, n_in = op == CFQP_OP_ACTIVATION ? 1 : 2;
  guint in_c = op == CFQP_OP_CONCAT ? c_n / 2 : c_n;
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (w * 131 + h * 7 + variant + data);
  CfqpInt8Program *prog;
  CfqpInt8CpuPacked *packed;
  CfqpU8View in[2], want, got;
  CfqpNode *node;

  cfqp_graph_add_value (g, "input", in_c, -1);
  cfqp_graph_add_value (g, "a", in_c, -1);
  cfqp_graph_add_value (g, "b", in_c, -1);
  node = cfqp_graph_add_node (g, op, "elementwise");
  node->n_inputs = n_in;
  node->inputs = g_memdup2 (ins, n_in * sizeof (guint));
  node->out_channels = c_n;
  node->output = cfqp_graph_add_value (g, "out", c_n, 0);
  g->output = elementwise_inner ? 0 : node->output;
  if (op == CFQP_OP_BINARY)
    node->p.binary.kind = variant % 2 ? CFQP_BINARY_SUB : CFQP_BINARY_ADD;
  if (variant / 2 == 1)
    node->act.kind = CFQP_ACT_RELU;
  else if (variant / 2 == 2)
    node->act = (CfqpActivation) { CFQP_ACT_CLIP, 0, -0.1f, 0.5f, NULL, 0 };
  prog = cfqp_int8_program_new (g, qp, &error);
  g_assert_no_error (error);

  for (guint k = 0; k < n_in; k++) {
    in[k] = padded_view (in_c, h, w);
    for (guint c = 0; c < in_c; c++)
      for (guint y = 0; y < h; y++)
        for (guint x = 0; x < w; x++)
          *view_at (&in[k], c, y, x) = data == DATA_IMAGE ? image_byte (c + 3 * k, y, x)
                                                         : (guint8) g_rand_int_range (rand, 0, 256);
  }
  want = padded_view (c_n, h, w);
  got = padded_view (c_n, h, w);
  cfqp_int8_ref_backend.ops[op] (node, &prog->nodes[0], in, &want, 0, h);
  /* form 0: ORC or tables; form 1: the production pack (the level's direct
   * add/sub where the CPU has it) */
  for (guint form = 0; form < 2; form++) {
    packed = form ? cfqp_int8_cpu_lut_pack (node, &prog->nodes[0])
                  : cfqp_int8_cpu_lut_pack_full (node, &prog->nodes[0], TRUE);
    prog->nodes[0].packed = packed;
    if (form == 0) {
      /* identity tables (parameters that happen to match) run as row copies */
      if (expect_orc && cfqp_int8_cpu_have_orc ())
        g_assert_true (cfqp_int8_cpu_lut_uses_orc (packed) || cfqp_int8_cpu_lut_is_copy (packed));
      if (op == CFQP_OP_CONCAT && variant == 0 && qp[1].scale == qp[3].scale &&
          qp[2].scale == qp[3].scale && qp[1].zero_point == qp[3].zero_point &&
          qp[2].zero_point == qp[3].zero_point)
        g_assert_true (cfqp_int8_cpu_lut_is_copy (packed));
    } else if (op == CFQP_OP_BINARY && cfqp_int8_cpu_config ()->add_row) {
      g_assert_true (cfqp_int8_cpu_lut_is_direct (packed));
      n_direct[cfqp_int8_cpu_lut_uses_lut32 (packed)]++;
    }
    if (form == 1) {   /* a fresh output for the second form */
      g_free (got.data);
      got = padded_view (c_n, h, w);
    }
    /* two row ranges, as two workers would run them */
    cfqp_int8_cpu_backend.ops[op] (node, &prog->nodes[0], in, &got, 0, h / 2);
    cfqp_int8_cpu_backend.ops[op] (node, &prog->nodes[0], in, &got, h / 2, h);
    for (gsize e = 0; e < got.plane_stride * c_n; e++)
      if (got.data[e] != want.data[e])
        g_error ("%s v%u %ux%u (%s data, scales %g %g -> %g, zero points %d %d -> %d, %s): "
            "byte %zu: cpu %u, ref %u", cfqp_op_type_to_string (op), variant, w, h,
            data == DATA_IMAGE ? "image" : "random", qp[1].scale, qp[2].scale, qp[3].scale,
            qp[1].zero_point, qp[2].zero_point, qp[3].zero_point, packed->kernel, e,
            got.data[e], want.data[e]);
    packed->free (packed);
    prog->nodes[0].packed = NULL;
  }
  for (guint k = 0; k < n_in; k++)
    g_free (in[k].data);
  g_free (want.data);
  g_free (got.data);
  cfqp_int8_program_free (prog);
  cfqp_graph_free (g);
}

static void
test_elementwise_orc (void)
{
  static const guint sizes[][2] = { { 1, 1 }, { 3, 2 }, { 17, 3 }, { 37, 5 }, { 641, 2 } };
  static const float ratios[] = { 1.f, 0.5f, 2.f, 0.3f, 3.7f, 1.f / 64, 8.f };
  static const gint32 zeros[] = { 0, 255, -1 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (77);
  guint n = 0;

  for (guint r = 0; r < G_N_ELEMENTS (ratios); r++)
    for (guint z = 0; z < G_N_ELEMENTS (zeros); z++)
      for (guint s = 0; s < G_N_ELEMENTS (sizes); s++, n++) {
        CfqpQParams qp[4];
        float out_scale = 1 / 255.f;
        for (guint v = 0; v < 4; v++) {
          gint32 zp = zeros[(z + v) % 3];
          qp[v].zero_point = zp >= 0 ? zp : g_rand_int_range (rand, 1, 255);
        }
        /* inputs a and b at ratio·out and a second ratio, output on the pixel grid */
        qp[0].scale = out_scale;
        qp[1].scale = out_scale * ratios[r];
        qp[2].scale = out_scale * ratios[(r + 1 + z) % G_N_ELEMENTS (ratios)];
        qp[3] = (CfqpQParams) { out_scale * (float) g_rand_double_range (rand, 0.8, 1.25),
                                qp[3].zero_point };
        for (guint d = 0; d < 2; d++) {
          DataKind data = d ? DATA_IMAGE : DATA_RANDOM;
          guint w = sizes[s][0], h = sizes[s][1];
          /* add/sub: the ORC form needs |terms| < 2^31 in 2^20 units:
           * ratios up to ~4 on both inputs are always taken */
          gboolean moderate = ratios[r] <= 4.f && ratios[r] >= 1.f / 64 &&
              ratios[(r + 1 + z) % G_N_ELEMENTS (ratios)] <= 4.f;
          for (guint v = 0; v < 6; v++)
            check_elementwise_orc (CFQP_OP_BINARY, v, qp, 5, w, h, data,
                moderate && qp[3].scale >= out_scale);
          for (guint v = 0; v < 6; v += 2)
            check_elementwise_orc (CFQP_OP_CONCAT, v, qp, 6, w, h, data, TRUE);
          /* standalone ReLU/Clip: rescale from input a */
          for (guint v = 2; v < 6; v += 2)
            check_elementwise_orc (CFQP_OP_ACTIVATION, v, qp, 3, w, h, data, TRUE);
        }
      }
  g_assert_cmpuint (n, >, 0);
  /* exact rounding ties of both signs: inputs at half the output scale make
   * every term a multiple of 2^19 in 2^-20 units, so an odd sum of (q − z)
   * lands on a half */
  elementwise_inner = TRUE;
  for (guint z = 0; z < 3; z++)
    for (guint v = 0; v < 2; v++) {
      gint32 zp[3] = { 0, 255, 77 };
      CfqpQParams qp[4] = { { 1 / 255.f, 0 }, { 0.5f / 255, zp[z] }, { 0.5f / 255, zp[(z + 1) % 3] },
                            { 1 / 255.f, z == 1 ? 128 : zp[(z + 2) % 3] } };
      check_elementwise_orc (CFQP_OP_BINARY, v, qp, 5, 67, 3, DATA_RANDOM, TRUE);
    }
  /* the same ties through the int64 rows: b at 16× the output scale
   * overflows the int32 tables (|term| ≥ 2^31 in 2^-20 units), a at half
   * still makes every odd (a − z) a half; with the output's zero point at
   * 128 the sums of small (b − z) land inside the byte range, negative
   * ones included */
  {
    guint rows_before = n_direct[0];
    for (guint z = 0; z < 3; z++)
      for (guint v = 0; v < 2; v++) {
        gint32 zp[3] = { 0, 255, 77 };
        CfqpQParams qp[4] = { { 1 / 255.f, 0 }, { 0.5f / 255, zp[z] },
                              { 16.f / 255, zp[(z + 1) % 3] }, { 1 / 255.f, 128 } };
        check_elementwise_orc (CFQP_OP_BINARY, v, qp, 5, 67, 3, DATA_RANDOM, FALSE);
      }
    if (cfqp_int8_cpu_config ()->add_row)
      g_assert_cmpuint (n_direct[0], >=, rows_before + 6);
  }
  elementwise_inner = FALSE;
  /* both direct forms, where the level has them: large ratios overflow int32 */
  g_test_message ("direct add/sub: %u int64 rows, %u int32 tables", n_direct[0], n_direct[1]);
  if (cfqp_int8_cpu_config ()->add_lut32)
    g_assert_true (n_direct[0] > 0 && n_direct[1] > 0);

  /* a concat whose inputs were unified with it (the usual case after
   * cfqp_int8_resolve_qparams): a copy, on random and image data */
  for (guint d = 0; d < 2; d++) {
    CfqpQParams qp[4] = { { 1 / 255.f, 0 }, { 0.02f, 37 }, { 0.02f, 37 }, { 0.02f, 37 } };
    check_elementwise_orc (CFQP_OP_CONCAT, 0, qp, 6, 37, 5, d ? DATA_IMAGE : DATA_RANDOM, TRUE);
  }
}

/* --- whole network ------------------------------------------------------------- */

static guint8 *
run_packed_kernels (CfqpModel *model, const CfqpQParams *qp, CfqpBackendKind backend,
    CfqpCpuKernels kernels, guint threads, const CfqpPackedLayout *layout, const guint8 *src,
    guint w, guint h, const char *want_name)
{
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (CfqpRunner) runner = NULL;
  g_autoptr (GError) error = NULL;
  guint scale = cfqp_model_get_scale (model);
  gsize dst_stride = (gsize) scale * w * layout->pixel_stride;
  guint8 *dst = g_malloc0 (dst_stride * scale * h);

  opts.precision = CFQP_PRECISION_INT8;
  opts.backend = backend;
  opts.qparams = qp;
  opts.n_threads = threads;
  opts.cpu_kernels = kernels;
  runner = cfqp_runner_new (model, &opts, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cfqp_runner_get_active_backend (runner), ==, want_name);
  {
    g_autofree char *convs = cfqp_runner_describe_kernels (runner);
    if (g_str_equal (want_name, "ref"))
      g_assert_null (convs);
    else if (kernels == CFQP_CPU_KERNELS_ORC && cfqp_int8_cpu_have_orc ()) {
      g_assert_null (strstr (convs, "c4 "));
      g_assert_null (strstr (convs, "dot "));
    }
    else if (kernels == CFQP_CPU_KERNELS_NATIVE)
      g_assert_null (strstr (convs, "orc mac4"));
    else if (kernels == CFQP_CPU_KERNELS_WINOGRAD && cfqp_int8_cpu_config ()->conv_wino &&
        g_str_has_prefix (cfqp_model_get_name (model), "abpn"))
      g_assert_nonnull (strstr (convs, "wino "));   /* every ABPN conv is 3×3 stride 1 */
  }
  /* twice: the second frame reuses packed weights and scratch */
  for (guint f = 0; f < 2; f++) {
    cfqp_runner_run_packed (runner, layout, src, (gsize) w * layout->pixel_stride, w, h, dst,
        dst_stride, &error);
    g_assert_no_error (error);
  }
  return dst;
}

static guint8 *
run_packed (CfqpModel *model, const CfqpQParams *qp, CfqpBackendKind backend, guint threads,
    const CfqpPackedLayout *layout, const guint8 *src, guint w, guint h, const char *want_name)
{
  return run_packed_kernels (model, qp, backend, CFQP_CPU_KERNELS_AUTO, threads, layout, src,
      w, h, want_name);
}

static void
test_network (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_graph (test_model_abpn (3, 28, 5, 3, 17),
      "abpn28", &error);
  static const CfqpPackedLayout layouts[] = { { 3, 0, 1, 2, -1 }, { 4, 2, 1, 0, 3 } };
  static const guint sizes[][2] = { { 37, 23 }, { 17, 5 }, { 1, 1 }, { 3, 7 } };
  g_autofree float *in = NULL;
  g_autofree CfqpQParams *qp = NULL;

  g_assert_no_error (error);
  /* parameters from one observation of the image */
  in = g_new (float, (gsize) 3 * image.w * image.h);
  for (gsize e = 0; e < (gsize) 3 * image.w * image.h; e++)
    in[e] = image.rgb[e] / 255.f;
  qp = minmax_qparams_observe (model, in, image.w, image.h, NULL, &error);
  g_assert_no_error (error);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (guint l = 0; l < G_N_ELEMENTS (layouts); l++) {
      const CfqpPackedLayout *lay = &layouts[l];
      guint w = sizes[s][0], h = sizes[s][1];
      gsize n_src = (gsize) w * h * lay->pixel_stride, n_dst = n_src * 9;
      g_autofree guint8 *src = g_malloc (n_src);
      g_autofree guint8 *ref = NULL, *cpu1 = NULL, *cpu2 = NULL, *autob = NULL;
      g_autofree guint8 *orc = NULL, *native = NULL, *wino = NULL;
      for (guint y = 0; y < h; y++)
        for (guint x = 0; x < w; x++) {
          guint8 *p = src + ((gsize) y * w + x) * lay->pixel_stride;
          p[lay->r] = image_byte (0, y, x);
          p[lay->g] = image_byte (1, y, x);
          p[lay->b] = image_byte (2, y, x);
          if (lay->a >= 0)
            p[lay->a] = (guint8) (x * 37 + y);
        }
      ref = run_packed (model, qp, CFQP_BACKEND_REF, 2, lay, src, w, h, "ref");
      cpu1 = run_packed (model, qp, CFQP_BACKEND_CPU, 1, lay, src, w, h, "cpu");
      cpu2 = run_packed (model, qp, CFQP_BACKEND_CPU, 2, lay, src, w, h, "cpu");
      autob = run_packed (model, qp, CFQP_BACKEND_AUTO, 2, lay, src, w, h, "cpu");
      g_assert_cmpmem (cpu1, n_dst, ref, n_dst);
      g_assert_cmpmem (cpu2, n_dst, ref, n_dst);
      orc = run_packed_kernels (model, qp, CFQP_BACKEND_CPU, CFQP_CPU_KERNELS_ORC, 2, lay, src,
          w, h, "cpu");
      native = run_packed_kernels (model, qp, CFQP_BACKEND_CPU, CFQP_CPU_KERNELS_NATIVE, 2, lay,
          src, w, h, "cpu");
      wino = run_packed_kernels (model, qp, CFQP_BACKEND_CPU, CFQP_CPU_KERNELS_WINOGRAD, 2, lay,
          src, w, h, "cpu");
      g_assert_cmpmem (autob, n_dst, ref, n_dst);
      g_assert_cmpmem (orc, n_dst, ref, n_dst);
      g_assert_cmpmem (native, n_dst, ref, n_dst);
      g_assert_cmpmem (wino, n_dst, ref, n_dst);
    }
}

/* The cap: level names round-trip, the level in use is at most the cap
 * (meson runs this binary once per level), and an unknown value is warned
 * about once, with the accepted list, and ignored (a child process: the
 * config is built once per process). */
static void
test_isa_cap (void)
{
  const char *cap = g_getenv ("CFQP_MAX_CPU_ISA");
  const CfqpInt8CpuConfig *cfg;
  const char *const *names = cfqp_cpu_isa_names ();
  CfqpCpuIsa isa;
  guint n = 0;

  if (g_test_subprocess ()) {
    /* one warning with the list; a second would be fatal */
    g_test_expect_message ("cfqp-engine", G_LOG_LEVEL_WARNING,
        "CFQP_MAX_CPU_ISA=avx3 is not a level*(*generic): ignored");
    cfg = cfqp_int8_cpu_config ();
    cfqp_int8_cpu_config ();
    g_test_assert_expected_messages ();
    g_print ("isa %s cpu %s cap %s\n", cfg->isa_name, cfg->cpu_name, cfg->cap ? cfg->cap : "none");
    return;
  }
  for (; names[n]; n++) {
    g_assert_true (cfqp_cpu_isa_from_name (names[n], &isa));
    g_assert_cmpstr (cfqp_cpu_isa_name (isa), ==, names[n]);
  }
  g_assert_cmpstr (names[n - 1], ==, "generic");
  g_assert_false (cfqp_cpu_isa_from_name ("avx3", &isa));
  cfg = cfqp_int8_cpu_config ();
  g_assert_nonnull (cfg->gemm);
  g_assert_nonnull (cfg->requant);
  g_assert_true (cfg->conv_c4 == NULL || cfg->c4_pixels > 0);
  if (cap) {
    g_assert_true (cfqp_cpu_isa_from_name (cap, &isa));
    g_assert_cmpint (cfg->isa, <=, isa);
    g_assert_cmpstr (cfg->cap, ==, cap);
  } else {
    g_assert_cmpstr (cfg->isa_name, ==, cfg->cpu_name);
  }
  g_setenv ("CFQP_MAX_CPU_ISA", "avx3", TRUE);
  g_test_trap_subprocess (NULL, 0, 0);
  if (cap)
    g_setenv ("CFQP_MAX_CPU_ISA", cap, TRUE);
  else
    g_unsetenv ("CFQP_MAX_CPU_ISA");
  g_test_trap_assert_passed ();
  {
    /* ignored: the CPU's widest level */
    g_autofree char *want = g_strdup_printf ("isa %s cpu %s cap none\n", cfg->cpu_name,
        cfg->cpu_name);
    g_test_trap_assert_stdout (want);
  }
}

/* Every shipped model (each models/NAME.onnx with its .calib.json, clip-free as
 * cfqpsr runs it) on a photo crop 84 pixels wide (a pixel-block tail in every
 * row): the cpu set, auto and forced native kernels, 2 threads, byte for
 * byte with ref, at whatever level CFQP_MAX_CPU_ISA leaves. */
static void
test_shipped_models (void)
{
  static const CfqpPackedLayout rgb = { 3, 0, 1, 2, -1 };
  g_autoptr (GDir) dir = g_dir_open (CFQP_MODELS_DIR, 0, NULL);
  const guint w = 84, h = 12;   /* multiples of 4 (space-to-depth nets), off the pixel blocks */
  g_autofree guint8 *src = g_malloc ((gsize) w * h * 3);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++)
      for (guint c = 0; c < 3; c++)
        src[((gsize) y * w + x) * 3 + c] = image_byte (c, y + 40, x + 20);
  while ((name = g_dir_read_name (dir))) {
    g_autofree char *path = NULL, *stem = NULL, *calib_path = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpModel) model = NULL;
    g_autoptr (CfqpCalibration) calib = NULL;
    g_autofree CfqpQParams *qp = NULL;
    g_autofree guint8 *ref = NULL, *autob = NULL, *native = NULL, *wino = NULL;
    gsize n_dst;
    guint scale;

    if (!g_str_has_suffix (name, ".onnx") || g_str_has_prefix (name, "default-"))
      continue;   /* default-xN are copies of shipped nets */
    path = g_build_filename (CFQP_MODELS_DIR, name, NULL);
    stem = g_strndup (name, strlen (name) - 5);
    calib_path = g_strconcat (CFQP_MODELS_DIR, "/", stem, ".calib.json", NULL);
    if (!g_file_test (calib_path, G_FILE_TEST_EXISTS))
      continue;
    model = cfqp_model_new_from_file (path, &error);
    g_assert_no_error (error);
    calib = cfqp_calibration_load (calib_path, NULL, &error);
    g_assert_no_error (error);
    {
      CfqpModel *run = cfqp_calibration_new_run_model (calib, model);
      g_clear_pointer (&model, cfqp_model_unref);
      model = run;
    }
    g_assert_true (cfqp_calibration_check_model (calib, model, &error));
    qp = cfqp_calibration_to_qparams (calib, model, &error);
    g_assert_no_error (error);
    scale = cfqp_model_get_scale (model);
    n_dst = (gsize) w * h * 3 * scale * scale;
    ref = run_packed (model, qp, CFQP_BACKEND_REF, 2, &rgb, src, w, h, "ref");
    autob = run_packed (model, qp, CFQP_BACKEND_CPU, 2, &rgb, src, w, h, "cpu");
    native = run_packed_kernels (model, qp, CFQP_BACKEND_CPU, CFQP_CPU_KERNELS_NATIVE, 2, &rgb,
        src, w, h, "cpu");
    wino = run_packed_kernels (model, qp, CFQP_BACKEND_CPU, CFQP_CPU_KERNELS_WINOGRAD, 2, &rgb,
        src, w, h, "cpu");
    if (memcmp (autob, ref, n_dst) || memcmp (native, ref, n_dst) || memcmp (wino, ref, n_dst))
      g_error ("%s (isa %s): cpu differs from ref", name, cfqp_int8_cpu_gemm_isa ());
    n++;
  }
  g_test_message ("%u shipped models, isa %s", n, cfqp_int8_cpu_gemm_isa ());
  g_assert_cmpuint (n, >=, 10);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  image_load ();
  /* not the ISA level here: /int8-cpu/isa-cap's child must build the config itself */
  g_test_message ("image data: %s (%u×%u)", image.source, image.w, image.h);
  build_cases ();
  for (guint i = 0; i < cases->len; i++) {
    const Case *c = g_ptr_array_index (cases, i);
    g_test_add_data_func (c->name, c, test_case);
  }
  g_test_add_func ("/int8-cpu/paths", test_paths);
  g_test_add_func ("/int8-cpu/plan", test_plan);
  g_test_add_func ("/int8-cpu/gemm-variants", test_gemm_variants);
  g_test_add_func ("/int8-cpu/requant-variants", test_requant_variants);
  g_test_add_func ("/int8-cpu/conv-c4-kernel", test_conv_c4_kernel);
  g_test_add_func ("/int8-cpu/arm-isa", test_arm_isa);
  g_test_add_func ("/int8-cpu/overflow-guard", test_overflow_guard);
  g_test_add_func ("/int8-cpu/c4-refused", test_c4_refused);
  g_test_add_func ("/int8-cpu/wino-bounds", test_wino_bounds);
  g_test_add_func ("/int8-cpu/maddubs-bound", test_maddubs_bound);
  g_test_add_func ("/int8-cpu/pixels", test_pixels);
  g_test_add_func ("/int8-cpu/elementwise-orc", test_elementwise_orc);
  g_test_add_func ("/int8-cpu/network-abpn28", test_network);
  g_test_add_func ("/int8-cpu/shipped-models", test_shipped_models);
  g_test_add_func ("/int8-cpu/isa-cap", test_isa_cap);
  status = g_test_run ();
  g_ptr_array_unref (cases);
  g_free (image.rgb);
  return status;
}
