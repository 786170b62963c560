/* Calibration files: round trip, refusal of corrupt or mismatched files
 * with a message that says why, atomic writes. */
#include "cfqp-calib-private.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define OTHER_HASH "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static const char *const names[] = { "input", "conv1", "conv2", "output" };

static CfqpCalibration *
make_calib_with (const CfqpCalibSettings *s)
{
  CfqpCalibTensor t[4] = {
    { "input", { 1.0f / 255.0f, 0 }, 0.0f, 1.0f },
    { "conv1", { 0.0123456789f, 17 }, -0.2098765f, 2.9f },
    { "conv2", { CFQP_MIN_SCALE, 0 }, 0.0f, 0.0f },
    { "output", { 1.0f / 255.0f, 0 }, -0.0625f, 1.125f },
  };

  /* conv1's channels on their own steps, the smallest the format takes
   * among them */
  static const float steps[3] = { 1.0f, 0.3f, 0.00390625f };
  CfqpChannelSteps cs = { 1, 3, steps };
  /* what a two-fold check on the 12 frames measured */
  CfqpCalibFidelity f = { 41.25, TRUE, 12 };
  CfqpCalibration *c = cfqp_calibration_new_full (HASH, TRUE, s, 12, 36, t, 4, NULL, 0, &cs, 1);

  cfqp_calibration_set_fidelity (c, &f);
  return c;
}

static CfqpCalibration *
make_calib (void)
{
  CfqpCalibSettings s;

  cfqp_calib_settings_init (&s);
  s.observer = CFQP_OBSERVER_PERCENTILE;
  s.percentile = 99.9;
  s.augment = CFQP_AUGMENT_REVIEW | CFQP_AUGMENT_RANGE;
  s.seed = 4000000000u;
  s.crop_size = 96;
  s.weight_rounding = CFQP_WEIGHT_ROUNDING_NEAREST;   /* neither is the default */
  s.residual_grid = CFQP_RESIDUAL_GRID_CALIBRATED;
  return make_calib_with (&s);
}

