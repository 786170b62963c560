/* Hostile model files: sizes and counts far outside anything an SR network
 * needs must be refused with an error (CFQP_ENGINE_ERROR_LIMIT where a
 * bound is hit), quickly and without allocating what they ask for.  The
 * ONNX files are built here with protobuf-c (onnx-net.h). */
#include "onnx-net.h"

#include <math.h>
#include <string.h>

static void
expect_refused (Net *n, CfqpEngineError code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = net_import (n, &error);

  g_assert_null (model);
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
  g_assert_error (error, CFQP_ENGINE_ERROR, (gint) code);
  if (needle && !strstr (error->message, needle))
    g_error ("'%s' does not mention '%s'", error->message, needle);
}

/* conv (3 → oc, k×k, pad k/2) then DepthToSpace 2 when oc = 12: x2 RGB. */
static Net *
conv_net (gint64 oc, gint64 k)
{
  Net *n = net_new ();
  gint64 wd[4] = { oc, 3, k, k }, pads[4] = { k / 2, k / 2, k / 2, k / 2 };
  Onnx__NodeProto *conv;

  net_zeros (n, "w", wd, 4);
  conv = net_node (n, "Conv", "x", "w", NULL, "c");
  attr_ints (n, conv, "pads", pads, 4);
  attr_int (n, net_node (n, "DepthToSpace", "c", NULL, NULL, "y"), "blocksize", 2);
  return n;
}

static void
test_non_finite_weights (void)
{
  const float bad[] = { NAN, INFINITY, -INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    Net *n = net_new ();
    gint64 wd[4] = { 12, 3, 1, 1 }, bd[1] = { 12 };
    float *w = own (n, g_new0 (float, 36)), *b = own (n, g_new0 (float, 12));

    (i == 0 ? b : w)[5] = bad[i];   /* a NaN bias (found by fuzz-onnx), inf weights */
    net_init (n, "w", wd, 4, w, 36);
    net_init (n, "b", bd, 1, b, 12);
    net_node (n, "Conv", "x", "w", "b", "c");
    attr_int (n, net_node (n, "DepthToSpace", "c", NULL, NULL, "y"), "blocksize", 2);
    expect_refused (n, CFQP_ENGINE_ERROR_INVALID, "finite");
  }
}

/* A node output named like a tensor already defined (found by fuzz-onnx
 * as a use after free: the Conv's output replaced its own weights' symbol
 * while it read them), or like the graph input, or defined twice. */
static void
test_name_defined_twice (void)
{
  static const char *const outputs[][2] = { { "w", "y" }, { "x", "y" }, { "c", "c" } };

  for (guint i = 0; i < G_N_ELEMENTS (outputs); i++) {
    Net *n = net_new ();
    gint64 wd[4] = { 12, 3, 1, 1 };

    net_zeros (n, "w", wd, 4);
    net_node (n, "Conv", "x", "w", NULL, outputs[i][0]);
    attr_int (n, net_node (n, "DepthToSpace", outputs[i][0], NULL, NULL, outputs[i][1]),
        "blocksize", 2);
    expect_refused (n, CFQP_ENGINE_ERROR_INVALID, "already defined");
  }
}

/* int64 initializers at the ends of the range (raw and typed) import
 * exactly, without a cast through double (2^63 − 1 became 2^63 there, out
 * of int64's range: UB that fuzz-onnx found, seen under UBSan). */
