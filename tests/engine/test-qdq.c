/* QDQ ONNX: export → import round trips bit-exact, a QDQ model made by
 * onnx.helper (tools/testdata/make_qdq_test_model.py) runs with its own scales, and
 * hostile QDQ files are refused with messages that say why. */
#include "cfqp-engine.h"
#include "cfqp-model-private.h"
#include "cfqp-int8.h"
#include "minmax-qparams.h"
#include "onnx.pb-c.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *
data_path (const char *sub, const char *name)
{
  const char *root = g_getenv ("CFQP_TEST_DATA");
  g_assert_nonnull (root);
  return g_build_filename (root, sub, name, NULL);
}

/* A deterministic, photo-like smooth test frame with some edges, [0,1]. */
static float *
test_frame (guint c_n, guint w, guint h)
{
  float *f = g_new (float, (gsize) c_n * w * h);
  for (guint c = 0; c < c_n; c++)
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++) {
        double v = 0.5 + 0.35 * sin (0.37 * x + 0.9 * c) * cos (0.23 * y - 0.4 * c) +
            ((x / 5 + y / 7) % 2 ? 0.12 : -0.12);
        f[((gsize) c * h + y) * w + x] = (float) (round (CLAMP (v, 0, 1) * 255) / 255);
      }
  return f;
}

/* Min/max calibration of every tensor on the test frame (tools/c/common). */
static CfqpQParams *
calibrate (CfqpModel *model, const float *frame, guint w, guint h)
{
  g_autoptr (GError) error = NULL;
  CfqpQParams *qp = minmax_qparams_observe (model, frame, w, h, NULL, &error);

  g_assert_no_error (error);
  return qp;
}

static float *
run_int8 (CfqpModel *model, const CfqpQParams *qp, const float *frame, guint w, guint h)
{
  CfqpRunnerOptions opt = CFQP_RUNNER_OPTIONS_INIT;
  guint s = cfqp_model_get_scale (model), c = cfqp_model_get_channels (model);
  float *out = g_new (float, (gsize) c * w * s * h * s);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpRunner) runner = NULL;

  opt.precision = CFQP_PRECISION_INT8;
  opt.backend = CFQP_BACKEND_REF;
  opt.n_threads = 1;
  opt.qparams = qp;
  runner = cfqp_runner_new (model, &opt, &error);
  g_assert_no_error (error);
  g_assert_true (cfqp_runner_run_f32 (runner, frame, w, h, out, &error));
  g_assert_no_error (error);
  return out;
}