static void
assert_same (const CfqpCalibration *a, const CfqpCalibration *b)
{
  const CfqpCalibSettings *sa = cfqp_calibration_get_settings (a);
  const CfqpCalibSettings *sb = cfqp_calibration_get_settings (b);

  g_assert_cmpstr (cfqp_calibration_get_model_hash (a), ==, cfqp_calibration_get_model_hash (b));
  g_assert_cmpint (cfqp_calibration_get_clip_free (a), ==, cfqp_calibration_get_clip_free (b));
  g_assert_cmpuint (cfqp_calibration_get_n_samples (a), ==, cfqp_calibration_get_n_samples (b));
  g_assert_cmpuint (cfqp_calibration_get_n_images (a), ==, cfqp_calibration_get_n_images (b));
  g_assert_cmpint (sa->observer, ==, sb->observer);
  g_assert_cmpfloat (sa->percentile, ==, sb->percentile);
  g_assert_cmpuint (sa->n_bins, ==, sb->n_bins);
  g_assert_cmpint (sa->clip_free, ==, sb->clip_free);
  g_assert_cmpuint (sa->max_samples, ==, sb->max_samples);
  g_assert_cmpuint (sa->max_bytes, ==, sb->max_bytes);
  g_assert_cmpuint (sa->crop_size, ==, sb->crop_size);
  g_assert_cmpfloat (sa->scene_threshold, ==, sb->scene_threshold);
  g_assert_cmpuint (sa->seed, ==, sb->seed);
  g_assert_cmpint (sa->augment, ==, sb->augment);
  g_assert_cmpuint (sa->n_output_crops, ==, sb->n_output_crops);
  g_assert_cmpfloat (sa->range_low_pct, ==, sb->range_low_pct);
  g_assert_cmpfloat (sa->range_high_pct, ==, sb->range_high_pct);
  g_assert_cmpfloat (sa->range_max_gain, ==, sb->range_max_gain);
  g_assert_cmpint (sa->weight_rounding, ==, sb->weight_rounding);
  g_assert_cmpint (sa->residual_grid, ==, sb->residual_grid);
  g_assert_cmpint (sa->activation_grids, ==, sb->activation_grids);
  {
    guint na, nb;
    const CfqpChannelSteps *csa = cfqp_calibration_get_channel_steps (a, &na);
    const CfqpChannelSteps *csb = cfqp_calibration_get_channel_steps (b, &nb);

    g_assert_cmpuint (na, ==, nb);
    for (guint i = 0; i < na; i++) {
      g_assert_cmpuint (csa[i].tensor, ==, csb[i].tensor);
      g_assert_cmpmem (csa[i].steps, csa[i].n_channels * sizeof (float), csb[i].steps,
          csb[i].n_channels * sizeof (float));
    }
  }
  {
    CfqpCalibFidelity fa, fb;
    gboolean ha = cfqp_calibration_get_fidelity (a, &fa);

    g_assert_cmpint (ha, ==, cfqp_calibration_get_fidelity (b, &fb));
    if (ha) {
      g_assert_cmpfloat (fa.psnr, ==, fb.psnr);
      g_assert_cmpint (fa.held_out, ==, fb.held_out);
      g_assert_cmpuint (fa.n_frames, ==, fb.n_frames);
    }
  }
  g_assert_cmpuint (cfqp_calibration_get_n_tensors (a), ==, cfqp_calibration_get_n_tensors (b));
  for (guint i = 0; i < cfqp_calibration_get_n_tensors (a); i++) {
    const CfqpCalibTensor *ta = cfqp_calibration_get_tensor (a, i);
    const CfqpCalibTensor *tb = cfqp_calibration_get_tensor (b, i);

    g_assert_cmpstr (ta->name, ==, tb->name);
    /* Bit-exact: the INT8 result must not depend on a save/load. */
    g_assert_cmpfloat (ta->qparams.scale, ==, tb->qparams.scale);
    g_assert_cmpint (ta->qparams.zero_point, ==, tb->qparams.zero_point);
    g_assert_cmpfloat (ta->min, ==, tb->min);
    g_assert_cmpfloat (ta->max, ==, tb->max);
  }
}

static void
test_round_trip (void)
{
  g_autoptr (CfqpCalibration) c = make_calib ();
  g_autoptr (CfqpCalibration) back = NULL;
  g_autoptr (CfqpCalibration) loaded = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cfqp-calib-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "x3.calib.json", NULL);
  g_autofree char *json = cfqp_calibration_to_json (c, NULL);

  g_assert_nonnull (strstr (json, "\"format\" : \"cfqp-calibration\""));
  g_assert_nonnull (strstr (json, "\"version\" : 1"));
  g_assert_nonnull (strstr (json, "\"augment\" : \"review+range\""));
  back = cfqp_calibration_new_from_json (json, -1, NULL, &err);
  g_assert_no_error (err);
  assert_same (c, back);

  g_assert_true (cfqp_calibration_save (c, path, &err));
  g_assert_no_error (err);
  loaded = cfqp_calibration_load (path, NULL, &err);
  g_assert_no_error (err);
  assert_same (c, loaded);
  g_assert_true (cfqp_calibration_check_names (loaded, HASH, names, 4, &err));
  g_assert_no_error (err);
  g_unlink (path);
  g_rmdir (dir);
}

/* The JSON of the good calibration with one substring replaced. */
static char *
edited (const char *from, const char *to)
{
  g_autoptr (CfqpCalibration) c = make_calib ();
  g_autofree char *json = cfqp_calibration_to_json (c, NULL);
  char *at = strstr (json, from);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - json), json, to, at + strlen (from));
}

static void
assert_refused (const char *json, gssize len, GQuark domain, gint code, const char *needle)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (CfqpCalibration) c = cfqp_calibration_new_from_json (json, len, NULL, &err);

  g_assert_null (c);
  g_assert_error (err, domain, code);
  g_test_message ("refused: %s", err->message);
  g_assert_nonnull (strstr (err->message, needle));
}

