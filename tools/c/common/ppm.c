/* Binary PPM (P6, 8 bit) files: read into planar float images, written
 * from planar bytes. */
#include "ppm.h"

#include <stdio.h>

CfqpImage *
ppm_read_image (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len, off = 0;
  guint vals[3], k = 0;
  CfqpImage *img;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  if (len < 2 || data[0] != 'P' || data[1] != '6') {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a binary PPM", path);
    return NULL;
  }
  off = 2;
  while (k < 3 && off < len) {
    if (data[off] == '#') {
      while (off < len && data[off] != '\n')
        off++;
    } else if (g_ascii_isdigit (data[off])) {
      vals[k++] = (guint) g_ascii_strtoull (data + off, NULL, 10);
      while (off < len && g_ascii_isdigit (data[off]))
        off++;
      continue;
    }
    off++;
  }
  off++;   /* exactly one whitespace byte separates the header from the pixels */
  if (k < 3 || vals[2] != 255 || vals[0] == 0 || vals[1] == 0 || off > len ||
      len - off < (gsize) vals[0] * vals[1] * 3) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: bad PPM header or size", path);
    return NULL;
  }
  img = cfqp_image_new (3, vals[0], vals[1]);
  for (guint y = 0; y < vals[1]; y++)
    for (guint x = 0; x < vals[0]; x++)
      for (guint c = 0; c < 3; c++)
        img->data[((gsize) c * vals[1] + y) * vals[0] + x] =
            (guint8) data[off + ((gsize) y * vals[0] + x) * 3 + c] / 255.f;
  return img;
}

void
ppm_write_planar_u8 (const char *path, const guint8 *planar, guint w, guint h)
{
  FILE *f = fopen (path, "wb");
  if (!f) {
    g_printerr ("cannot write %s\n", path);
    return;
  }
  fprintf (f, "P6\n%u %u\n255\n", w, h);
  for (gsize p = 0; p < (gsize) w * h; p++)
    for (guint c = 0; c < 3; c++)
      fputc (planar[c * (gsize) w * h + p], f);
  fclose (f);
}
