/* What the calib tests that run the engine share: the shipped test images
 * and reference networks. */
#pragma once

#include "cfqp-calib.h"
#include "test-png.h"

/* An 8-bit RGB PNG of tests/data/images as planar float in [0,1]. */
static inline CfqpImage *
calib_test_load_png (const char *name)
{
  g_autofree char *path = test_data_path ("images", name);
  guint w, h;
  g_autofree float *data = test_png_load_planar (path, &w, &h);

  return cfqp_image_new_from_data (data, 3, w, h);
}

/* A network of tests/data/refnets. */
static inline CfqpModel *
calib_test_load_model (const char *name)
{
  g_autofree char *path = test_data_path ("refnets", name);
  g_autoptr (GError) err = NULL;
  CfqpModel *m = cfqp_model_new_from_file (path, &err);

  g_assert_no_error (err);
  return m;
}