static void
test_round_trip (gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = data_path ("refnets", name);
  g_autofree char *dir = g_dir_make_tmp ("cfqp-qdq-XXXXXX", NULL);
  g_autofree char *qdq_path = g_build_filename (dir, "model-qdq.onnx", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &error);
  g_autoptr (CfqpModel) back = NULL;
  const guint w = 24, h = 16;
  g_autofree float *frame = NULL, *a = NULL, *b = NULL;
  g_autofree CfqpQParams *qp = NULL, *res = NULL;
  const CfqpQParams *emb;
  guint n, s, c;

  g_assert_no_error (error);
  g_assert_null (cfqp_model_get_embedded_qparams (model));
  n = cfqp_model_get_n_tensors (model);
  s = cfqp_model_get_scale (model);
  c = cfqp_model_get_channels (model);
  frame = test_frame (c, w, h);
  qp = calibrate (model, frame, w, h);
  a = run_int8 (model, qp, frame, w, h);

  g_assert_true (cfqp_model_export_qdq (model, qp, qdq_path, &error));
  g_assert_no_error (error);
  back = cfqp_model_new_from_file (qdq_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cfqp_model_get_n_tensors (back), ==, n);
  g_assert_cmpuint (cfqp_model_get_scale (back), ==, s);
  for (guint t = 0; t < n; t++)
    g_assert_cmpstr (cfqp_model_get_tensor_name (back, t), ==, cfqp_model_get_tensor_name (model, t));
  emb = cfqp_model_get_embedded_qparams (back);
  g_assert_nonnull (emb);
  /* the file carries the parameters the INT8 program runs with: the
   * table's, except where resolution derives or widens them */
  res = g_new (CfqpQParams, n);
  cfqp_int8_resolve_qparams (cfqp_model_get_graph (model), qp, res, NULL);
  for (guint t = 0; t < n; t++)
    if (!cfqp_model_tensor_is_derived (model, t)) {
      g_assert_cmpfloat (emb[t].scale, ==, res[t].scale);
      g_assert_cmpint (emb[t].zero_point, ==, res[t].zero_point);
    }
  /* the file's own integers and scales: the very same bytes */
  b = run_int8 (back, emb, frame, w, h);
  g_assert_cmpmem (a, (gsize) c * w * s * h * s * sizeof (float), b,
      (gsize) c * w * s * h * s * sizeof (float));
  /* and the table by name gives the same too */
  g_free (b);
  b = run_int8 (back, qp, frame, w, h);
  g_assert_cmpmem (a, (gsize) c * w * s * h * s * sizeof (float), b,
      (gsize) c * w * s * h * s * sizeof (float));
  /* export of the re-imported model with its embedded table: same file */
  {
    g_autofree char *again = g_build_filename (dir, "again.onnx", NULL);
    g_autofree char *x = NULL, *y = NULL;
    gsize lx, ly;
    g_assert_true (cfqp_model_export_qdq (back, NULL, again, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (qdq_path, &x, &lx, NULL));
    g_assert_true (g_file_get_contents (again, &y, &ly, NULL));
    g_assert_cmpmem (x, lx, y, ly);
    g_unlink (again);
  }
  g_unlink (qdq_path);
  g_rmdir (dir);
}

/* An initializer of the export by name; NULL when there is none. */
static const Onnx__TensorProto *
find_init (const Onnx__ModelProto *mp, const char *name)
{
  for (gsize i = 0; i < mp->graph->n_initializer; i++)
    if (!strcmp (mp->graph->initializer[i]->name, name))
      return mp->graph->initializer[i];
  return NULL;
}

/* One initializer's raw bytes, checked for type and element count. */
static const guint8 *
init_data (const Onnx__ModelProto *mp, const char *name, gint32 type, gsize n, gsize elem)
{
  const Onnx__TensorProto *t = find_init (mp, name);

  g_assert_nonnull (t);
  g_assert_cmpint (t->data_type, ==, type);
  g_assert_cmpuint (t->raw_data.len, ==, n * elem);
  return t->raw_data.data;
}

/* The 16-bit export (opset 21) carries the 16-bit program's numbers: every
 * activation on its uint16 grid, every conv's int16 taps and their
 * scales, its int64 bias as the float it stands for; the engine refuses
 * to import it, and fp32 is not a precision to export. */
static void
test_export_16bit (gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = data_path ("refnets", name);
  g_autofree char *dir = g_dir_make_tmp ("cfqp-qdq-XXXXXX", NULL);
  g_autofree char *qdq_path = g_build_filename (dir, "model-qdq16.onnx", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &error);
  const CfqpGraph *g;
  const guint w = 24, h = 16;
  g_autofree float *frame = NULL;
  g_autofree CfqpQParams *qp = NULL;
  g_autofree char *bytes = NULL;
  CfqpQuantisation q = { 0 };
  CfqpInt8Program *prog;
  Onnx__ModelProto *mp;
  gsize len;
  guint n_convs = 0;

  g_assert_no_error (error);
  g = cfqp_model_get_graph (model);
  frame = test_frame (cfqp_model_get_channels (model), w, h);
  qp = calibrate (model, frame, w, h);
  q.qparams = qp;
  g_assert_false (cfqp_model_export_qdq_precision (model, &q, CFQP_PRECISION_FP32, qdq_path,
          &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (cfqp_model_export_qdq_precision (model, &q, CFQP_PRECISION_INT16, qdq_path,
          &error));
  g_assert_no_error (error);
  prog = cfqp_int8_program_new_bits (g, &q, 16, &error);
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (qdq_path, &bytes, &len, NULL));
  mp = onnx__model_proto__unpack (NULL, len, (const guint8 *) bytes);
  g_assert_nonnull (mp);
  g_assert_cmpint (mp->ir_version, ==, 10);
  g_assert_cmpuint (mp->n_opset_import, ==, 1);
  g_assert_cmpint (mp->opset_import[0]->version, ==, 21);
  for (guint v = 0; v < g->n_values; v++) {
    g_autofree char *zn = g_strdup_printf ("%s/zp", g->values[v].name);
    g_autofree char *sn = g_strdup_printf ("%s/scale", g->values[v].name);
    const guint8 *zp = init_data (mp, zn, ONNX__TENSOR_PROTO__DATA_TYPE__UINT16, 1, 2);
    const guint8 *sc = init_data (mp, sn, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, 4);
    float scale;

    memcpy (&scale, sc, 4);
    g_assert_cmpint (GUINT16_FROM_LE (*(const guint16 *) zp), ==, prog->qparams[v].zero_point);
    g_assert_cmpfloat (scale, ==, prog->qparams[v].scale);
  }
  for (guint i = 0; i < g->n_nodes; i++) {
    const CfqpNode *node = &g->nodes[i];
    const CfqpConvParams *cp = &node->p.conv;
    const CfqpInt8Node *qn = &prog->nodes[i];
    const char *vname = g->values[node->output].name;
    guint oc_n, icg;
    gsize n_w;
    g_autofree char *wn = NULL, *sn = NULL, *bn = NULL;
    g_autofree double *wscale = NULL;
    const guint8 *wq, *ws, *b;

    if (node->op != CFQP_OP_CONV)
      continue;
    n_convs++;
    oc_n = cp->out_channels;
    icg = cp->in_channels / cp->groups;
    n_w = (gsize) oc_n * icg * cp->kernel_h * cp->kernel_w;
    wn = g_strdup_printf ("%s/w_q", vname);
    sn = g_strdup_printf ("%s/w_scale", vname);
    bn = g_strdup_printf ("%s/b", vname);
    wq = init_data (mp, wn, ONNX__TENSOR_PROTO__DATA_TYPE__INT16, n_w, 2);
    ws = init_data (mp, sn, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, oc_n, 4);
    b = init_data (mp, bn, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, oc_n, 4);
    for (gsize k = 0; k < n_w; k++)
      g_assert_cmpint ((gint16) GUINT16_FROM_LE (((const guint16 *) wq)[k]), ==, qn->weight16[k]);
    wscale = g_new (double, oc_n);
    cfqp_int16_conv_weight_scales (cp, FALSE, wscale);
    for (guint oc = 0; oc < oc_n; oc++) {
      float s, bias;

      memcpy (&s, ws + 4 * oc, 4);
      memcpy (&bias, b + 4 * oc, 4);
      g_assert_cmpfloat (s, ==, (float) wscale[oc]);
      g_assert_cmpfloat (bias, ==, (float) ((double) qn->bias64[oc] *
              (double) prog->qparams[node->inputs[0]].scale * wscale[oc]));
    }
  }
  g_assert_cmpuint (n_convs, >, 0);
  onnx__model_proto__free_unpacked (mp, NULL);
  cfqp_int8_program_free (prog);

  /* not for the engine itself: refused, with the reason */
  g_assert_null (cfqp_model_new_from_file (qdq_path, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "opset 21"));
  g_unlink (qdq_path);
  g_rmdir (dir);
}

static void
test_export_refusals (void)
{
  g_autofree char *path = data_path ("refnets", "espcn-x3-norm-op13.onnx");
  g_autofree char *out = g_build_filename (g_get_tmp_dir (), "cfqp-qdq-never.onnx", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &error);

  g_assert_no_error (error);
  /* no table and no embedded one */
  g_assert_false (cfqp_model_export_qdq (model, NULL, out, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "quantisation parameters"));
  g_clear_error (&error);
  /* a normalisation folded into the first conv pads with non-zero values */
  {
    const guint w = 12, h = 10;
    g_autofree float *frame = test_frame (cfqp_model_get_channels (model), w, h);
    g_autofree CfqpQParams *qp = calibrate (model, frame, w, h);
    g_assert_false (cfqp_model_export_qdq (model, qp, out, &error));
    g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "pads with"));
  }
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static guint8 *
read_bytes (const char *name, gsize want)
{
  g_autofree char *path = data_path ("qdq", name);
  char *data;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_cmpuint (len, ==, want);
  return (guint8 *) data;
}

/* Made by onnx.helper with its own scales: they are what runs. */
static void
test_third_party (void)
{
  g_autofree char *path = data_path ("qdq", "tiny-qdq-x2.onnx");
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &error);
  const guint w = 16, h = 12, c = 3;
  g_autofree guint8 *in = read_bytes ("tiny-qdq-x2.in.u8", (gsize) c * w * h);
  g_autofree guint8 *want = read_bytes ("tiny-qdq-x2.out.u8", (gsize) c * w * h * 4);
  g_autofree float *frame = g_new (float, (gsize) c * w * h), *out = NULL;
  g_autofree char *qtext = NULL, *qp_path = data_path ("qdq", "tiny-qdq-x2.qparams");
  g_auto (GStrv) lines = NULL, wscales = NULL;
  const CfqpQParams *emb;
  const CfqpGraph *g;
  guint conv1 = G_MAXUINT, worst = 0, differ = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (cfqp_model_get_scale (model), ==, 2);
  g = cfqp_model_get_graph (model);
  /* Conv → Q/DQ → Relu → Q/DQ fused: conv, conv, depth-to-space */
  g_assert_cmpuint (g->n_nodes, ==, 3);
  g_assert_cmpint (g->nodes[0].act.kind, ==, CFQP_ACT_RELU);
  emb = cfqp_model_get_embedded_qparams (model);
  g_assert_nonnull (emb);

  g_assert_true (g_file_get_contents (qp_path, &qtext, NULL, NULL));
  lines = g_strsplit (qtext, "\n", -1);
  for (guint t = 0; t < cfqp_model_get_n_tensors (model); t++)
    if (!strcmp (cfqp_model_get_tensor_name (model, t), "conv1"))
      conv1 = t;
  g_assert_cmpuint (conv1, <, cfqp_model_get_n_tensors (model));
  {
    g_auto (GStrv) f = g_strsplit (lines[0], " ", -1);
    g_assert_cmpstr (f[0], ==, "conv1");
    /* the post-ReLU parameters, moved onto the fused conv's output */
    g_assert_cmpfloat (emb[conv1].scale, ==, (float) g_ascii_strtod (f[1], NULL));
    g_assert_cmpint (emb[conv1].zero_point, ==, atoi (f[2]));
  }
  wscales = g_strsplit (lines[1], " ", -1);
  g_assert_cmpstr (wscales[0], ==, "w1_scale");
  g_assert_nonnull (g->nodes[0].p.conv.weight_scale);
  for (guint oc = 0; oc < 8; oc++)
    g_assert_cmpfloat (g->nodes[0].p.conv.weight_scale[oc], ==,
        (float) g_ascii_strtod (wscales[1 + oc], NULL));
  g_assert_nonnull (g->nodes[1].p.conv.weight_scale);

  for (gsize k = 0; k < (gsize) c * w * h; k++)
    frame[k] = in[k] / 255.f;
  out = run_int8 (model, emb, frame, w, h);
  for (gsize k = 0; k < (gsize) c * w * h * 4; k++) {
    gint v = (gint) lrintf (CLAMP (out[k], 0.f, 1.f) * 255.f);
    guint d = (guint) ABS (v - want[k]);
    worst = MAX (worst, d);
    differ += d != 0;
  }
  g_test_message ("tiny-qdq-x2 vs ONNX semantics: max |Δ| %u, %u of %u bytes differ", worst,
      differ, c * w * h * 4);
  /* integer requantisation vs float rounding: within one step */
  g_assert_cmpuint (worst, <=, 1);
  g_assert_cmpuint (differ, <=, c * w * h * 4 / 20);
}

