#include "test-png.h"

#include <png.h>

char *
test_data_path (const char *sub, const char *name)
{
  const char *root = g_getenv ("CFQP_TEST_DATA");

  return g_build_filename (root ? root : CFQP_DEFAULT_TEST_DATA, sub, name, NULL);
}

guint8 *
test_png_load_rgb (const char *path, guint *width, guint *height)
{
  png_image png = { .version = PNG_IMAGE_VERSION };
  guint8 *rgb;

  if (!png_image_begin_read_from_file (&png, path))
    g_error ("%s: %s", path, png.message);
  png.format = PNG_FORMAT_RGB;
  rgb = g_malloc (PNG_IMAGE_SIZE (png));
  if (!png_image_finish_read (&png, NULL, rgb, 0, NULL))
    g_error ("%s: %s", path, png.message);
  *width = png.width;
  *height = png.height;
  return rgb;
}

float *
test_png_load_planar (const char *path, guint *width, guint *height)
{
  g_autofree guint8 *rgb = test_png_load_rgb (path, width, height);
  gsize n = (gsize) *width * *height;
  float *planar = g_new (float, 3 * n);

  for (guint c = 0; c < 3; c++)
    for (gsize p = 0; p < n; p++)
      planar[c * n + p] = rgb[p * 3 + c] / 255.0f;
  return planar;
}
