/* Reference networks against PyTorch.
 *
 * tests/data/refnets/manifest.json (written by tools/testdata/make_refnet_data.py)
 * lists ONNX exports of small SR networks with seeded inputs and the outputs
 * PyTorch computed for them.  One test case per entry: import, check the scale
 * read from the graph, run FP32, compare.  Negative entries must fail to load
 * with the given error code and message substrings.
 *
 * Entries marked off_contract_ops hold ops torch emits on its own that the
 * importer's contract does not list; those are skipped (not failed) when the
 * importer answers UNSUPPORTED, and must be exact when it accepts them.
 */
#include <cfqp-engine.h>

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

typedef struct {
  char *name;
  char *model;
  char *input, *output;
  guint scale, channels;
  guint in_w, in_h, out_w, out_h;
  double tolerance;
  char *off_contract;       /* space-separated op types, NULL if none */
  gint error_code;          /* -1: a positive case */
  GStrv error_contains;
} RefCase;

static char *data_dir;

static void
ref_case_free (gpointer p)
{
  RefCase *c = p;
  g_free (c->name);
  g_free (c->model);
  g_free (c->input);
  g_free (c->output);
  g_free (c->off_contract);
  g_strfreev (c->error_contains);
  g_free (c);
}

static gint
error_code_from_string (const char *s)
{
  static const struct { const char *name; gint code; } codes[] = {
    { "IO", CFQP_ENGINE_ERROR_IO },
    { "PARSE", CFQP_ENGINE_ERROR_PARSE },
    { "UNSUPPORTED", CFQP_ENGINE_ERROR_UNSUPPORTED },
    { "INVALID", CFQP_ENGINE_ERROR_INVALID },
    { "LIMIT", CFQP_ENGINE_ERROR_LIMIT },
    { "BACKEND", CFQP_ENGINE_ERROR_BACKEND },
  };
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    if (!g_strcmp0 (s, codes[i].name))
      return codes[i].code;
  g_error ("manifest: unknown error code '%s'", s);
  return -1;
}

/* Reads n little-endian float32 values; aborts the test if the size differs. */
static float *
read_f32 (const char *file, gsize n)
{
  g_autofree char *path = g_build_filename (data_dir, file, NULL);
  g_autoptr (GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;
  float *v;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, n * sizeof (float));
  v = (float *) contents;
#if G_BYTE_ORDER == G_BIG_ENDIAN
  for (gsize i = 0; i < n; i++) {
    guint32 u;
    memcpy (&u, &v[i], 4);
    u = GUINT32_SWAP_LE_BE (u);
    memcpy (&v[i], &u, 4);
  }
#endif
  return v;
}

static void
get_shape (JsonObject *o, const char *member, guint *c, guint *h, guint *w)
{
  JsonArray *a = json_object_get_array_member (o, member);
  g_assert_nonnull (a);
  g_assert_cmpuint (json_array_get_length (a), ==, 4);
  g_assert_cmpint (json_array_get_int_element (a, 0), ==, 1);
  *c = json_array_get_int_element (a, 1);
  *h = json_array_get_int_element (a, 2);
  *w = json_array_get_int_element (a, 3);
}

static RefCase *
ref_case_from_json (JsonObject *o)
{
  RefCase *c = g_new0 (RefCase, 1);
  guint oc;

  c->name = g_strdup (json_object_get_string_member (o, "name"));
  c->model = g_strdup (json_object_get_string_member (o, "model"));
  c->error_code = -1;
  if (json_object_has_member (o, "error_code")) {
    JsonArray *subs = json_object_get_array_member (o, "error_contains");
    GStrvBuilder *b = g_strv_builder_new ();
    c->error_code = error_code_from_string (json_object_get_string_member (o, "error_code"));
    for (guint i = 0; subs && i < json_array_get_length (subs); i++)
      g_strv_builder_add (b, json_array_get_string_element (subs, i));
    c->error_contains = g_strv_builder_end (b);
    g_strv_builder_unref (b);
    return c;
  }
  c->input = g_strdup (json_object_get_string_member (o, "input"));
  c->output = g_strdup (json_object_get_string_member (o, "output"));
  c->scale = json_object_get_int_member (o, "scale");
  c->channels = json_object_get_int_member (o, "channels");
  c->tolerance = json_object_get_double_member (o, "tolerance");
  get_shape (o, "input_shape", &c->channels, &c->in_h, &c->in_w);
  get_shape (o, "output_shape", &oc, &c->out_h, &c->out_w);
  g_assert_cmpuint (oc, ==, c->channels);
  if (json_object_has_member (o, "off_contract_ops")) {
    JsonArray *ops = json_object_get_array_member (o, "off_contract_ops");
    g_autoptr (GString) s = g_string_new (NULL);
    for (guint i = 0; i < json_array_get_length (ops); i++)
      g_string_append_printf (s, "%s%s", i ? " " : "", json_array_get_string_element (ops, i));
    if (s->len)
      c->off_contract = g_strdup (s->str);
  }
  return c;
}

/* Runs the model with n_threads and returns the max abs error against ref
 * (+inf if any output is NaN or infinite, or the runner fails). */