static void
test_corrupt (void)
{
  g_autoptr (CfqpCalibration) c = make_calib ();
  g_autofree char *json = cfqp_calibration_to_json (c, NULL);
  struct {
    const char *from, *to;
    gint code;
    const char *needle;
  } cases[] = {
    { "cfqp-calibration", "cfqp-model", CFQP_CALIB_ERROR_FORMAT, "format is 'cfqp-model'" },
    { "\"version\" : 1", "\"version\" : 2", CFQP_CALIB_ERROR_VERSION, "version 2" },
    { "\"version\" : 1", "\"version\" : \"1\"", CFQP_CALIB_ERROR_FORMAT, "'version'" },
    { "\"hash\" : \"0123", "\"hash\" : \"x123", CFQP_CALIB_ERROR_FORMAT, "SHA-256" },
    { "\"zero_point\" : 17", "\"zero_point\" : 300", CFQP_CALIB_ERROR_INVALID,
      "zero point 300" },
    { "\"zero_point\" : 17", "\"zero_point\" : -1", CFQP_CALIB_ERROR_INVALID, "zero point -1" },
    { "\"zero_point\" : 17", "\"zero_point\" : 17.5", CFQP_CALIB_ERROR_FORMAT,
      "tensors[1].zero_point' must be an integer" },
    { "\"scale\" : 0.0123", "\"scale\" : -0.0123", CFQP_CALIB_ERROR_INVALID, "'conv1': scale" },
    { "\"scale\" : 0.0123", "\"scale\" : 1e999, \"x\" : 0.0123", CFQP_CALIB_ERROR_INVALID,
      "'conv1': scale inf" },
    { "\"scale\" : 0.0123", "\"scale\" : \"nan\", \"x\" : 0.0123", CFQP_CALIB_ERROR_FORMAT,
      "tensors[1].scale' must be a number" },
    { "\"name\" : \"conv2\"", "\"name\" : \"conv1\"", CFQP_CALIB_ERROR_INVALID,
      "'conv1' appears twice" },
    { "\"observer\" : \"percentile\"", "\"observer\" : \"kl\"", CFQP_CALIB_ERROR_FORMAT,
      "unknown observer 'kl'" },
    { "\"augment\" : \"review+range\"", "\"augment\" : \"review+blur\"",
      CFQP_CALIB_ERROR_FORMAT, "unknown augmentation" },
    { "\"percentile\" : 99.9", "\"percentile\" : 20", CFQP_CALIB_ERROR_INVALID, "percentile" },
    { "\"clip_free\" : true", "\"clip_free\" : 1", CFQP_CALIB_ERROR_FORMAT, "clip_free" },
    { "\"samples\" : 12", "\"sample\" : 12", CFQP_CALIB_ERROR_FORMAT,
      "missing field 'rd.samples'" },
    { "\"rd\"", "\"RD\"", CFQP_CALIB_ERROR_FORMAT, "missing field 'rd'" },
    { "\"residual_grid\" : \"calibrated\"", "\"residual_grid\" : \"fine\"",
      CFQP_CALIB_ERROR_FORMAT, "unknown residual grid 'fine'" },
    { "\"residual_grid\" : \"calibrated\"", "\"residual_grid\" : 1",
      CFQP_CALIB_ERROR_FORMAT, "residual_grid" },
    { "\"activation_grids\" : \"channel\"", "\"activation_grids\" : \"pixel\"",
      CFQP_CALIB_ERROR_FORMAT, "unknown activation grids 'pixel'" },
    { "\"channel_steps\" : [", "\"channel_steps\" : 1, \"x\" : [", CFQP_CALIB_ERROR_FORMAT,
      "field 'channel_steps' must be an array" },
    { "\"tensor\" : \"conv1\"", "\"tensor\" : \"conv7\"", CFQP_CALIB_ERROR_INVALID,
      "channel steps for 'conv7', which is no tensor" },
    { "\"tensor\" : \"conv1\"", "\"tensor\" : 1", CFQP_CALIB_ERROR_FORMAT,
      "channel_steps[0].tensor' must be a string" },
    { "\"steps\" : [", "\"steps\" : 2, \"x\" : [", CFQP_CALIB_ERROR_FORMAT,
      "'channel_steps[0].steps' must be an array" },
    { "\"steps\" : [", "\"steps\" : [\"1\", ", CFQP_CALIB_ERROR_FORMAT,
      "channel_steps[0].steps[0] must be a number" },
    { "\"steps\" : [", "\"steps\" : [0, ", CFQP_CALIB_ERROR_INVALID, "step 0 is 0," },
    { "\"steps\" : [", "\"steps\" : [257, ", CFQP_CALIB_ERROR_INVALID, "step 0 is 257" },
    { "\"steps\" : [", "\"steps\" : [0.0039, ", CFQP_CALIB_ERROR_INVALID, "step 0 is 0.0039" },
    { "\"steps\" : [", "\"steps\" : [], \"x\" : [", CFQP_CALIB_ERROR_INVALID,
      "channel steps for 'conv1': 0, a tensor has 1 to 4096" },
    { "\"channel_steps\" : [", "\"channel_steps\" : [{ \"tensor\" : \"conv1\", "
      "\"steps\" : [1] }, ", CFQP_CALIB_ERROR_INVALID, "channel steps for 'conv1' appear twice" },
    { "\"channel_steps\" : [", "\"channel_steps\" : [7, ", CFQP_CALIB_ERROR_FORMAT,
      "channel_steps[0] must be an object" },
    { "\"fidelity\" : {", "\"fidelity\" : 41, \"x\" : {", CFQP_CALIB_ERROR_FORMAT,
      "field 'fidelity' must be an object" },
    { "\"psnr\" : 41.25", "\"psnr\" : -1", CFQP_CALIB_ERROR_INVALID,
      "PSNR -1 dB is outside 0..100" },
    { "\"psnr\" : 41.25", "\"psnr\" : 1e999", CFQP_CALIB_ERROR_INVALID,
      "PSNR inf dB" },
    { "\"psnr\" : 41.25", "\"psnr\" : \"41\"", CFQP_CALIB_ERROR_FORMAT,
      "'fidelity.psnr' must be a number" },
    { "\"psnr\" : 41.25", "\"PSNR\" : 41.25", CFQP_CALIB_ERROR_FORMAT,
      "missing field 'fidelity.psnr'" },
    { "\"held_out\" : true", "\"held_out\" : 1", CFQP_CALIB_ERROR_FORMAT,
      "'fidelity.held_out' must be true or false" },
    { "\"frames\" : 12", "\"frames\" : 13", CFQP_CALIB_ERROR_INVALID,
      "13 frames judged, outside 1..12" },
    { "\"frames\" : 12", "\"frames\" : 0", CFQP_CALIB_ERROR_INVALID,
      "0 frames judged" },
    { "\"frames\" : 12", "\"frames\" : 1", CFQP_CALIB_ERROR_INVALID,
      "one frame cannot be judged by a calibration made without it" },
    { "\"frames\" : 12", "\"frames\" : 4294967296", CFQP_CALIB_ERROR_INVALID,
      "'fidelity.frames' is 4294967296" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *bad = edited (cases[i].from, cases[i].to);
    assert_refused (bad, -1, CFQP_CALIB_ERROR, cases[i].code, cases[i].needle);
  }
  /* Truncated anywhere: never accepted, a parse error that says so. */
  for (gsize len = 0; len < strlen (json) - 2; len += 7) {
    g_autoptr (GError) err = NULL;
    g_autoptr (CfqpCalibration) t = cfqp_calibration_new_from_json (json, len, NULL, &err);

    g_assert_null (t);
    g_assert_nonnull (err);
    g_assert_true (err->domain == CFQP_CALIB_ERROR);
  }
  assert_refused (json, strlen (json) / 2, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_PARSE,
      "not valid JSON");
  assert_refused ("[1, 2]", -1, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_FORMAT, "not a calibration");
  assert_refused ("", 0, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_FORMAT, "not a calibration");
  {
    /* NaN literal: not JSON, but some writers emit it. */
    g_autofree char *nan = edited ("\"scale\" : 0.0123", "\"scale\" : NaN, \"x\" : 0.0123");
    g_autoptr (GError) err = NULL;
    g_autoptr (CfqpCalibration) t = cfqp_calibration_new_from_json (nan, -1, NULL, &err);

    g_assert_null (t);
    g_assert_true (g_error_matches (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_PARSE) ||
        g_error_matches (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID));
  }
}

/* Settings added later are optional: a file written before them read as
 * what it was made with (nearest rounding, every grid as observed), and
 * each one written is read back, the defaults included. */
static void
test_optional_settings (void)
{
  g_autoptr (CfqpCalibration) c = make_calib ();
  g_autofree char *json = cfqp_calibration_to_json (c, NULL);
  g_autoptr (GError) err = NULL;
  CfqpCalibSettings s;
  char *old_json = g_strdup (json);
  char *at;

  /* drop the members added later (the last three of "settings") */
  at = strstr (old_json, ",\n    \"weight_rounding\"");
  g_assert_nonnull (at);
  strcpy (at, strstr (json, "\n  },\n  \"rd\""));
  {
    g_autoptr (CfqpCalibration) old = cfqp_calibration_new_from_json (old_json, -1, NULL, &err);

    g_assert_no_error (err);
    g_assert_cmpint (cfqp_calibration_get_settings (old)->weight_rounding, ==,
        CFQP_WEIGHT_ROUNDING_NEAREST);
    g_assert_cmpint (cfqp_calibration_get_settings (old)->residual_grid, ==,
        CFQP_RESIDUAL_GRID_CALIBRATED);
    g_assert_cmpint (cfqp_calibration_get_settings (old)->activation_grids, ==,
        CFQP_ACTIVATION_GRIDS_TENSOR);
  }
  g_free (old_json);
  /* a calibration whose calibrator measured nothing (activation-grids
   * tensor, files before the measure) has no fidelity, and writes none */
  {
    char *no_fid = g_strdup (json);
    g_autoptr (CfqpCalibration) nf = NULL;
    g_autofree char *again = NULL;

    at = strstr (no_fid, ",\n  \"fidelity\"");
    g_assert_nonnull (at);
    strcpy (at, strstr (json, ",\n  \"tensors\""));
    nf = cfqp_calibration_new_from_json (no_fid, -1, NULL, &err);
    g_assert_no_error (err);
    g_assert_false (cfqp_calibration_get_fidelity (nf, NULL));
    again = cfqp_calibration_to_json (nf, NULL);
    g_assert_null (strstr (again, "fidelity"));
    g_free (no_fid);
  }
  /* the defaults, written and read back */
  cfqp_calib_settings_init (&s);
  {
    g_autoptr (CfqpCalibration) d = make_calib_with (&s);
    g_autofree char *dj = cfqp_calibration_to_json (d, NULL);
    g_autoptr (CfqpCalibration) back = NULL;

    g_assert_nonnull (strstr (dj, "\"weight_rounding\" : \"gptq\""));
    g_assert_nonnull (strstr (dj, "\"residual_grid\" : \"pixel\""));
    g_assert_nonnull (strstr (dj, "\"activation_grids\" : \"channel\""));
    back = cfqp_calibration_new_from_json (dj, -1, NULL, &err);
    g_assert_no_error (err);
    g_assert_cmpint (cfqp_calibration_get_settings (back)->residual_grid, ==,
        CFQP_RESIDUAL_GRID_PIXEL);
  }
}

static void
test_mismatch (void)
{
  g_autoptr (CfqpCalibration) c = make_calib ();
  const char *missing[] = { "input", "conv1", "conv2", "conv3", "output" };
  const char *renamed[] = { "input", "conv1", "conv9", "output" };
  const char *swapped[] = { "input", "conv2", "conv1", "output" };
  const char *fewer[] = { "input", "conv1", "output" };
  struct {
    const char *hash;
    const char *const *names;
    guint n;
    gint code;
    const char *needle;
  } cases[] = {
    { OTHER_HASH, names, 4, CFQP_CALIB_ERROR_MODEL_MISMATCH, "made for model " HASH },
    { HASH, missing, 5, CFQP_CALIB_ERROR_TENSOR_MISMATCH, "no tensor 'conv3'" },
    { HASH, renamed, 4, CFQP_CALIB_ERROR_TENSOR_MISMATCH, "no tensor 'conv9'" },
    { HASH, swapped, 4, CFQP_CALIB_ERROR_TENSOR_MISMATCH, "tensor 1 is 'conv1'" },
    { HASH, fewer, 3, CFQP_CALIB_ERROR_TENSOR_MISMATCH, "'conv2' that the model lacks" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) err = NULL;

    g_assert_false (cfqp_calibration_check_names (c, cases[i].hash, cases[i].names,
        cases[i].n, &err));
    g_assert_error (err, CFQP_CALIB_ERROR, cases[i].code);
    g_test_message ("refused: %s", err->message);
    g_assert_nonnull (strstr (err->message, cases[i].needle));
  }
}

static void
test_missing_file (void)
{
  g_autoptr (GError) err = NULL;

  g_assert_null (cfqp_calibration_load ("/nonexistent/x.json", NULL, &err));
  g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_IO);
}