static void
test_int64_extremes (void)
{
  static const gint64 values[] = { G_MAXINT64, G_MININT64, G_MAXINT64 - 1, -1 };
  gint64 dims[1] = { G_N_ELEMENTS (values) };

  for (guint raw = 0; raw < 2; raw++) {
    Net *n = conv_net (12, 3);
    Onnx__TensorProto *t = net_init (n, "big", dims, 1, NULL, 0);
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpModel) model = NULL;

    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    if (raw) {
      guint64 *le = own (n, g_new (guint64, G_N_ELEMENTS (values)));
      for (guint k = 0; k < G_N_ELEMENTS (values); k++)
        le[k] = GUINT64_TO_LE ((guint64) values[k]);
      t->has_raw_data = TRUE;
      t->raw_data.len = sizeof values;
      t->raw_data.data = (guint8 *) le;
    } else {
      t->n_int64_data = G_N_ELEMENTS (values);
      t->int64_data = (gint64 *) values;
    }
    model = net_import (n, &error);
    g_assert_no_error (error);
    g_assert_nonnull (model);
  }
}

static void
test_denormal_weights_int8 (void)
{
  /* Weights so small that max|w|/127 rounds to 0 as a float: the INT8
   * program must not divide by that zero (UBSan: NaN cast to int). */
  Net *n = net_new ();
  gint64 wd[4] = { 12, 3, 1, 1 }, bd[1] = { 12 };
  float *w = own (n, g_new (float, 36)), *b = own (n, g_new0 (float, 12));
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (CfqpRunner) runner = NULL;
  g_autofree CfqpQParams *qp = NULL;
  CfqpRunnerOptions opt = CFQP_RUNNER_OPTIONS_INIT;
  float in[3 * 4] = { 0.5f }, out[3 * 16];

  for (guint i = 0; i < 36; i++)
    w[i] = 1e-44f;
  net_init (n, "w", wd, 4, w, 36);
  net_init (n, "b", bd, 1, b, 12);
  net_node (n, "Conv", "x", "w", "b", "c");
  attr_int (n, net_node (n, "DepthToSpace", "c", NULL, NULL, "y"), "blocksize", 2);
  model = net_import (n, &error);
  g_assert_no_error (error);
  qp = g_new (CfqpQParams, cfqp_model_get_n_tensors (model));
  for (guint i = 0; i < cfqp_model_get_n_tensors (model); i++)
    qp[i] = (CfqpQParams) { 1.0f / 255, 0 };
  opt.precision = CFQP_PRECISION_INT8;
  opt.backend = CFQP_BACKEND_REF;
  opt.n_threads = 1;
  opt.qparams = qp;
  runner = cfqp_runner_new (model, &opt, &error);
  if (runner) {
    g_assert_true (cfqp_runner_run_f32 (runner, in, 2, 2, out, &error));
    for (guint i = 0; i < G_N_ELEMENTS (out); i++)
      g_assert_true (isfinite (out[i]));
  } else {
    g_test_message ("refused: %s", error->message);
    g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
  }
}

/* A valid ×2 model's bytes. */
static GBytes *
net_pack_and_keep (void)
{
  Net *n = conv_net (12, 3);
  GBytes *bytes = net_pack (n);
  net_free (n);
  return bytes;
}

/* --- tests ------------------------------------------------------------------ */

static void
test_builder_sane (void)
{
  /* The builder makes models the engine accepts: the refusals below are
   * about the hostile value, not a broken file. */
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = net_import (conv_net (12, 3), &error);

  g_assert_no_error (error);
  g_assert_cmpuint (cfqp_model_get_scale (model), ==, 2);
}

static void
test_huge_kernel (void)
{
  expect_refused (conv_net (12, CFQP_MAX_KERNEL + 2), CFQP_ENGINE_ERROR_LIMIT, "kernel");
}

static void
test_huge_channels (void)
{
  expect_refused (conv_net (CFQP_MAX_CHANNELS + 4, 1), CFQP_ENGINE_ERROR_LIMIT, "channels");
}

