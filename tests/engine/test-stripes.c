/* Stripe execution (cfqp-stripes.h, run by cfqp-host-exec.c) against layer
 * by layer, byte for byte: the reference networks of tests/data/refnets
 * (strided convs, conv transposes, space-to-depth, resize, SAME padding,
 * concat, tile…) and the shipped models/abpn-x3.onnx and xlsr-x3.onnx
 * (grouped convs) with their calibrations (also on the forced orc and
 * native conv kernels), at odd sizes, stripe heights from 1 row to more
 * than the frame, 1–3 threads, on the cpu and ref kernels; every result
 * equals ref run layer by layer.  FP32 on the same executor: every stripe
 * height gives the floats of layer by layer, bit for bit.  Also the row
 * mapping of each op, and the automatic height. */
#include "cfqp-calib.h"
#include "cfqp-f32-exec.h"
#include "cfqp-int8-cpu.h"
#include "cfqp-int8-exec.h"
#include "cfqp-model-private.h"
#include "cfqp-stripes.h"
#include "minmax-qparams.h"
#include "test-models.h"

#include <math.h>
#include <string.h>

/* odd sizes, and two that nets under space-to-depth ×4 or stride 2 take */
static const guint sizes[][2] = { { 1, 1 }, { 17, 13 }, { 37, 23 }, { 640, 7 }, { 24, 12 },
                                  { 52, 36 } };
static const gint heights[] = { 1, 2, 5, 7, 64, 100000, CFQP_STRIPES_AUTO };

typedef struct {
  char *name;
  char *path;
  char *calib;   /* NULL: parameters observed from a synthetic frame */
} ModelCase;

/* Smooth ramps with some texture, per channel: like an image, not noise. */
static guint8
pixel (guint c, guint y, guint x)
{
  return (guint8) (((x * (3 + c)) + (y * (5 + 2 * c)) + ((x * y * 7 + c * 31) % 23) * 3) & 0xff);
}

static CfqpQParams *
observed_qparams (CfqpModel *model, guint channels)
{
  const guint w = 48, h = 32;   /* a size every net takes (space-to-depth ×4) */
  g_autofree float *in = g_new (float, (gsize) channels * w * h);
  g_autoptr (GError) error = NULL;
  CfqpQParams *qp;

  for (guint c = 0; c < channels; c++)
    for (guint y = 0; y < h; y++)
      for (guint x = 0; x < w; x++)
        in[((gsize) c * h + y) * w + x] = pixel (c, y, x) / 255.f;
  qp = minmax_qparams_observe (model, in, w, h, NULL, &error);
  g_assert_true (qp != NULL);
  g_assert_no_error (error);
  return qp;
}

typedef struct {
  CfqpWorkers  *workers;
  CfqpInt8Exec *exec;
} Exec;

static Exec
exec_new (const CfqpGraph *g, const CfqpQParams *qp, const CfqpInt8Backend *backend,
    guint threads)
{
  g_autoptr (GError) error = NULL;
  Exec e = { cfqp_workers_new (threads), NULL };
  CfqpInt8Program *program = cfqp_int8_program_new (g, qp, &error);

  g_assert_no_error (error);
  e.exec = cfqp_int8_exec_new (g, backend, e.workers, CFQP_STRIPES_AUTO, FALSE);
  cfqp_int8_exec_set_program (e.exec, program);
  return e;
}

static void
exec_free (Exec *e)
{
  cfqp_int8_exec_free (e->exec);
  cfqp_workers_free (e->workers);
}

/* Runs with the stripe setting rows; NULL when the size is refused (then
 * every setting must refuse it). */
static guint8 *
run (Exec *e, gint rows, const guint8 *in, guint w, guint h, gsize n_out, guint *used)
{
  g_autoptr (GError) error = NULL;
  guint8 *out = g_malloc (n_out + 1);

  out[n_out] = 0x5a;   /* a guard byte: nothing writes past the output */
  cfqp_host_exec_set_stripe_rows (cfqp_int8_exec_get_host (e->exec), rows);
  if (!cfqp_int8_exec_run (e->exec, in, w, h, out, &error)) {
    g_assert_nonnull (error);
    g_free (out);
    return NULL;
  }
  g_assert_cmpuint (out[n_out], ==, 0x5a);
  *used = cfqp_host_exec_get_stripe_rows (cfqp_int8_exec_get_host (e->exec));
  return out;
}

