/* Helper of test-calib-faults: writes a large calibration (N tensors) to
 * PATH again and again, generation g in rd.samples, until killed.
 *   calib-writer PATH N_TENSORS */
#include "cfqp-calib.h"

#include <stdio.h>
#include <stdlib.h>

static CfqpCalibration *
make_calibration (guint n_tensors, guint generation)
{
  CfqpCalibSettings s;
  g_autofree CfqpCalibTensor *t = g_new0 (CfqpCalibTensor, n_tensors);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  cfqp_calib_settings_init (&s);
  for (guint i = 0; i < n_tensors; i++) {
    char *name = g_strdup_printf ("/block_%u/conv_%u/Conv_output_0_%08u_padding_padding", i / 7,
        i % 7, generation);
    g_ptr_array_add (names, name);
    t[i].name = name;
    t[i].qparams.scale = 0.001f * (1 + i % 100);
    t[i].qparams.zero_point = i % 256;
    t[i].min = -1.0f * (i % 5);
    t[i].max = 1.0f + i % 9;
  }
  return cfqp_calibration_new ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      FALSE, &s, generation, generation, t, n_tensors);
}

#ifndef CALIB_WRITER_NO_MAIN
int
main (int argc, char **argv)
{
  guint n;

  if (argc != 3)
    return 2;
  n = atoi (argv[2]);
  for (guint g = 2;; g++) {
    g_autoptr (CfqpCalibration) c = make_calibration (n, g);
    g_autoptr (GError) error = NULL;
    if (!cfqp_calibration_save (c, argv[1], &error)) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    if (g == 2) {
      printf ("first\n");
      fflush (stdout);
    }
  }
}
#endif