static void
test_lying_weight_dims (void)
{
  /* dims promise 2^40 × 2^40 values, none are stored */
  Net *n = net_new ();
  gint64 dims[4] = { G_GINT64_CONSTANT (1) << 40, G_GINT64_CONSTANT (1) << 40, 3, 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;

  net_init (n, "w", dims, 4, NULL, 0);
  net_node (n, "Conv", "x", "w", NULL, "y");
  model = net_import (n, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
  g_assert_true (error->domain == CFQP_ENGINE_ERROR);
  g_assert_true (error->code == CFQP_ENGINE_ERROR_LIMIT || error->code == CFQP_ENGINE_ERROR_PARSE);
}

static void
test_overflowing_dims (void)
{
  /* the product of the dims wraps around 2^64 to a small number */
  Net *n = net_new ();
  gint64 dims[4] = { G_GINT64_CONSTANT (1) << 32, G_GINT64_CONSTANT (1) << 32, 1, 1 };
  float data[1] = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;

  net_init (n, "w", dims, 4, data, 0);
  net_node (n, "Conv", "x", "w", NULL, "y");
  model = net_import (n, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
  g_assert_true (error->domain == CFQP_ENGINE_ERROR);
}

static void
test_negative_dims (void)
{
  Net *n = net_new ();
  gint64 dims[4] = { -12, 3, 3, 3 };
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;

  net_init (n, "w", dims, 4, NULL, 0);
  net_node (n, "Conv", "x", "w", NULL, "y");
  model = net_import (n, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
}

static void
test_too_many_nodes (void)
{
  Net *n = net_new ();
  char prev[32] = "x", next[32];

  for (guint i = 0; i < CFQP_MAX_NODES + 10; i++) {
    g_snprintf (next, sizeof next, "r%u", i);
    net_node (n, "Relu", prev, NULL, NULL, i == CFQP_MAX_NODES + 9 ? "y" : next);
    memcpy (prev, next, sizeof prev);
  }
  expect_refused (n, CFQP_ENGINE_ERROR_LIMIT, "nodes");
}

static void
test_many_nodes_under_limit (void)
{
  /* identity-like chains fold away; a long Relu chain just under the node
   * limit is still a valid model */
  Net *n = net_new ();
  char prev[32] = "x", next[32];
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;

  for (guint i = 0; i < 1000; i++) {
    g_snprintf (next, sizeof next, "r%u", i);
    net_node (n, "Relu", prev, NULL, NULL, i == 999 ? "y" : next);
    memcpy (prev, next, sizeof prev);
  }
  model = net_import (n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cfqp_model_get_scale (model), ==, 1);
}

static void
test_huge_blocksize (void)
{
  Net *n = net_new ();
  gint64 wd[4] = { 12, 3, 1, 1 };

  net_zeros (n, "w", wd, 4);
  net_node (n, "Conv", "x", "w", NULL, "c");
  attr_int (n, net_node (n, "DepthToSpace", "c", NULL, NULL, "y"), "blocksize",
      G_GINT64_CONSTANT (1) << 40);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpModel) model = net_import (n, &error);
    g_assert_null (model);
    g_assert_nonnull (error);
    g_test_message ("refused: %s", error->message);
  }
}

/* Shapes and repeats that are float tensors: Expand's and Reshape's shape
 * must be integers (a fuzzer found Expand reading symbolic ints that a
 * float constant does not have); float repeats that are NaN or huge are
 * refused, not cast. */
static void
test_float_shapes (void)
{
  static const float shape4[4] = { 1, 3, 1, 1 }, nan_rep[4] = { 1, NAN, 1, 1 },
      huge_rep[4] = { 1, 1e30f, 1, 1 };
  const float *reps[2] = { nan_rep, huge_rep };
  const char *ops[2] = { "Expand", "Reshape" };
  gint64 d4[1] = { 4 };

  for (guint k = 0; k < G_N_ELEMENTS (ops); k++) {
    Net *n = net_new ();
    net_init (n, "s", d4, 1, shape4, 4);
    net_node (n, ops[k], "x", "s", NULL, "y");
    expect_refused (n, CFQP_ENGINE_ERROR_UNSUPPORTED, "integer");
  }
  for (guint k = 0; k < G_N_ELEMENTS (reps); k++) {
    Net *n = net_new ();
    net_init (n, "r", d4, 1, reps[k], 4);
    net_node (n, "Tile", "x", "r", NULL, "y");
    expect_refused (n, CFQP_ENGINE_ERROR_UNSUPPORTED, "repeats");
  }
}

static void
test_huge_stride_and_dilation (void)
{
  gint64 big[2] = { G_GINT64_CONSTANT (1) << 33, G_GINT64_CONSTANT (1) << 33 };
  const char *attrs[] = { "strides", "dilations" };

  for (guint i = 0; i < G_N_ELEMENTS (attrs); i++) {
    Net *n = net_new ();
    gint64 wd[4] = { 12, 3, 3, 3 };
    Onnx__NodeProto *conv;
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpModel) model = NULL;

    net_zeros (n, "w", wd, 4);
    conv = net_node (n, "Conv", "x", "w", NULL, "c");
    attr_ints (n, conv, attrs[i], big, 2);
    attr_int (n, net_node (n, "DepthToSpace", "c", NULL, NULL, "y"), "blocksize", 2);
    model = net_import (n, &error);
    g_assert_null (model);
    g_assert_nonnull (error);
    g_test_message ("%s refused: %s", attrs[i], error->message);
  }
}

static void
test_huge_pads (void)
{
  Net *n = net_new ();
  gint64 wd[4] = { 12, 3, 3, 3 };
  gint64 pads[4] = { G_MAXINT64 / 2, G_MAXINT64 / 2, G_MAXINT64 / 2, G_MAXINT64 / 2 };
  Onnx__NodeProto *conv;
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;

  net_zeros (n, "w", wd, 4);
  conv = net_node (n, "Conv", "x", "w", NULL, "c");
  attr_ints (n, conv, "pads", pads, 4);
  attr_int (n, net_node (n, "DepthToSpace", "c", NULL, NULL, "y"), "blocksize", 2);
  model = net_import (n, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
}

static void
test_long_attribute_lists (void)
{
  /* a million pads: refused, not copied */
  Net *n = net_new ();
  gint64 wd[4] = { 12, 3, 3, 3 };
  g_autofree gint64 *pads = g_new0 (gint64, 1000000);
  Onnx__NodeProto *conv;
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;

  net_zeros (n, "w", wd, 4);
  conv = net_node (n, "Conv", "x", "w", NULL, "c");
  attr_ints (n, conv, "pads", pads, 1000000);
  attr_int (n, net_node (n, "DepthToSpace", "c", NULL, NULL, "y"), "blocksize", 2);
  model = net_import (n, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
}

static void
test_huge_concat (void)
{
  Net *n = net_new ();
  Onnx__NodeProto *cat = net_node (n, "Concat", "x", NULL, NULL, "y");
  guint count = CFQP_MAX_CHANNELS + 8;

  cat->input = own (n, g_new (char *, count));
  for (guint i = 0; i < count; i++)
    cat->input[i] = (char *) "x";
  cat->n_input = count;
  attr_int (n, cat, "axis", 1);
  expect_refused (n, CFQP_ENGINE_ERROR_LIMIT, NULL);
}

static void
test_oversized_file (void)
{
  /* over CFQP_MAX_MODEL_BYTES: refused before parsing (calloc'd zero pages
   * that nothing touches) */
  gsize size = (gsize) CFQP_MAX_MODEL_BYTES + 1;
  g_autoptr (GBytes) bytes = g_bytes_new_take (g_malloc0 (size), size);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_bytes (bytes, "big", &error);

  g_assert_null (model);
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT);
}

static void
test_garbage_and_truncation (void)
{
  /* every prefix of a valid model, and bit flips of it: errors, not crashes */
  g_autoptr (GBytes) good = net_pack_and_keep ();
  gsize size;
  const guint8 *data = g_bytes_get_data (good, &size);
  g_autofree guint8 *copy = g_memdup2 (data, size);

  for (gsize len = 0; len < size; len += 1 + len / 16) {
    g_autoptr (GBytes) part = g_bytes_new_static (data, len);
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpModel) model = cfqp_model_new_from_bytes (part, "prefix", &error);
    if (!model)
      g_assert_nonnull (error);
  }
  for (gsize i = 0; i < size; i += 7) {
    g_autoptr (GBytes) flipped = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpModel) model = NULL;
    copy[i] ^= 0x5a;
    flipped = g_bytes_new_static (copy, size);
    model = cfqp_model_new_from_bytes (flipped, "flipped", &error);
    if (!model)
      g_assert_nonnull (error);
    copy[i] ^= 0x5a;
  }
}