/* FP32 at w × h (in: the bytes / 255): layer by layer on one thread, then
 * stripe heights on two (fewer than INT8's: FP32 has one kernel set, and
 * the test's time is mostly spent here), the same floats. */
static const gint f32_heights[] = { 1, 7, 100000, CFQP_STRIPES_AUTO };

static void
check_f32 (const CfqpGraph *g, guint scale, const guint8 *in8, guint w, guint h,
    guint channels)
{
  gsize n_in = (gsize) channels * w * h, n_out = n_in * scale * scale;
  g_autofree float *in = g_new (float, n_in);
  g_autofree float *want = g_new (float, n_out), *got = g_new (float, n_out);
  CfqpWorkers *one = cfqp_workers_new (1), *two = cfqp_workers_new (2);
  CfqpHostExec *layers = cfqp_f32_host_exec_new (g, scale, 1, one, CFQP_STRIPES_OFF, FALSE);
  CfqpHostExec *striped = cfqp_f32_host_exec_new (g, scale, 1, two, CFQP_STRIPES_AUTO, FALSE);
  g_autoptr (GError) error = NULL;

  for (gsize k = 0; k < n_in; k++)
    in[k] = in8[k] / 255.f;
  g_assert_true (cfqp_host_exec_run (layers, in, w, h, want, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cfqp_host_exec_get_stripe_rows (layers), ==, 0);
  for (guint k = 0; k < G_N_ELEMENTS (f32_heights); k++) {
    cfqp_host_exec_set_stripe_rows (striped, f32_heights[k]);
    g_assert_true (cfqp_host_exec_run (striped, in, w, h, got, &error));
    if (f32_heights[k] > 0)
      g_assert_cmpuint (cfqp_host_exec_get_stripe_rows (striped), ==,
          MIN ((guint) f32_heights[k], h * scale));
    g_assert_cmpmem (got, n_out * sizeof (float), want, n_out * sizeof (float));
  }
  cfqp_host_exec_free (layers);
  cfqp_host_exec_free (striped);
  cfqp_workers_free (one);
  cfqp_workers_free (two);
}

static void
test_model (gconstpointer data)
{
  const ModelCase *mc = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (mc->path, &error);
  g_autoptr (CfqpCalibration) calib = NULL;
  g_autofree CfqpQParams *qp = NULL;
  const CfqpGraph *g;
  guint channels, scale;
  Exec ref1, cpu[3], ref2, forced[2];
  guint n_striped = 0;

  g_assert_no_error (error);
  if (mc->calib) {
    /* the model the calibration is for (the shipped one: clip-free), as cfqpsr runs it */
    calib = cfqp_calibration_load (mc->calib, NULL, &error);
    g_assert_no_error (error);
    {
      CfqpModel *run = cfqp_calibration_new_run_model (calib, model);
      cfqp_model_unref (model);
      model = run;
    }
    g_assert_true (cfqp_calibration_check_model (calib, model, &error));
  }
  g = cfqp_model_get_graph (model);
  channels = g->values[0].channels;
  if (mc->calib) {
    qp = cfqp_calibration_to_qparams (calib, model, &error);
    g_assert_no_error (error);
  } else {
    qp = observed_qparams (model, channels);
  }
  scale = cfqp_model_get_scale (model);
  g_assert_true (cfqp_stripes_supported (g, NULL));

  ref1 = exec_new (g, qp, &cfqp_int8_ref_backend, 1);
  ref2 = exec_new (g, qp, &cfqp_int8_ref_backend, 2);
  for (guint t = 0; t < 3; t++)
    cpu[t] = exec_new (g, qp, &cfqp_int8_cpu_backend, t + 1);
  if (mc->calib) {
    forced[0] = exec_new (g, qp, &cfqp_int8_cpu_orc_backend, 2);
    forced[1] = exec_new (g, qp, &cfqp_int8_cpu_native_backend, 2);
  }

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint w = sizes[s][0], h = sizes[s][1], used = 0;
    gsize n_in = (gsize) channels * w * h, n_out = n_in * scale * scale;
    g_autofree guint8 *in = g_malloc (n_in);
    g_autofree guint8 *want = NULL;

    for (guint c = 0; c < channels; c++)
      for (guint y = 0; y < h; y++)
        for (guint x = 0; x < w; x++)
          in[((gsize) c * h + y) * w + x] = pixel (c, y, x);
    want = run (&ref1, CFQP_STRIPES_OFF, in, w, h, n_out, &used);
    if (!want) {
      /* a size the model refuses (e.g. odd sizes under stride 2): so do stripes */
      g_test_message ("%s: %u×%u refused", mc->name, w, h);
      for (guint t = 0; t < 3; t++)
        g_assert_null (run (&cpu[t], 3, in, w, h, n_out, &used));
      continue;
    }
    g_assert_cmpuint (used, ==, 0);
    check_f32 (g, scale, in, w, h, channels);
    {
      /* ref on stripes, one odd height */
      g_autofree guint8 *got = run (&ref2, 5, in, w, h, n_out, &used);
      g_assert_cmpuint (used, ==, MIN (5, h * scale));
      g_assert_cmpmem (got, n_out, want, n_out);
    }
    for (guint f = 0; f < G_N_ELEMENTS (forced) && mc->calib; f++) {
      g_autofree guint8 *layers = run (&forced[f], CFQP_STRIPES_OFF, in, w, h, n_out, &used);
      g_autofree guint8 *striped = run (&forced[f], 5, in, w, h, n_out, &used);
      g_assert_cmpmem (layers, n_out, want, n_out);
      g_assert_cmpmem (striped, n_out, want, n_out);
    }
    for (guint t = 0; t < 3; t++) {
      g_autofree guint8 *layers = run (&cpu[t], CFQP_STRIPES_OFF, in, w, h, n_out, &used);
      g_assert_cmpuint (used, ==, 0);
      g_assert_cmpmem (layers, n_out, want, n_out);
      for (guint k = 0; k < G_N_ELEMENTS (heights); k++) {
        g_autofree guint8 *got = run (&cpu[t], heights[k], in, w, h, n_out, &used);
        if (heights[k] > 0)
          g_assert_cmpuint (used, ==, MIN ((guint) heights[k], h * scale));
        n_striped += used > 0;
        if (memcmp (got, want, n_out)) {
          gsize first = 0;
          while (got[first] == want[first])
            first++;
          g_error ("%s %u×%u, %u threads, stripes %d: byte %" G_GSIZE_FORMAT " differs",
              mc->name, w, h, t + 1, heights[k], first);
        }
      }
    }
  }
  g_assert_cmpuint (n_striped, >, 0);
  exec_free (&ref1);
  exec_free (&ref2);
  for (guint t = 0; t < 3; t++)
    exec_free (&cpu[t]);
  for (guint f = 0; f < G_N_ELEMENTS (forced) && mc->calib; f++)
    exec_free (&forced[f]);
}

