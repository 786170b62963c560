/* Faults around calibration files:
 *  - a writer killed with SIGKILL at a random point of cfqp_calibration_save
 *    leaves the previous file (or a complete new one) in place, loadable;
 *  - unwritable locations are CFQP_CALIB_ERROR_IO, not a crash or success;
 *  - hostile contents (absurd sizes and counts, deep nesting, truncation)
 *    are refused with an error. */
#define CALIB_WRITER_NO_MAIN
#include "calib-writer.c"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_TENSORS 3000   /* a ~300 kB file: a write takes long enough to be hit */

static void
check_loadable (const char *path, guint max_generation)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpCalibration) c = cfqp_calibration_load (path, NULL, &error);
  guint g;

  g_assert_no_error (error);
  g_assert_cmpuint (cfqp_calibration_get_n_tensors (c), ==, N_TENSORS);
  g = cfqp_calibration_get_n_samples (c);
  g_assert_cmpuint (g, >=, 1);
  g_assert_cmpuint (g, <=, max_generation);
  /* the generation of the names matches the header: one whole file */
  {
    g_autofree char *suffix = g_strdup_printf ("_%08u_padding_padding", g);
    g_assert_true (g_str_has_suffix (cfqp_calibration_get_tensor (c, N_TENSORS - 1)->name, suffix));
  }
}

static void
test_killed_writer (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cfqp-faults-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "calib.json", NULL);
  g_autofree char *n_arg = g_strdup_printf ("%u", N_TENSORS);
  GRand *rand = g_rand_new_with_seed (8);
  guint kills = 0, old_kept = 0, leftovers = 0;

  {
    g_autoptr (CfqpCalibration) first = make_calibration (N_TENSORS, 1);
    g_autoptr (GError) error = NULL;
    g_assert_true (cfqp_calibration_save (first, path, &error));
  }
  check_loadable (path, 1);

  for (guint round = 0; round < 16; round++) {
    const char *argv[] = { CALIB_WRITER, path, n_arg, NULL };
    GPid pid;
    gint out_fd, status;
    g_autoptr (GError) error = NULL;
    char c;

    g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
        NULL, &pid, NULL, &out_fd, NULL, &error));
    g_assert_no_error (error);
    /* some rounds kill during the very first write, others after several */
    if (round % 2) {
      g_assert_cmpint (read (out_fd, &c, 1), ==, 1);
    }
    g_usleep (g_rand_int_range (rand, 0, 40000));
    g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
    g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
    close (out_fd);
    g_spawn_close_pid (pid);
    g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
    kills++;

    check_loadable (path, G_MAXUINT);
    {
      g_autoptr (CfqpCalibration) c2 = cfqp_calibration_load (path, NULL, NULL);
      old_kept += cfqp_calibration_get_n_samples (c2) == 1;
    }
  }
  {
    /* temp files a killed writer leaves behind (calib.json.XXXXXX): not
     * read by anything, reported, then cleaned up */
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d))) {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      if (strcmp (name, "calib.json"))
        leftovers++;
      g_unlink (p);
    }
  }
  g_test_message ("%u kills, previous file still there after %u, %u temp files left", kills,
      old_kept, leftovers);
  g_rmdir (dir);
  g_rand_free (rand);
}

static void
test_unwritable (void)
{
  g_autoptr (CfqpCalibration) c = make_calibration (4, 1);
  g_autofree char *dir = g_dir_make_tmp ("cfqp-faults-XXXXXX", NULL);
  /* works as root too: /proc refuses new files, a folder is not a file */
  const char *paths[] = { "/nonexistent-cfqp-dir/calib.json", "/proc/cfqp-calib.json", dir };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++) {
    g_autoptr (GError) error = NULL;
    g_assert_false (cfqp_calibration_save (c, paths[i], &error));
    g_assert_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_IO);
    g_test_message ("'%s': %s", paths[i], error->message);
  }
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (cfqp_calibration_load ("/nonexistent-cfqp-dir/calib.json", NULL, &error));
    g_assert_error (error, CFQP_CALIB_ERROR, CFQP_CALIB_ERROR_IO);
  }
  g_rmdir (dir);
}