typedef struct {
  const char *file;
  const char *message;
} Hostile;

static const Hostile hostile[] = {
  { "bad-weight-scale-zero.onnx", "scale 0 is not a positive finite number" },
  { "bad-weight-scale-negative.onnx", "is not a positive finite number" },
  { "bad-act-scale-nan.onnx", "scale nan is not a positive finite number" },
  { "bad-act-scale-zero.onnx", "scale 0 is not a positive finite number" },
  { "bad-act-zero-point-300.onnx", "zero point 300 is out of range" },
  { "bad-weight-axis-3.onnx", "1-D tensor of 3" },
  { "bad-weight-axis-out-of-range.onnx", "axis 7 is out of range" },
  { "bad-act-per-channel.onnx", "per-channel quantisation of an activation" },
  { "bad-qdq-mismatch.onnx", "differ from those of its QuantizeLinear" },
};

static void
test_hostile (gconstpointer data)
{
  const Hostile *hc = data;
  g_autofree char *path = data_path ("qdq", hc->file);
  g_autoptr (GError) error = NULL;
  CfqpModel *model = cfqp_model_new_from_file (path, &error);

  g_assert_null (model);
  g_assert_nonnull (error);
  g_test_message ("%s: %s", hc->file, error->message);
  if (!strstr (error->message, hc->message))
    g_error ("%s: '%s' does not say '%s'", hc->file, error->message, hc->message);
}