/* Rows each op reads for output rows [y0, y1), against the ref kernels'
 * formulas evaluated row by row. */
static void
test_rows (void)
{
  CfqpShape shapes[2] = { { 4, 20, 9 }, { 4, 0, 9 } };
  CfqpNode node = { 0 };
  guint in_val = 0;

  node.inputs = &in_val;
  node.n_inputs = 1;
  node.output = 1;
  for (guint kh = 1; kh <= 5; kh += 2)
    for (guint sh = 1; sh <= 3; sh++)
      for (guint dh = 1; dh <= 2; dh++)
        for (guint pt = 0; pt <= 3; pt++)
          for (gint transpose = 0; transpose <= 1; transpose++) {
            CfqpConvParams *cp = &node.p.conv;
            guint eff = (kh - 1) * dh + 1, oh;
            memset (cp, 0, sizeof *cp);
            node.op = transpose ? CFQP_OP_CONV_TRANSPOSE : CFQP_OP_CONV;
            cp->kernel_h = cp->kernel_w = kh;
            cp->stride_h = cp->stride_w = sh;
            cp->dilation_h = cp->dilation_w = dh;
            cp->pad_t = cp->pad_b = pt;
            cp->groups = 1;
            cp->in_channels = cp->out_channels = 4;
            if (transpose) {
              if (pt >= eff)
                continue;
              oh = (shapes[0].h - 1) * sh + eff - 2 * pt;
            } else {
              if (shapes[0].h + 2 * pt < eff)
                continue;
              oh = (shapes[0].h + 2 * pt - eff) / sh + 1;
            }
            for (guint y0 = 0; y0 < oh; y0++)
              for (guint y1 = y0 + 1; y1 <= MIN (oh, y0 + 4); y1++) {
                CfqpRows r = cfqp_stripes_input_rows (&node, 0, shapes, (CfqpRows) { y0, y1 });
                gint lo = G_MAXINT, hi = G_MININT;
                for (guint oy = y0; oy < y1; oy++)
                  for (guint ky = 0; ky < kh; ky++) {
                    gint iy;
                    if (transpose) {
                      gint ny = (gint) (oy + pt) - (gint) (ky * dh);
                      if (ny < 0 || ny % (gint) sh || ny / (gint) sh >= (gint) shapes[0].h)
                        continue;
                      iy = ny / (gint) sh;
                    } else {
                      iy = (gint) (oy * sh + ky * dh) - (gint) pt;
                      if (iy < 0 || iy >= (gint) shapes[0].h)
                        continue;
                    }
                    lo = MIN (lo, iy);
                    hi = MAX (hi, iy + 1);
                  }
                if (lo > hi)
                  continue;
                /* every row read (else wrong bytes), and no more than the hull's
                 * dilation/stride gaps (waste) */
                g_assert_cmpint (r.y0, <=, lo);
                g_assert_cmpint (r.y1, >=, hi);
                g_assert_cmpint (lo - (gint) r.y0, <, (gint) MAX (sh, dh));
                g_assert_cmpint ((gint) r.y1 - hi, <, (gint) MAX (sh, dh));
              }
          }
  node.op = CFQP_OP_DEPTH_TO_SPACE;
  node.p.shuffle.block = 3;
  {
    CfqpRows r = cfqp_stripes_input_rows (&node, 0, shapes, (CfqpRows) { 4, 8 });
    g_assert_cmpuint (r.y0, ==, 1);
    g_assert_cmpuint (r.y1, ==, 3);
  }
  node.op = CFQP_OP_SPACE_TO_DEPTH;
  node.p.shuffle.block = 2;
  {
    CfqpRows r = cfqp_stripes_input_rows (&node, 0, shapes, (CfqpRows) { 3, 5 });
    g_assert_cmpuint (r.y0, ==, 6);
    g_assert_cmpuint (r.y1, ==, 10);
  }
  node.op = CFQP_OP_RESIZE_NEAREST;
  node.p.resize.scale_h = 4;
  {
    CfqpRows r = cfqp_stripes_input_rows (&node, 0, shapes, (CfqpRows) { 3, 9 });
    g_assert_cmpuint (r.y0, ==, 0);
    g_assert_cmpuint (r.y1, ==, 3);
  }
}