static void
expect_json_refused (const char *json, gint code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpCalibration) c = cfqp_calibration_new_from_json (json, -1, NULL, &error);

  g_assert_null (c);
  g_assert_nonnull (error);
  g_test_message ("refused: %.200s", error->message);
  if (code >= 0)
    g_assert_error (error, CFQP_CALIB_ERROR, code);
}

/* A valid calibration's JSON with one "key" : value replaced. */
static char *
edited (const char *key, const char *value)
{
  g_autoptr (CfqpCalibration) c = make_calibration (4, 1);
  g_autofree char *json = cfqp_calibration_to_json (c, NULL);
  g_autofree char *pattern = g_strdup_printf ("(\"%s\" : )[^,\\n]*", key);
  g_autofree char *repl = g_strdup_printf ("\\g<1>%s", value);
  g_autoptr (GRegex) re = g_regex_new (pattern, 0, 0, NULL);
  char *out = g_regex_replace (re, json, -1, 0, repl, 0, NULL);

  g_assert_cmpstr (out, !=, json);
  return out;
}

static void
test_hostile_contents (void)
{
  struct { const char *key, *value; gint code; } cases[] = {
    { "bins", "1073741824", CFQP_CALIB_ERROR_INVALID },
    { "bins", "-5", CFQP_CALIB_ERROR_INVALID },
    { "max_samples", "99999999999999", CFQP_CALIB_ERROR_INVALID },
    { "max_bytes", "-1", CFQP_CALIB_ERROR_INVALID },
    { "crop_size", "1000000", CFQP_CALIB_ERROR_INVALID },
    { "output_crops", "100000", CFQP_CALIB_ERROR_INVALID },
    { "seed", "4294967296", CFQP_CALIB_ERROR_INVALID },
    { "samples", "-1", CFQP_CALIB_ERROR_INVALID },
    { "images", "1e300", CFQP_CALIB_ERROR_FORMAT },
    { "version", "9223372036854775807", CFQP_CALIB_ERROR_VERSION },
    { "scale", "1e300", CFQP_CALIB_ERROR_INVALID },
    { "scale", "0", CFQP_CALIB_ERROR_INVALID },
    { "zero_point", "4294967296", CFQP_CALIB_ERROR_INVALID },
    { "min", "1e39", CFQP_CALIB_ERROR_INVALID },
    { "percentile", "\"99\"", CFQP_CALIB_ERROR_FORMAT },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *json = edited (cases[i].key, cases[i].value);
    g_test_message ("%s = %s", cases[i].key, cases[i].value);
    expect_json_refused (json, cases[i].code);
  }
}

static void
test_too_many_tensors (void)
{
  g_autoptr (CfqpCalibration) c = make_calibration (CFQP_MAX_NODES * 2 + 1, 1);
  g_autofree char *json = cfqp_calibration_to_json (c, NULL);

  expect_json_refused (json, CFQP_CALIB_ERROR_INVALID);
}

static void
test_deep_nesting (void)
{
  /* 1M nested arrays (2 MB): refused, not a stack overflow in the parser */
  gsize depth = 1000000;
  g_autofree char *json = g_malloc (2 * depth + 1);

  memset (json, '[', depth);
  memset (json + depth, ']', depth);
  json[2 * depth] = 0;
  expect_json_refused (json, -1);
  {
    g_autofree char *obj = g_strdup_printf ("{\"format\":%s}", json);
    expect_json_refused (obj, -1);
  }
}

static void
test_truncated (void)
{
  g_autoptr (CfqpCalibration) c = make_calibration (40, 1);
  gsize len;
  g_autofree char *json = cfqp_calibration_to_json (c, &len);

  for (gsize n = 0; n < len; n += 1 + n / 8) {
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpCalibration) part = cfqp_calibration_new_from_json (json, n, NULL, &error);
    g_assert_null (part);
    g_assert_nonnull (error);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calib-faults/killed-writer", test_killed_writer);
  g_test_add_func ("/calib-faults/unwritable", test_unwritable);
  g_test_add_func ("/calib-faults/hostile-contents", test_hostile_contents);
  g_test_add_func ("/calib-faults/too-many-tensors", test_too_many_tensors);
  g_test_add_func ("/calib-faults/deep-nesting", test_deep_nesting);
  g_test_add_func ("/calib-faults/truncated", test_truncated);
  return g_test_run ();
}