/* Hostile calibration files on disk: each refused with a message that says
 * why, quickly, without reading more than the cap.  The caller keeps the
 * calibration it had (cfqp_calibration_load returns NULL and changes
 * nothing). */
static void
load_refused (const char *path, gint code, const char *needle)
{
  g_autoptr (GError) err = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (CfqpCalibration) c = cfqp_calibration_load (path, NULL, &err);

  g_assert_null (c);
  g_assert_error (err, CFQP_CALIB_ERROR, code);
  g_test_message ("%s: refused in %.1f ms: %s", path, (g_get_monotonic_time () - t0) / 1e3,
      err->message);
  g_assert_nonnull (strstr (err->message, needle));
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 2 * G_USEC_PER_SEC);
}

static void
on_alarm (int sig)
{
  g_error ("a FIFO as calibration file blocked the load");
}

static void
test_hostile_files (void)
{
  g_autoptr (CfqpCalibration) good = make_calib ();
  g_autofree char *json = cfqp_calibration_to_json (good, NULL);
  g_autofree char *dir = g_dir_make_tmp ("cfqp-calib-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "c.json", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_autofree char *padded = NULL;
  struct {
    const char *from, *to, *needle;
  } scales[] = {
    { "\"scale\" : 0.0123", "\"scale\" : 1e-300, \"x\" : 0.0123", "scale 1e-300 is outside" },
    { "\"scale\" : 0.0123", "\"scale\" : 1e300, \"x\" : 0.0123", "scale 1e+300 is outside" },
    { "\"scale\" : 0.0123", "\"scale\" : -0.5, \"x\" : 0.0123", "scale -0.5 is not a finite" },
    { "\"scale\" : 0.0123", "\"scale\" : 0, \"x\" : 0.0123", "scale 0 is not a finite" },
    { "\"scale\" : 0.0123", "\"scale\" : 1e999, \"x\" : 0.0123", "scale inf is not" },
  };
  FILE *f;

  g_assert_nonnull (dir);
  /* the good file loads */
  g_assert_true (g_file_set_contents (path, json, -1, NULL));
  {
    g_autoptr (GError) err = NULL;
    g_autoptr (CfqpCalibration) c = cfqp_calibration_load (path, NULL, &err);
    g_assert_no_error (err);
  }
  /* empty, blanks only, truncated */
  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  load_refused (path, CFQP_CALIB_ERROR_FORMAT, "the file is empty");
  g_assert_true (g_file_set_contents (path, " \n\t\n", -1, NULL));
  load_refused (path, CFQP_CALIB_ERROR_FORMAT, "not a calibration: empty");
  g_assert_true (g_file_set_contents (path, json, strlen (json) / 3, NULL));
  load_refused (path, CFQP_CALIB_ERROR_PARSE, "not valid JSON (truncated?)");
  /* huge: a sparse file over the cap is refused unread, a valid one padded
   * past the cap too; padded to just under the cap it loads */
  f = fopen (path, "w");
  g_assert_nonnull (f);
  g_assert_cmpint (ftruncate (fileno (f), (off_t) 2 << 30), ==, 0);
  fclose (f);
  load_refused (path, CFQP_CALIB_ERROR_IO, "4194304-byte limit");
  padded = g_malloc (CFQP_CALIBRATION_MAX_BYTES + 2);
  memset (padded, ' ', CFQP_CALIBRATION_MAX_BYTES + 1);
  memcpy (padded, json, strlen (json));
  g_assert_true (g_file_set_contents (path, padded, CFQP_CALIBRATION_MAX_BYTES + 1, NULL));
  load_refused (path, CFQP_CALIB_ERROR_IO, "(4 MiB; calibrations are ~2–100 kB)");
  g_assert_true (g_file_set_contents (path, padded, CFQP_CALIBRATION_MAX_BYTES, NULL));
  {
    g_autoptr (GError) err = NULL;
    g_autoptr (CfqpCalibration) c = cfqp_calibration_load (path, NULL, &err);
    g_assert_no_error (err);
  }
  /* not regular files: /dev/zero (read until memory ran out), a directory,
   * a FIFO with no writer (blocked for ever) */
  load_refused ("/dev/zero", CFQP_CALIB_ERROR_IO, "not a regular file");
  load_refused (dir, CFQP_CALIB_ERROR_IO, "not a regular file");
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  signal (SIGALRM, on_alarm);
  alarm (10);
  load_refused (fifo, CFQP_CALIB_ERROR_IO, "not a regular file");
  alarm (0);
  /* scales: 1e-300 is not "scale 0", 1e300 not "inf" */
  for (guint i = 0; i < G_N_ELEMENTS (scales); i++) {
    g_autofree char *bad = edited (scales[i].from, scales[i].to);
    g_assert_true (g_file_set_contents (path, bad, -1, NULL));
    load_refused (path, CFQP_CALIB_ERROR_INVALID, scales[i].needle);
  }
  g_unlink (fifo);
  g_unlink (path);
  g_rmdir (dir);
}

/* A real calibration loaded for another model (a wrong hash): refused
 * with the mismatch, naming both hashes. */
static void
test_wrong_hash_file (void)
{
  const char *data = g_getenv ("CFQP_TEST_DATA");
  g_autofree char *root = g_path_get_dirname (data ? data : ".");
  g_autofree char *calib = g_build_filename (root, "..", "models", "abpn-x2.calib.json", NULL);
  g_autofree char *other = g_build_filename (root, "..", "models", "xlsr-x2.onnx", NULL);
  g_autoptr (GError) err = NULL;
  g_autoptr (CfqpModel) model = NULL;
  g_autoptr (CfqpCalibration) c = NULL;

  if (!data || !g_file_test (calib, G_FILE_TEST_EXISTS)) {
    g_test_skip ("no shipped models next to $CFQP_TEST_DATA");
    return;
  }
  model = cfqp_model_new_from_file (other, &err);
  g_assert_no_error (err);
  c = cfqp_calibration_load (calib, model, &err);
  g_assert_null (c);
  g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_MODEL_MISMATCH);
  g_test_message ("refused: %s", err->message);
  g_assert_nonnull (strstr (err->message, "not for this model"));
}

