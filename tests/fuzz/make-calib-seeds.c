/* Writes the calibration seed corpus (tests/fuzz/corpus/calib/): real
 * calibrations of the element test models, computed by the calibrator from
 * a synthetic frame, with each observer; the MSE ones clip-free and with
 * GPTQ conv taps.
 *   make-calib-seeds TEST_DATA_DIR OUT_DIR */
#include "cfqp-calib.h"

#include <math.h>
#include <stdio.h>

int
main (int argc, char **argv)
{
  const char *models[] = { "tiny-x2", "tiny-x3", "tiny-x4" };
  const CfqpObserverKind kinds[] = { CFQP_OBSERVER_MINMAX, CFQP_OBSERVER_PERCENTILE,
                                     CFQP_OBSERVER_MSE };
  guint w = 24, h = 16;
  g_autofree float *frame = g_new (float, 3 * w * h);

  if (argc != 3) {
    fprintf (stderr, "usage: %s TEST_DATA_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  for (guint i = 0; i < 3 * w * h; i++)
    frame[i] = 0.5f + 0.5f * sinf (i * 0.37f);
  for (guint m = 0; m < G_N_ELEMENTS (models); m++) {
    g_autofree char *file = g_strconcat (models[m], ".onnx", NULL);
    g_autofree char *path = g_build_filename (argv[1], "elements", file, NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (CfqpModel) model = cfqp_model_new_from_file (path, &error);

    if (!model) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
      CfqpCalibSettings s;
      g_autoptr (CfqpCalibrator) cal = NULL;
      g_autoptr (CfqpCalibration) calib = NULL;
      g_autofree char *name = NULL, *out = NULL;

      cfqp_calib_settings_init (&s);
      s.observer = kinds[k];
      s.n_bins = 64;
      s.clip_free = k == 2;
      /* the MSE seeds carry conv taps */
      s.weight_rounding = k == 2 ? CFQP_WEIGHT_ROUNDING_GPTQ : CFQP_WEIGHT_ROUNDING_NEAREST;
      s.augment = k == 1 ? CFQP_AUGMENT_NONE : CFQP_AUGMENT_ALL;
      cal = cfqp_calibrator_new (model, &s);
      cfqp_calibrator_add_frame (cal, frame, w, h);
      if (!(calib = cfqp_calibrator_compute (cal, NULL, &error))) {
        fprintf (stderr, "%s\n", error->message);
        return 1;
      }
      name = g_strdup_printf ("%s-%s.json", models[m], cfqp_observer_kind_to_nick (kinds[k]));
      out = g_build_filename (argv[2], name, NULL);
      if (!cfqp_calibration_save (calib, out, &error)) {
        fprintf (stderr, "%s\n", error->message);
        return 1;
      }
      printf ("%s\n", out);
    }
  }
  return 0;
}