/* Prepends a length-delimited field (tag, varint length) to the len bytes
 * that end at end; returns the new start. */
static guint8 *
prepend_field (guint8 *start, guint field, gsize len)
{
  guint8 tmp[16];
  guint n = 0;

  do {
    tmp[n++] = (len & 0x7f) | (len > 0x7f ? 0x80 : 0);
    len >>= 7;
  } while (len);
  while (n)
    *--start = tmp[--n];
  *--start = (guint8) (field << 3 | 2);
  return start;
}

static void
test_deep_nesting (void)
{
  /* Graph → Node → Attribute.g → Graph → … 100k levels deep (~1 MB): the
   * protobuf parser recurses once per level; it must not run out of stack. */
  const guint depth = 100000;
  gsize cap = (gsize) depth * 3 * 6 + 64;
  g_autofree guint8 *buf = g_malloc (cap);
  guint8 *end = buf + cap, *p = end;

  for (guint i = 0; i < depth; i++) {
    p = prepend_field (p, 6, end - p);   /* AttributeProto.g */
    p = prepend_field (p, 5, end - p);   /* NodeProto.attribute */
    p = prepend_field (p, 1, end - p);   /* GraphProto.node */
  }
  p = prepend_field (p, 7, end - p);     /* ModelProto.graph */
  {
    g_autoptr (GBytes) bytes = g_bytes_new_static (p, end - p);
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpModel) model = cfqp_model_new_from_bytes (bytes, "deep", &error);
    g_assert_null (model);
    g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT);
    g_test_message ("refused: %s", error->message);
  }
}

