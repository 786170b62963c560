/* Every shipped model (models/NAME.onnx with its .calib.json) through the cpu
 * INT8 kernels against the ref kernels, byte for byte: the measured choice
 * (cpu), the c4/dot kernels forced (native) and the ORC ones, on a crop of
 * the shipped test photo at an odd size (each conv row ends in a tail of
 * the 64-, 16- and 8-pixel blocks).  The default-x<N> files are copies of
 * named ones and are left out.  Run per ISA level: natively, and under qemu
 * for each ARM64 level (tools/ci/test-arm64.sh). */
#include "cfqp-calib.h"
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu.h"
#include "cfqp-int8-exec.h"
#include "cfqp-model-private.h"
#include "test-png.h"

#include <string.h>

static guint8 *photo;
static guint photo_w, photo_h;

typedef struct {
  CfqpWorkers  *workers;
  CfqpInt8Exec *exec;
} Exec;

/* calib: its conv taps and channel steps, as cfqpsr runs them */
static Exec
exec_new (const CfqpGraph *g, const CfqpQParams *qp, const CfqpCalibration *calib,
          const CfqpInt8Backend *backend)
{
  g_autoptr (GError) error = NULL;
  Exec e = { cfqp_workers_new (2), NULL };
  CfqpQuantisation q = cfqp_calibration_get_quantisation (calib, qp);
  CfqpInt8Program *program = cfqp_int8_program_new_full (g, &q, &error);

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

/* NULL when the model refuses the size (e.g. odd sizes under stride 2). */
static guint8 *
run (Exec *e, const guint8 *in, guint w, guint h, gsize n_out)
{
  g_autoptr (GError) error = NULL;
  guint8 *out = g_malloc (n_out);

  if (!cfqp_int8_exec_run (e->exec, in, w, h, out, &error)) {
    g_assert_nonnull (error);
    g_free (out);
    return NULL;
  }
  return out;
}

static void
test_model (gconstpointer data)
{
  const char *path = data;
  g_autofree char *calib_path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &error);
  g_autoptr (CfqpCalibration) calib = NULL;
  g_autofree CfqpQParams *qp = NULL;
  static const CfqpInt8Backend *const sets[] = { &cfqp_int8_cpu_backend,
      &cfqp_int8_cpu_native_backend, &cfqp_int8_cpu_orc_backend };
  static const char *const set_names[] = { "cpu", "native", "orc" };
  /* an odd size first; a multiple of 4 where the net refuses it */
  static const guint sizes[][2] = { { 37, 29 }, { 36, 28 } };
  const CfqpGraph *g;
  guint num, den, tried = 0;

  g_assert_no_error (error);
  {
    g_autofree char *stem = g_strndup (path, strlen (path) - strlen (".onnx"));
    calib_path = g_strconcat (stem, ".calib.json", NULL);
  }
  calib = cfqp_calibration_load (calib_path, NULL, &error);
  g_assert_no_error (error);
  /* the model the calibration is for, as cfqpsr runs it */
  {
    CfqpModel *run = cfqp_calibration_new_run_model (calib, model);
    cfqp_model_unref (model);
    model = run;
  }
  g_assert_true (cfqp_calibration_check_model (calib, model, &error));
  qp = cfqp_calibration_to_qparams (calib, model, &error);
  g_assert_no_error (error);
  g = cfqp_model_get_graph (model);
  cfqp_model_get_scale_ratio (model, &num, &den);
  g_assert_cmpuint (g->values[0].channels, ==, 3);

  for (guint s = 0; s < G_N_ELEMENTS (sizes) && !tried; s++) {
    guint w = sizes[s][0], h = sizes[s][1];
    /* a ×3/2 net refuses the odd size (its output would not be whole) */
    gsize n_in = (gsize) 3 * w * h, n_out = (gsize) 3 * (w * num / den) * (h * num / den);
    g_autofree guint8 *in = g_malloc (n_in), *want = NULL;
    Exec ref = exec_new (g, qp, calib, &cfqp_int8_ref_backend);

    g_assert_cmpuint (w, <=, photo_w);
    g_assert_cmpuint (h, <=, photo_h);
    for (guint c = 0; c < 3; c++)
      for (guint y = 0; y < h; y++)
        memcpy (in + ((gsize) c * h + y) * w, photo + ((gsize) c * photo_h + y) * photo_w, w);
    want = run (&ref, in, w, h, n_out);
    exec_free (&ref);
    if (!want)
      continue;
    tried++;
    for (guint k = 0; k < G_N_ELEMENTS (sets); k++) {
      Exec e = exec_new (g, qp, calib, sets[k]);
      g_autofree guint8 *got = run (&e, in, w, h, n_out);
      g_autofree char *convs = cfqp_int8_cpu_describe_convs (g,
          cfqp_int8_exec_get_program (e.exec));
      const char *c4 = cfqp_int8_cpu_config ()->conv_c4_name;
      g_test_message ("%s %s %u×%u: %s", path, set_names[k], w, h, convs);
      g_assert_nonnull (got);
      /* native: the c4 kernel of this CPU really ran */
      if (sets[k] == &cfqp_int8_cpu_native_backend && c4)
        g_assert_nonnull (strstr (convs, strstr (c4, "u8s8_") + 5));
      if (memcmp (got, want, n_out)) {
        gsize first = 0;
        while (got[first] == want[first])
          first++;
        g_error ("%s, %s kernels, %u×%u: byte %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
            " differs: %u, ref %u (%s)", path, set_names[k], w, h, first, n_out, got[first],
            want[first], convs);
      }
      exec_free (&e);
    }
  }
  g_assert_cmpuint (tried, ==, 1);
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *png = NULL;
  g_autofree guint8 *packed = NULL;
  const char *name;
  int status;

  g_test_init (&argc, &argv, NULL);
  png = test_data_path ("images", "boats-x3.png");
  packed = test_png_load_rgb (png, &photo_w, &photo_h);
  photo = g_malloc ((gsize) 3 * photo_w * photo_h);
  for (gsize p = 0; p < (gsize) photo_w * photo_h; p++)
    for (guint c = 0; c < 3; c++)
      photo[c * photo_w * photo_h + p] = packed[p * 3 + c];

  dir = g_dir_open (CFQP_MODELS_DIR, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, ".onnx") && !g_str_has_prefix (name, "default-"))
      g_ptr_array_add (paths, g_build_filename (CFQP_MODELS_DIR, name, NULL));
  g_ptr_array_sort (paths, compare_paths);
  g_assert_cmpuint (paths->len, >, 0);
  for (guint i = 0; i < paths->len; i++) {
    const char *p = g_ptr_array_index (paths, i);
    g_autofree char *base = g_path_get_basename (p);
    g_autofree char *test = g_strconcat ("/shipped-models/", base, NULL);
    g_test_add_data_func (test, p, test_model);
  }
  status = g_test_run ();
  g_free (photo);
  return status;
}