/* The automatic height: an ABPN-28 stripe fits half an L2 of 1 MiB at a
 * narrow width, at none at 640 pixels (layer by layer), and the buffers of
 * a tall stripe are far below the whole frame's. */
static void
test_auto (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_graph (test_model_abpn (3, 28, 5, 3, 17),
      "abpn28", &error);
  const CfqpGraph *g = cfqp_model_get_graph (model);
  g_autofree CfqpShape *shapes = g_new0 (CfqpShape, g->n_values);
  CfqpStripePlan sp = { 0 };
  guint rows;

  g_assert_no_error (error);
  g_assert_true (cfqp_graph_infer_shapes (g, 48, 360, shapes, &error));
  rows = cfqp_stripes_choose_rows (g, shapes, 512 * 1024, 0.10, 1);
  g_assert_cmpuint (rows, >, 0);
  g_assert_cmpuint (rows % 3, ==, 0);
  cfqp_stripe_plan_build (&sp, g, shapes, rows);
  g_assert_cmpuint (sp.bytes, <=, 512 * 1024);
  g_assert_cmpfloat (sp.recompute, <=, 0.10);
  g_test_message ("48×360: %u rows, %u stripes, %" G_GSIZE_FORMAT " bytes, %.1f %% recomputed",
      rows, sp.n_stripes, sp.bytes, sp.recompute * 100);
  g_assert_true (cfqp_graph_infer_shapes (g, 640, 360, shapes, &error));
  g_assert_cmpuint (cfqp_stripes_choose_rows (g, shapes, 512 * 1024, 0.10, 1), ==, 0);
  cfqp_stripe_plan_build (&sp, g, shapes, 270);
  g_assert_cmpuint (sp.n_stripes, ==, 4);
  /* 7 convs of 3×3 stride 1: an inner stripe reads 90 + 2·7 input rows */
  g_assert_cmpuint (sp.cap[0], ==, 90 + 2 * 7);
  g_assert_cmpuint (sp.slot_of_value[0], ==, CFQP_PLAN_EXTERNAL);
  cfqp_stripe_plan_clear (&sp);
  g_assert_cmpuint (cfqp_stripes_l2_bytes (), >, 0);
}