static void
test_huge_frames (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = net_import (conv_net (12, 3), &error);
  CfqpRunnerOptions opt = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (CfqpRunner) runner = NULL;
  float in[3] = { 0 }, out[12];
  const guint sizes[][2] = { { CFQP_MAX_FRAME_DIM + 1, 1 }, { 1, CFQP_MAX_FRAME_DIM + 1 },
                             { G_MAXUINT, G_MAXUINT }, { 0, 1 } };

  g_assert_no_error (error);
  opt.n_threads = 1;
  runner = cfqp_runner_new (model, &opt, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    g_autoptr (GError) e = NULL;
    /* the buffers are too small for the claimed size: the size check must
     * come before any pixel is touched */
    g_assert_false (cfqp_runner_run_f32 (runner, in, sizes[i][0], sizes[i][1], out, &e));
    g_assert_nonnull (e);
    g_test_message ("%u×%u refused: %s", sizes[i][0], sizes[i][1], e->message);
  }
  g_assert_true (cfqp_runner_run_f32 (runner, in, 1, 1, out, &error));
  g_assert_no_error (error);
}

static void
test_odd_frame_not_an_upscale (void)
{
  /* SAME-padded stride-2 conv then DepthToSpace 4: ×2 for even sizes, but a
   * 5×3 frame gives 12×8, not 10×6.  Every path must refuse the frame
   * rather than write past the caller's scale × input buffer (found by
   * fuzz-onnx: the INT8 path did). */
  const char *dir = g_getenv ("CFQP_TEST_DATA");
  g_autofree char *path = g_build_filename (dir, "refnets", "samepad-x2-op13.onnx", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &error);
  const CfqpPackedLayout rgbx = { 4, 0, 1, 2, -1 };
  guint w = 5, h = 3;
  g_autofree float *in = g_new0 (float, 3 * w * h);
  g_autofree float *out = g_new0 (float, 3 * w * h * 4);
  g_autofree guint8 *src = g_new0 (guint8, 4 * w * h);
  g_autofree guint8 *dst = g_new0 (guint8, 4 * w * h * 4);
  g_autofree CfqpQParams *qp = NULL;
  guint n;

  g_assert_no_error (error);
  g_assert_cmpuint (cfqp_model_get_scale (model), ==, 2);
  n = cfqp_model_get_n_tensors (model);
  qp = g_new (CfqpQParams, n);
  for (guint i = 0; i < n; i++)
    qp[i] = (CfqpQParams) { 1.0f / 64, 128 };

  for (guint p = 0; p < 2; p++) {
    CfqpRunnerOptions opt = CFQP_RUNNER_OPTIONS_INIT;
    g_autoptr (CfqpRunner) runner = NULL;
    g_autoptr (GError) e1 = NULL, e2 = NULL;

    opt.precision = p ? CFQP_PRECISION_INT8 : CFQP_PRECISION_FP32;
    opt.backend = CFQP_BACKEND_REF;
    opt.n_threads = 1;
    opt.qparams = qp;
    runner = cfqp_runner_new (model, &opt, &error);
    g_assert_no_error (error);
    g_assert_false (cfqp_runner_run_f32 (runner, in, w, h, out, &e1));
    g_assert_error (e1, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
    g_assert_false (cfqp_runner_run_packed (runner, &rgbx, src, 4 * w, w, h, dst, 8 * w, &e2));
    g_assert_error (e2, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
    /* even sizes still run */
    g_assert_true (cfqp_runner_run_f32 (runner, in, 4, 2, out, &error));
    g_assert_no_error (error);
  }
  g_assert_false (cfqp_model_observe_f32 (model, in, w, h, out, NULL, NULL, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hostile/builder-sane", test_builder_sane);
  g_test_add_func ("/hostile/huge-kernel", test_huge_kernel);
  g_test_add_func ("/hostile/huge-channels", test_huge_channels);
  g_test_add_func ("/hostile/lying-weight-dims", test_lying_weight_dims);
  g_test_add_func ("/hostile/overflowing-dims", test_overflowing_dims);
  g_test_add_func ("/hostile/negative-dims", test_negative_dims);
  g_test_add_func ("/hostile/too-many-nodes", test_too_many_nodes);
  g_test_add_func ("/hostile/many-nodes-under-limit", test_many_nodes_under_limit);
  g_test_add_func ("/hostile/huge-blocksize", test_huge_blocksize);
  g_test_add_func ("/hostile/huge-stride-and-dilation", test_huge_stride_and_dilation);
  g_test_add_func ("/hostile/float-shapes", test_float_shapes);
  g_test_add_func ("/hostile/huge-pads", test_huge_pads);
  g_test_add_func ("/hostile/long-attribute-lists", test_long_attribute_lists);
  g_test_add_func ("/hostile/huge-concat", test_huge_concat);
  g_test_add_func ("/hostile/oversized-file", test_oversized_file);
  g_test_add_func ("/hostile/garbage-and-truncation", test_garbage_and_truncation);
  g_test_add_func ("/hostile/deep-nesting", test_deep_nesting);
  g_test_add_func ("/hostile/non-finite-weights", test_non_finite_weights);
  g_test_add_func ("/hostile/name-defined-twice", test_name_defined_twice);
  g_test_add_func ("/hostile/int64-extremes", test_int64_extremes);
  g_test_add_func ("/hostile/denormal-weights-int8", test_denormal_weights_int8);
  g_test_add_func ("/hostile/huge-frames", test_huge_frames);
  g_test_add_func ("/hostile/odd-frame-not-an-upscale", test_odd_frame_not_an_upscale);
  return g_test_run ();
}
