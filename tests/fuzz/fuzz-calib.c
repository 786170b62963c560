/* libFuzzer target: calibration files (cfqp_calibration_new_from_json).
 * What loads must survive a write/read round trip unchanged, and load
 * against a model (tiny-x2) without crashing whatever the verdict; what
 * the model accepts builds an INT8 program (or is refused with an error)
 * and runs a 5×3 frame on the ref kernels, so that hostile scales and
 * zero points go through the requantisation under UBSan. */
#include "cfqp-calib.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static CfqpModel *
tiny_model (void)
{
  static CfqpModel *model;
  static gboolean tried;

  if (!tried) {
    const char *dir = g_getenv ("CFQP_TEST_DATA");
    g_autofree char *path = g_build_filename (dir ? dir : CFQP_SOURCE_TEST_DATA, "elements",
        "tiny-x2.onnx", NULL);
    tried = TRUE;
    model = cfqp_model_new_from_file (path, NULL);
  }
  return model;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CfqpCalibration) calib =
      cfqp_calibration_new_from_json ((const char *) data, size, NULL, &error);

  if (!calib) {
    if (!error || error->domain != CFQP_CALIB_ERROR || !error->message || !*error->message)
      __builtin_trap ();
    return 0;
  }
  {
    gsize len;
    g_autofree char *json = cfqp_calibration_to_json (calib, &len);
    g_autoptr (GError) err2 = NULL;
    g_autoptr (CfqpCalibration) again = cfqp_calibration_new_from_json (json, len, NULL, &err2);
    guint n = cfqp_calibration_get_n_tensors (calib);

    if (!again || cfqp_calibration_get_n_tensors (again) != n ||
        strcmp (cfqp_calibration_get_model_hash (again), cfqp_calibration_get_model_hash (calib)))
      __builtin_trap ();
    for (guint i = 0; i < n; i++) {
      const CfqpCalibTensor *a = cfqp_calibration_get_tensor (calib, i);
      const CfqpCalibTensor *b = cfqp_calibration_get_tensor (again, i);
      if (strcmp (a->name, b->name) || a->qparams.scale != b->qparams.scale ||
          a->qparams.zero_point != b->qparams.zero_point || a->min != b->min || a->max != b->max)
        __builtin_trap ();
    }
    {
      guint nt, nt2;
      const CfqpConvTaps *ta = cfqp_calibration_get_conv_taps (calib, &nt);
      const CfqpConvTaps *tb = cfqp_calibration_get_conv_taps (again, &nt2);

      if (nt != nt2)
        __builtin_trap ();
      for (guint i = 0; i < nt; i++)
        if (ta[i].output != tb[i].output || ta[i].n_taps != tb[i].n_taps ||
            memcmp (ta[i].taps, tb[i].taps, ta[i].n_taps))
          __builtin_trap ();
    }
  }
  if (tiny_model ()) {
    g_autoptr (GError) err3 = NULL;
    g_autofree CfqpQParams *qp = NULL;
    if (cfqp_calibration_check_model (calib, tiny_model (), &err3))
      qp = cfqp_calibration_to_qparams (calib, tiny_model (), NULL);
    if (qp) {
      /* INT8 and INT16 build different programs from the same table */
      for (guint p = 0; p < 2; p++) {
        CfqpRunnerOptions o = CFQP_RUNNER_OPTIONS_INIT;
        g_autoptr (GError) err4 = NULL;
        g_autoptr (CfqpRunner) runner = NULL;
        const CfqpPackedLayout rgb = { 3, 0, 1, 2, -1 };
        guint8 in[5 * 3 * 3], out[10 * 6 * 3];

        o.precision = p ? CFQP_PRECISION_INT16 : CFQP_PRECISION_INT8;
        o.backend = CFQP_BACKEND_REF;
        o.n_threads = 1;
        cfqp_calibration_fill_runner_options (calib, qp, &o);
        runner = cfqp_runner_new (tiny_model (), &o, &err4);
        if (!runner) {
          if (!err4 || !err4->message || !*err4->message)
            __builtin_trap ();
        } else if (cfqp_model_get_scale (tiny_model ()) == 2) {
          for (guint k = 0; k < sizeof in; k++)
            in[k] = (guint8) (k * 37);
          if (!cfqp_runner_run_packed (runner, &rgb, in, 15, 5, 3, out, 30, &err4))
            __builtin_trap ();
        }
      }
    }
  }
  return 0;
}