int
main (int argc, char **argv)
{
  const char *data = g_getenv ("CFQP_TEST_DATA");
  static const char *refnets[] = {
    "abpn-x3-cat", "abpn-x3-tile-clip", "bicubicpp-x2-unshuffle", "bicubicpp-x3-s2conv",
    "bicubicpp-x4-s2d", "espcn-x3-norm", "fsrcnn-x2-luma", "fsrcnn-x3-luma",
    "quicksrnet-x2-dcr", "quicksrnet-x4-luma", "samepad-x2", "sesr-x4-nearest", "xlsr-x2-clip",
  };
  g_autoptr (GPtrArray) cases = g_ptr_array_new ();
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (data);
  for (guint i = 0; i < G_N_ELEMENTS (refnets); i++) {
    ModelCase *mc = g_new0 (ModelCase, 1);
    g_autofree char *file = g_strconcat (refnets[i], "-op13.onnx", NULL);
    mc->name = g_strdup (refnets[i]);
    mc->path = g_build_filename (data, "refnets", file, NULL);
    g_ptr_array_add (cases, mc);
  }
  {
    ModelCase *mc = g_new0 (ModelCase, 1);
    mc->name = g_strdup ("abpn-x3-shipped");
    mc->path = g_build_filename (CFQP_MODELS_DIR, "abpn-x3.onnx", NULL);
    mc->calib = g_build_filename (CFQP_MODELS_DIR, "abpn-x3.calib.json", NULL);
    g_ptr_array_add (cases, mc);
  }
  {
    /* grouped convs (4 groups of 8) on the cpu set's fast paths */
    ModelCase *mc = g_new0 (ModelCase, 1);
    mc->name = g_strdup ("xlsr-x3-shipped");
    mc->path = g_build_filename (CFQP_MODELS_DIR, "xlsr-x3.onnx", NULL);
    mc->calib = g_build_filename (CFQP_MODELS_DIR, "xlsr-x3.calib.json", NULL);
    g_ptr_array_add (cases, mc);
  }
  for (guint i = 0; i < cases->len; i++) {
    ModelCase *mc = g_ptr_array_index (cases, i);
    g_autofree char *p = g_strconcat ("/stripes/model/", mc->name, NULL);
    g_test_add_data_func (p, mc, test_model);
  }
  g_test_add_func ("/stripes/rows", test_rows);
  g_test_add_func ("/stripes/auto", test_auto);
  status = g_test_run ();
  for (guint i = 0; i < cases->len; i++) {
    ModelCase *mc = g_ptr_array_index (cases, i);
    g_free (mc->name);
    g_free (mc->path);
    g_free (mc->calib);
    g_free (mc);
  }
  return status;
}