static double
run_and_compare (CfqpModel *model, const RefCase *c, const float *in, const float *ref,
    guint n_threads)
{
  CfqpRunnerOptions opts = CFQP_RUNNER_OPTIONS_INIT;
  g_autoptr (CfqpRunner) runner = NULL;
  g_autoptr (GError) error = NULL;
  gsize n_out = (gsize) c->channels * c->out_w * c->out_h;
  g_autofree float *out = g_new (float, n_out + 1);
  double max_err = 0.0;

  opts.precision = CFQP_PRECISION_FP32;
  opts.n_threads = n_threads;
  runner = cfqp_runner_new (model, &opts, &error);
  if (!runner) {
    g_test_message ("%s: runner: %s", c->name, error->message);
    return INFINITY;
  }
  /* A canary past the end: the runner must write exactly C×sH×sW floats. */
  out[n_out] = 12345.0f;
  for (gsize i = 0; i < n_out; i++)
    out[i] = NAN;
  if (!cfqp_runner_run_f32 (runner, in, c->in_w, c->in_h, out, &error)) {
    g_test_message ("%s: run: %s", c->name, error ? error->message : "(no error set)");
    return INFINITY;
  }
  g_assert_cmpfloat (out[n_out], ==, 12345.0f);
  for (gsize i = 0; i < n_out; i++) {
    double d = fabs ((double) out[i] - (double) ref[i]);
    if (!isfinite (out[i]))
      return INFINITY;
    if (d > max_err)
      max_err = d;
  }
  g_test_message ("%s [%s, %u threads]: max abs err %.3g", c->name,
      cfqp_runner_get_active_backend (runner), n_threads, max_err);
  return max_err;
}

static void
test_positive (gconstpointer data)
{
  const RefCase *c = data;
  g_autofree char *path = g_build_filename (data_dir, c->model, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;
  g_autofree float *in = NULL, *ref = NULL;
  double err1, err3;

  model = cfqp_model_new_from_file (path, &error);
  if (!model && c->off_contract &&
      g_error_matches (error, CFQP_ENGINE_ERROR, CFQP_ENGINE_ERROR_UNSUPPORTED)) {
    g_test_skip_printf ("off-contract ops (%s): %s", c->off_contract, error->message);
    return;
  }
  /* Fail (not abort) so that a --keep-going run lists every importer gap. */
  if (!model) {
    g_test_fail_printf ("%s does not load: %s", c->model, error->message);
    return;
  }
  g_assert_cmpuint (cfqp_model_get_scale (model), ==, c->scale);
  g_assert_cmpuint (cfqp_model_get_channels (model), ==, c->channels);
  g_assert_cmpuint (c->out_w, ==, c->scale * c->in_w);
  g_assert_cmpuint (c->out_h, ==, c->scale * c->in_h);

  in = read_f32 (c->input, (gsize) c->channels * c->in_w * c->in_h);
  ref = read_f32 (c->output, (gsize) c->channels * c->out_w * c->out_h);

  /* One thread, and three: stripes with halo rows and an uneven split. */
  err1 = run_and_compare (model, c, in, ref, 1);
  err3 = run_and_compare (model, c, in, ref, 3);
  if (!(err1 <= c->tolerance && err3 <= c->tolerance))
    g_test_fail_printf ("%s: max abs err %g (1 thread), %g (3 threads) > tolerance %g", c->name,
        err1, err3, c->tolerance);
}

static void
test_negative (gconstpointer data)
{
  const RefCase *c = data;
  g_autofree char *path = g_build_filename (data_dir, c->model, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = NULL;

  model = cfqp_model_new_from_file (path, &error);
  g_assert_null (model);
  g_assert_error (error, CFQP_ENGINE_ERROR, c->error_code);
  g_test_message ("%s: %s", c->name, error->message);
  for (guint i = 0; c->error_contains[i]; i++)
    if (!strstr (error->message, c->error_contains[i]))
      g_test_fail_printf ("error '%s' does not contain '%s'", error->message, c->error_contains[i]);
}

int
main (int argc, char **argv)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *manifest = NULL;
  const char *base;
  JsonArray *cases;
  guint n_positive = 0;

  g_test_init (&argc, &argv, NULL);

  base = g_getenv ("CFQP_TEST_DATA");
  data_dir = g_build_filename (base ? base : CFQP_DEFAULT_TEST_DATA, "refnets", NULL);
  manifest = g_build_filename (data_dir, "manifest.json", NULL);
  json_parser_load_from_file (parser, manifest, &error);
  g_assert_no_error (error);
  cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases");
  g_assert_nonnull (cases);

  for (guint i = 0; i < json_array_get_length (cases); i++) {
    RefCase *c = ref_case_from_json (json_array_get_object_element (cases, i));
    g_autofree char *test_path = g_strconcat ("/refnets/", c->name, NULL);
    if (c->error_code < 0)
      n_positive++;
    g_test_add_data_func_full (test_path, c, c->error_code < 0 ? test_positive : test_negative,
        ref_case_free);
  }
  /* A manifest emptied by mistake must not pass silently. */
  g_assert_cmpuint (n_positive, >=, 20);

  return g_test_run ();
}
