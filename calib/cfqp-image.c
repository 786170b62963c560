/* CfqpImage: planar float images and the few operations calibration needs
 * (crop, bicubic resize, clamp). */
#include "cfqp-calib.h"

#include <math.h>
#include <string.h>

CfqpImage *
cfqp_image_new (guint channels, guint width, guint height)
{
  CfqpImage *im = g_new0 (CfqpImage, 1);

  im->channels = channels;
  im->width = width;
  im->height = height;
  im->data = g_new0 (float, (gsize) channels * width * height);
  return im;
}

CfqpImage *
cfqp_image_new_from_data (const float *data, guint channels, guint width, guint height)
{
  CfqpImage *im = cfqp_image_new (channels, width, height);

  memcpy (im->data, data, cfqp_image_get_n_values (im) * sizeof (float));
  return im;
}

CfqpImage *
cfqp_image_copy (const CfqpImage *im)
{
  return cfqp_image_new_from_data (im->data, im->channels, im->width, im->height);
}

void
cfqp_image_free (CfqpImage *im)
{
  if (!im)
    return;
  g_free (im->data);
  g_free (im);
}

gsize
cfqp_image_get_n_values (const CfqpImage *im)
{
  return (gsize) im->channels * im->width * im->height;
}

CfqpImage *
cfqp_image_crop (const CfqpImage *im, guint x, guint y, guint width, guint height)
{
  CfqpImage *out;

  g_return_val_if_fail (x + width <= im->width && y + height <= im->height, NULL);
  out = cfqp_image_new (im->channels, width, height);
  for (guint c = 0; c < im->channels; c++) {
    for (guint r = 0; r < height; r++) {
      memcpy (out->data + ((gsize) c * height + r) * width,
          im->data + ((gsize) c * im->height + y + r) * im->width + x, width * sizeof (float));
    }
  }
  return out;
}

void
cfqp_image_clamp (CfqpImage *im, float lo, float hi)
{
  gsize n = cfqp_image_get_n_values (im);

  for (gsize i = 0; i < n; i++)
    im->data[i] = CLAMP (im->data[i], lo, hi);
}

/* Keys' cubic with a = −0.5 (what PIL, OpenCV and MATLAB call bicubic). */
static double
cubic (double x)
{
  const double a = -0.5;

  x = fabs (x);
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0)
    return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

/* Weights of one output sample along one axis, PIL style: sample centres
 * aligned ((j + ½)·in/out), kernel support widened by the shrink factor,
 * taps outside the image dropped and the rest renormalised. */
typedef struct {
  guint   taps;          /* per output sample */
  guint  *first;         /* first input index */
  double *w;             /* out × taps */
} Axis;

static void
axis_init (Axis *ax, guint in, guint out)
{
  double scale = (double) in / out;
  double fs = MAX (scale, 1.0);
  double support = 2.0 * fs;

  ax->taps = (guint) ceil (support) * 2 + 1;
  ax->first = g_new0 (guint, out);
  ax->w = g_new0 (double, (gsize) out * ax->taps);
  for (guint j = 0; j < out; j++) {
    double centre = (j + 0.5) * scale;
    gint lo = (gint) floor (centre - support + 0.5);
    gint hi = (gint) floor (centre + support + 0.5);
    double sum = 0;
    double *w = ax->w + (gsize) j * ax->taps;

    lo = MAX (lo, 0);
    hi = MIN (hi, (gint) in);
    hi = MIN (hi, lo + (gint) ax->taps);
    ax->first[j] = lo;
    for (gint i = lo; i < hi; i++) {
      w[i - lo] = cubic ((i + 0.5 - centre) / fs);
      sum += w[i - lo];
    }
    for (gint i = lo; i < hi && sum != 0.0; i++)
      w[i - lo] /= sum;
  }
}

static void
axis_clear (Axis *ax)
{
  g_free (ax->first);
  g_free (ax->w);
}

CfqpImage *
cfqp_image_resize_bicubic (const CfqpImage *im, guint width, guint height)
{
  CfqpImage *out = cfqp_image_new (im->channels, width, height);
  g_autofree float *tmp = g_new (float, (gsize) im->height * width);
  Axis ax, ay;

  axis_init (&ax, im->width, width);
  axis_init (&ay, im->height, height);
  for (guint c = 0; c < im->channels; c++) {
    const float *src = im->data + (gsize) c * im->width * im->height;
    float *dst = out->data + (gsize) c * width * height;

    /* Horizontal pass into tmp (in height × out width), then vertical. */
    for (guint y = 0; y < im->height; y++) {
      const float *row = src + (gsize) y * im->width;

      for (guint x = 0; x < width; x++) {
        const double *w = ax.w + (gsize) x * ax.taps;
        guint f = ax.first[x];
        guint n = MIN (ax.taps, im->width - f);
        double acc = 0;

        for (guint t = 0; t < n; t++)
          acc += w[t] * row[f + t];
        tmp[(gsize) y * width + x] = (float) acc;
      }
    }
    for (guint y = 0; y < height; y++) {
      const double *w = ay.w + (gsize) y * ay.taps;
      guint f = ay.first[y];
      guint n = MIN (ay.taps, im->height - f);

      for (guint x = 0; x < width; x++) {
        double acc = 0;

        for (guint t = 0; t < n; t++)
          acc += w[t] * tmp[(gsize) (f + t) * width + x];
        dst[(gsize) y * width + x] = (float) acc;
      }
    }
  }
  axis_clear (&ax);
  axis_clear (&ay);
  return out;
}