int
main (int argc, char **argv)
{
  static const char *models[] = {
    "abpn-x3-cat-op13.onnx", "abpn-x3-tile-clip-op13.onnx", "abpn-x3-tile-clip-op13-torch.onnx",
    "bicubicpp-x2-unshuffle-op13.onnx", "bicubicpp-x3-s2conv-op13.onnx",
    "bicubicpp-x4-s2d-op13.onnx", "fsrcnn-x2-luma-op13.onnx", "quicksrnet-x2-dcr-op13.onnx",
    "quicksrnet-x4-luma-op13.onnx", "samepad-x2-op13.onnx", "sesr-x4-nearest-op13.onnx",
    "xlsr-x2-clip-op13.onnx",
  };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (models); i++) {
    g_autofree char *p = g_strdup_printf ("/qdq/round-trip/%s", models[i]);
    g_test_add_data_func (p, models[i], test_round_trip);
  }
  g_test_add_data_func ("/qdq/export-16bit/xlsr-x2-clip-op13.onnx", "xlsr-x2-clip-op13.onnx",
      test_export_16bit);
  g_test_add_data_func ("/qdq/export-16bit/abpn-x3-cat-op13.onnx", "abpn-x3-cat-op13.onnx",
      test_export_16bit);
  g_test_add_func ("/qdq/export-refusals", test_export_refusals);
  g_test_add_func ("/qdq/third-party", test_third_party);
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++) {
    g_autofree char *p = g_strdup_printf ("/qdq/hostile/%s", hostile[i].file);
    g_test_add_data_func (p, &hostile[i], test_hostile);
  }
  return g_test_run ();
}
