/* CfqpRunner: whole graphs against the reference, threading, plan changes,
 * option errors, the host executors' options (stripes, profile) and the
 * environment knobs mapped onto them. */
#include "cfqp-model-private.h"
#include "ref-f64.h"
#include "test-models.h"

#include <math.h>
#include <string.h>

static CfqpModel *
abpn_model (void)
{
  g_autoptr (GError) error = NULL;
  CfqpModel *model = cfqp_model_new_from_graph (test_model_abpn (3, 8, 2, 3, 7), "abpn", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (cfqp_model_get_scale (model), ==, 3);
  return model;
}

static CfqpRunner *
runner_with_threads (CfqpModel *model, guint n_threads)
{
  CfqpRunnerOptions options = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (GError) error = NULL;
  CfqpRunner *runner;

  options.n_threads = n_threads;
  runner = cfqp_runner_new (model, &options, &error);
  g_assert_no_error (error);
  return runner;
}

static float *
run (CfqpRunner *runner, const float *in, guint w, guint h)
{
  g_autoptr (GError) error = NULL;
  float *out = g_new (float, 3 * 9 * w * h);

  g_assert_true (cfqp_runner_run_f32 (runner, in, w, h, out, &error));
  g_assert_no_error (error);
  return out;
}

static void
test_matches_reference (void)
{
  g_autoptr (CfqpModel) model = abpn_model ();
  g_autoptr (CfqpRunner) runner = runner_with_threads (model, 2);
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  static const guint sizes[][2] = { { 37, 23 }, { 1, 1 }, { 64, 5 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    guint w = sizes[s][0], h = sizes[s][1];
    g_autofree float *in = ref_random_floats (rand, 3 * w * h, 0, 1);
    g_autofree float *out = run (runner, in, w, h);
    g_autofree double *in64 = g_new (double, 3 * w * h);
    RefTensor ref_in = { { 3, h, w }, in64 }, ref_out;

    for (guint i = 0; i < 3 * w * h; i++)
      in64[i] = in[i];
    ref_out = ref_graph (cfqp_model_get_graph (model), &ref_in);
    g_assert_cmpuint (ref_out.shape.w, ==, 3 * w);
    for (guint i = 0; i < 3 * 9 * w * h; i++)
      if (!(fabs (out[i] - ref_out.data[i]) < 1e-5))
        g_error ("%u×%u: element %u is %g, want %g", w, h, i, out[i], ref_out.data[i]);
    g_free (ref_out.data);
  }
}

/* Rows are split between threads, never the arithmetic of one element. */
static void
test_threads_agree (void)
{
  g_autoptr (CfqpModel) model = abpn_model ();
  g_autoptr (CfqpRunner) one = runner_with_threads (model, 1);
  g_autoptr (CfqpRunner) three = runner_with_threads (model, 3);
  g_autoptr (GRand) rand = g_rand_new_with_seed (12);
  guint w = 61, h = 47;
  g_autofree float *in = ref_random_floats (rand, 3 * w * h, 0, 1);
  g_autofree float *a = run (one, in, w, h);

  for (guint k = 0; k < 3; k++) {
    g_autofree float *b = run (three, in, w, h);
    g_assert_cmpmem (a, 3 * 9 * w * h * sizeof (float), b, 3 * 9 * w * h * sizeof (float));
  }
}

/* Changing the frame size replans; coming back gives the same result. */
static void
test_size_changes (void)
{
  g_autoptr (CfqpModel) model = abpn_model ();
  g_autoptr (CfqpRunner) runner = runner_with_threads (model, 2);
  g_autoptr (GRand) rand = g_rand_new_with_seed (13);
  g_autofree float *big = ref_random_floats (rand, 3 * 40 * 30, 0, 1);
  g_autofree float *small = ref_random_floats (rand, 3 * 9 * 4, 0, 1);
  g_autofree float *first = run (runner, big, 40, 30);
  g_autofree float *small_out = run (runner, small, 9, 4);
  g_autofree float *again = run (runner, big, 40, 30);
  g_autoptr (CfqpRunner) fresh = runner_with_threads (model, 2);
  g_autofree float *small_fresh = run (fresh, small, 9, 4);

  g_assert_cmpmem (first, 3 * 9 * 40 * 30 * sizeof (float), again, 3 * 9 * 40 * 30 * sizeof (float));
  g_assert_cmpmem (small_out, 3 * 9 * 36 * sizeof (float), small_fresh, 3 * 9 * 36 * sizeof (float));
}

static void
test_options (void)
{
  g_autoptr (CfqpModel) model = abpn_model ();
  CfqpRunnerOptions options = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpRunner) runner = NULL;
  float in[3] = { 0 }, out[27];

  options.precision = CFQP_PRECISION_INT8;
  g_assert_null (cfqp_runner_new (model, &options, &error));
  /* INT8 without quantisation parameters is refused, never silently FP32 */
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "calibration"));
  g_clear_error (&error);

  options.precision = CFQP_PRECISION_FP32;
  options.backend = CFQP_BACKEND_OPENCL;
  g_assert_null (cfqp_runner_new (model, &options, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_BACKEND);
  g_clear_error (&error);

  for (CfqpBackendKind b = CFQP_BACKEND_AUTO; b <= CFQP_BACKEND_CPU; b++) {
    g_autoptr (CfqpRunner) r = NULL;
    options.backend = b;
    r = cfqp_runner_new (model, &options, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (cfqp_runner_get_active_backend (r), ==, "cpu");
  }

  runner = cfqp_runner_new (model, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (cfqp_runner_get_model (runner) == model);
  g_assert_false (cfqp_runner_run_f32 (runner, in, CFQP_MAX_FRAME_DIM + 1, 1, out, &error));
  g_assert_error (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_LIMIT);
  g_clear_error (&error);
  /* Still usable after a refused size. */
  g_assert_true (cfqp_runner_run_f32 (runner, in, 1, 1, out, &error));
  g_assert_no_error (error);
}

/* One frame on a host executor with the profile on; freeing the runner prints it. */
static void
profile_run (CfqpPrecision precision, gint stripe_rows, gboolean profile)
{
  g_autoptr (CfqpModel) model = abpn_model ();
  CfqpRunnerOptions options = CFQP_RUNNER_OPTIONS_INIT;
  guint n = cfqp_model_get_n_tensors (model), w = 16, h = 12;
  g_autofree CfqpQParams *qp = g_new (CfqpQParams, n);
  g_autofree float *in = g_new0 (float, 3 * w * h);
  g_autoptr (GError) error = NULL;
  CfqpRunner *runner;

  for (guint i = 0; i < n; i++)
    qp[i] = (CfqpQParams) { 4.f / 255, 128 };
  options.precision = precision;
  options.backend = CFQP_BACKEND_CPU;
  options.n_threads = 1;
  options.qparams = precision == CFQP_PRECISION_INT8 ? qp : NULL;
  options.stripe_rows = stripe_rows;
  options.profile = profile;
  runner = cfqp_runner_new (model, &options, &error);
  g_assert_no_error (error);
  g_free (run (runner, in, w, h));
  cfqp_runner_free (runner);
}

/* stripe_rows and profile reach both host executors (the profile's summary
 * names the order each ran in); $CFQP_INT8_PROFILE alone does nothing: the
 * engine reads no environment. */
static void
test_profile (void)
{
  if (g_test_subprocess ()) {
    g_setenv ("CFQP_INT8_PROFILE", "1", TRUE);
    g_printerr ("[environment only]\n");
    profile_run (CFQP_PRECISION_INT8, CFQP_STRIPES_AUTO, FALSE);
    profile_run (CFQP_PRECISION_FP32, CFQP_STRIPES_AUTO, FALSE);
    g_printerr ("[options]\n");
    profile_run (CFQP_PRECISION_FP32, 5, TRUE);
    profile_run (CFQP_PRECISION_INT8, CFQP_STRIPES_OFF, TRUE);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*[environment only]\n[options]\n"
      "fp32 profile: node 0 '*' (*): * ms/run*"
      "fp32 profile: 1 runs (cpu, stripes): frame * ms/run*"
      "int8 profile: node 0 '*' (*): * ms/run*"
      "int8 profile: 1 runs (cpu, layer by layer): frame * ms/run*");
}

static void
test_options_from_env (void)
{
  CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
  static const struct { const char *value; gint rows; } stripes[] = {
    { "off", CFQP_STRIPES_OFF }, { "12", 12 }, { "auto", CFQP_STRIPES_AUTO },
    { "0", CFQP_STRIPES_OFF }, { "junk", CFQP_STRIPES_OFF },   /* junk: left as it was */
  };

  g_unsetenv ("CFQP_INT8_STRIPES");
  g_unsetenv ("CFQP_INT8_PROFILE");
  g_unsetenv ("CFQP_OPENCL_PROFILE");
  cfqp_runner_options_from_env (&o);
  g_assert_cmpint (o.stripe_rows, ==, CFQP_STRIPES_AUTO);
  g_assert_false (o.profile);
  g_assert_false (o.opencl_profile);
  for (guint i = 0; i < G_N_ELEMENTS (stripes); i++) {
    g_setenv ("CFQP_INT8_STRIPES", stripes[i].value, TRUE);
    cfqp_runner_options_from_env (&o);
    g_assert_cmpint (o.stripe_rows, ==, stripes[i].rows);
  }
  g_setenv ("CFQP_INT8_PROFILE", "", TRUE);
  cfqp_runner_options_from_env (&o);
  g_assert_true (o.profile);
  g_assert_false (o.opencl_profile);
  g_setenv ("CFQP_OPENCL_PROFILE", "1", TRUE);
  cfqp_runner_options_from_env (&o);
  g_assert_true (o.opencl_profile);
  g_unsetenv ("CFQP_INT8_STRIPES");
  g_unsetenv ("CFQP_INT8_PROFILE");
  g_unsetenv ("CFQP_OPENCL_PROFILE");
}

/* A ×3/2 net (tests/data/elements/tiny-x1.5.onnx: space-to-depth 2 ..
 * depth-to-space 3): its scale reads as 3/2 (2 rounded up), it makes
 * 12×9 from 8×6 with the x byte of RGBx written opaque and the row padding
 * untouched, and refuses an odd input before writing anything. */
static void
test_ratio_net (void)
{
  const char *data = g_getenv ("CFQP_TEST_DATA");
  g_autofree char *path = g_build_filename (data ? data : ".", "elements", "tiny-x1.5.onnx",
      NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &error);
  g_autoptr (CfqpRunner) runner = NULL;
  g_autofree char *describe = NULL;
  const CfqpPackedLayout rgbx = { 4, 0, 1, 2, -1 };
  guint8 src[6][8 * 4], dst[9][12 * 4 + 8];
  guint num, den;

  g_assert_no_error (error);
  cfqp_model_get_scale_ratio (model, &num, &den);
  g_assert_cmpuint (num, ==, 3);
  g_assert_cmpuint (den, ==, 2);
  g_assert_cmpuint (cfqp_model_get_scale (model), ==, 2);
  describe = cfqp_model_describe (model);
  g_assert_nonnull (strstr (describe, "x3/2 RGB"));

  runner = cfqp_runner_new (model, NULL, &error);
  g_assert_no_error (error);
  for (guint y = 0; y < 6; y++)
    for (guint x = 0; x < 8 * 4; x++)
      src[y][x] = (guint8) (x * 37 + y * 11);
  memset (dst, 7, sizeof (dst));
  g_assert_true (cfqp_runner_run_packed (runner, &rgbx, &src[0][0], sizeof (src[0]), 8, 6,
          &dst[0][0], sizeof (dst[0]), &error));
  g_assert_no_error (error);
  for (guint y = 0; y < 9; y++) {
    for (guint x = 0; x < 12; x++)
      g_assert_cmpuint (dst[y][x * 4 + 3], ==, 255);
    for (guint b = 12 * 4; b < sizeof (dst[0]); b++)
      g_assert_cmpuint (dst[y][b], ==, 7);
  }

  memset (dst, 7, sizeof (dst));
  g_assert_false (cfqp_runner_run_packed (runner, &rgbx, &src[0][0], sizeof (src[0]), 7, 6,
          &dst[0][0], sizeof (dst[0]), &error));
  g_assert_nonnull (error);
  /* shape inference says why: "node 's2d' (SpaceToDepth): a 7×6 input does
   * not divide into 2×2 blocks" */
  g_assert_nonnull (strstr (error->message, "does not divide into 2"));
  for (guint y = 0; y < 9; y++)
    for (guint b = 0; b < sizeof (dst[0]); b++)
      g_assert_cmpuint (dst[y][b], ==, 7);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/runner/matches-reference", test_matches_reference);
  g_test_add_func ("/runner/threads-agree", test_threads_agree);
  g_test_add_func ("/runner/size-changes", test_size_changes);
  g_test_add_func ("/runner/options", test_options);
  g_test_add_func ("/runner/profile", test_profile);
  g_test_add_func ("/runner/options-from-env", test_options_from_env);
  g_test_add_func ("/runner/ratio-net", test_ratio_net);
  return g_test_run ();
}