/* cfqp_read_regular_file at its limit: max_size bytes read, one more refused. */
static void
test_read_regular_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cfqp-read-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "f", NULL);
  g_autoptr (GError) err = NULL;
  char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_set_contents (path, "0123456789", 10, NULL));
  g_assert_true (cfqp_read_regular_file (path, 10, &data, &len, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (len, ==, 10);
  g_assert_cmpstr (data, ==, "0123456789");
  g_free (data);
  g_assert_false (cfqp_read_regular_file (path, 9, &data, &len, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  g_assert_nonnull (strstr (err->message, "9-byte limit"));
  g_clear_error (&err);
  g_assert_false (cfqp_read_regular_file ("/dev/null", 10, &data, &len, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_clear_error (&err);
  g_assert_false (cfqp_read_regular_file ("/nonexistent/f", 10, &data, &len, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_unlink (path);
  g_rmdir (dir);
}

/* A folder that is not one: the save fails with an error. */
static void
test_unwritable (void)
{
  g_autoptr (CfqpCalibration) c = make_calib ();
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cfqp-calib-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "plain-file", NULL);
  g_autofree char *path = g_build_filename (file, "x.json", NULL);

  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_assert_false (cfqp_calibration_save (c, path, &err));
  g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_IO);
  g_assert_nonnull (strstr (err->message, "cannot write calibration"));
  g_unlink (file);
  g_rmdir (dir);
}

/* A write that fails halfway (file size limit: works even as root, where
 * permissions do not stop writes) leaves the previous calibration intact
 * and no temp file behind. */
static void
test_atomic (void)
{
  g_autoptr (CfqpCalibration) c = make_calib ();
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cfqp-calib-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "x.json", NULL);
  const char *previous = "previous calibration";

  g_assert_true (g_file_set_contents (path, previous, -1, NULL));
  if (g_test_subprocess ()) {
    struct rlimit lim = { 64, 64 };

    signal (SIGXFSZ, SIG_IGN);
    g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &lim), ==, 0);
    g_assert_false (cfqp_calibration_save (c, g_getenv ("CFQP_ATOMIC_PATH"), &err));
    g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_IO);
    return;
  }
  g_setenv ("CFQP_ATOMIC_PATH", path, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  {
    g_autofree char *now = NULL;
    g_autoptr (GDir) d = NULL;
    guint n = 0;

    g_assert_true (g_file_get_contents (path, &now, NULL, NULL));
    g_assert_cmpstr (now, ==, previous);
    d = g_dir_open (dir, 0, NULL);
    while (g_dir_read_name (d))
      n++;
    g_assert_cmpuint (n, ==, 1);
  }
  /* Without the limit the same save replaces it. */
  g_assert_true (cfqp_calibration_save (c, path, &err));
  g_assert_no_error (err);
  {
    g_autoptr (CfqpCalibration) l = cfqp_calibration_load (path, NULL, &err);
    g_assert_no_error (err);
    assert_same (c, l);
  }
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_settings_validate (void)
{
  CfqpCalibSettings s;
  g_autoptr (GError) err = NULL;

  cfqp_calib_settings_init (&s);
  g_assert_true (cfqp_calib_settings_validate (&s, &err));
  s.range_low_pct = 99.5;
  g_assert_false (cfqp_calib_settings_validate (&s, &err));
  g_assert_error (err, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_INVALID);
  g_assert_nonnull (strstr (err->message, "range percentiles"));
  g_clear_error (&err);
  cfqp_calib_settings_init (&s);
  s.residual_grid = (CfqpResidualGrid) 2;
  g_assert_false (cfqp_calib_settings_validate (&s, &err));
  g_assert_nonnull (strstr (err->message, "residual grid"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calib/file/round-trip", test_round_trip);
  g_test_add_func ("/calib/file/corrupt", test_corrupt);
  g_test_add_func ("/calib/file/optional-settings", test_optional_settings);
  g_test_add_func ("/calib/file/mismatch", test_mismatch);
  g_test_add_func ("/calib/file/missing", test_missing_file);
  g_test_add_func ("/calib/file/hostile-files", test_hostile_files);
  g_test_add_func ("/calib/file/read-regular-file", test_read_regular_file);
  g_test_add_func ("/calib/file/wrong-hash-file", test_wrong_hash_file);
  g_test_add_func ("/calib/file/unwritable", test_unwritable);
  g_test_add_func ("/calib/file/atomic", test_atomic);
  g_test_add_func ("/calib/file/settings-validate", test_settings_validate);
  return g_test_run ();
}
