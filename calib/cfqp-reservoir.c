/* CfqpReservoir: the representative dataset, sampled from a stream.
 *
 * A stream repeats itself (static shots, slow pans): a frame whose 16×16
 * thumbnail is close to the last distinct frame's adds nothing and is
 * skipped.  Distinct frames fill the reservoir, then replace samples by
 * reservoir sampling (Vitter's algorithm R), so a long stream's samples are
 * a uniform draw over its distinct frames rather than its first minutes. */
#include "cfqp-calib.h"

#include <math.h>

#define THUMB 16

struct _CfqpReservoir {
  guint      channels, max_samples;
  gsize      max_bytes, bytes;
  guint      crop_size;
  double     scene_threshold;
  GRand     *rand;
  GPtrArray *samples;      /* CfqpImage */
  float     *thumb;        /* last distinct frame's, channels × tw × th */
  guint      tw, th;
  guint64    n_seen, n_distinct;
};

CfqpReservoir *
cfqp_reservoir_new (guint channels, guint max_samples, gsize max_bytes, guint crop_size,
                    double scene_threshold, guint32 seed)
{
  CfqpReservoir *res;

  g_return_val_if_fail (channels > 0, NULL);
  res = g_new0 (CfqpReservoir, 1);
  res->channels = channels;
  res->max_samples = MAX (max_samples, 1);
  res->max_bytes = max_bytes;
  res->crop_size = crop_size;
  res->scene_threshold = scene_threshold;
  res->rand = g_rand_new_with_seed (seed);
  res->samples = g_ptr_array_new_with_free_func ((GDestroyNotify) cfqp_image_free);
  return res;
}

void
cfqp_reservoir_free (CfqpReservoir *res)
{
  if (!res)
    return;
  g_rand_free (res->rand);
  g_ptr_array_unref (res->samples);
  g_free (res->thumb);
  g_free (res);
}

void
cfqp_reservoir_clear (CfqpReservoir *res)
{
  g_ptr_array_set_size (res->samples, 0);
  g_clear_pointer (&res->thumb, g_free);
  res->bytes = 0;
  res->n_seen = res->n_distinct = 0;
}

/* Box-average thumbnail, at most THUMB×THUMB per channel. */
static float *
make_thumb (const CfqpReservoir *res, const float *data, guint w, guint h, guint *tw,
            guint *th)
{
  float *t;

  *tw = MIN (w, THUMB);
  *th = MIN (h, THUMB);
  t = g_new0 (float, (gsize) res->channels * *tw * *th);
  for (guint c = 0; c < res->channels; c++) {
    for (guint ty = 0; ty < *th; ty++) {
      guint y0 = (guint) ((guint64) ty * h / *th), y1 = (guint) ((guint64) (ty + 1) * h / *th);

      for (guint tx = 0; tx < *tw; tx++) {
        guint x0 = (guint) ((guint64) tx * w / *tw), x1 = (guint) ((guint64) (tx + 1) * w / *tw);
        double acc = 0;

        for (guint y = y0; y < y1; y++)
          for (guint x = x0; x < x1; x++)
            acc += data[((gsize) c * h + y) * w + x];
        t[((gsize) c * *th + ty) * *tw + tx] = (float) (acc / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  return t;
}

/* TRUE when the frame differs enough from the last distinct one (and then
 * becomes it). */
static gboolean
is_distinct (CfqpReservoir *res, const float *data, guint w, guint h)
{
  guint tw, th;
  float *t = make_thumb (res, data, w, h, &tw, &th);
  gboolean distinct = TRUE;

  if (res->thumb && tw == res->tw && th == res->th) {
    gsize n = (gsize) res->channels * tw * th;
    double diff = 0;

    for (gsize i = 0; i < n; i++)
      diff += fabs ((double) t[i] - res->thumb[i]);
    distinct = diff / n >= res->scene_threshold;
  }
  if (distinct) {
    g_free (res->thumb);
    res->thumb = t;
    res->tw = tw;
    res->th = th;
  } else {
    g_free (t);
  }
  return distinct;
}

static CfqpImage *
make_sample (CfqpReservoir *res, const float *data, guint w, guint h)
{
  CfqpImage frame;
  guint cw, ch, x, y;

  if (res->crop_size == 0 || (res->crop_size >= w && res->crop_size >= h))
    return cfqp_image_new_from_data (data, res->channels, w, h);
  cw = MIN (res->crop_size, w);
  ch = MIN (res->crop_size, h);
  x = g_rand_int_range (res->rand, 0, w - cw + 1);
  y = g_rand_int_range (res->rand, 0, h - ch + 1);
  /* A view of the caller's frame: crop only reads it. */
  frame = (CfqpImage) { res->channels, w, h, (float *) data };
  return cfqp_image_crop (&frame, x, y, cw, ch);
}

static gsize
sample_bytes (guint channels, guint w, guint h)
{
  return (gsize) channels * w * h * sizeof (float);
}

gboolean
cfqp_reservoir_add (CfqpReservoir *res, const float *data, guint width, guint height)
{
  guint cw = res->crop_size ? MIN (res->crop_size, width) : width;
  guint ch = res->crop_size ? MIN (res->crop_size, height) : height;
  gsize bytes = sample_bytes (res->channels, cw, ch);
  guint n = res->samples->len;
  CfqpImage *old;
  guint slot;

  g_return_val_if_fail (data != NULL && width > 0 && height > 0, FALSE);
  res->n_seen++;
  if (!is_distinct (res, data, width, height))
    return FALSE;
  res->n_distinct++;
  if (bytes > res->max_bytes)
    return FALSE;

  if (n < res->max_samples && res->bytes + bytes <= res->max_bytes) {
    g_ptr_array_add (res->samples, make_sample (res, data, width, height));
    res->bytes += bytes;
    return TRUE;
  }

  /* Full (by count or by bytes): keep with probability n / n_distinct. */
  slot = (guint) (g_rand_double (res->rand) * (double) res->n_distinct);
  if (slot >= n)
    return FALSE;
  old = g_ptr_array_index (res->samples, slot);
  res->bytes -= sample_bytes (old->channels, old->width, old->height);
  res->samples->pdata[slot] = make_sample (res, data, width, height);
  cfqp_image_free (old);
  res->bytes += bytes;
  /* A larger frame than the one it replaced (new caps): evict others. */
  while (res->bytes > res->max_bytes && res->samples->len > 1) {
    guint victim = g_rand_int_range (res->rand, 0, res->samples->len - 1);
    CfqpImage *v;

    if (victim >= slot)
      victim++;
    v = g_ptr_array_index (res->samples, victim);
    res->bytes -= sample_bytes (v->channels, v->width, v->height);
    g_ptr_array_remove_index (res->samples, victim);
    if (victim < slot)
      slot--;
  }
  return TRUE;
}

guint
cfqp_reservoir_get_n_samples (const CfqpReservoir *res)
{
  return res->samples->len;
}

const CfqpImage *
cfqp_reservoir_get_sample (const CfqpReservoir *res, guint i)
{
  g_return_val_if_fail (i < res->samples->len, NULL);
  return g_ptr_array_index (res->samples, i);
}

gsize
cfqp_reservoir_get_bytes (const CfqpReservoir *res)
{
  return res->bytes;
}

guint64
cfqp_reservoir_get_n_seen (const CfqpReservoir *res)
{
  return res->n_seen;
}

guint64
cfqp_reservoir_get_n_distinct (const CfqpReservoir *res)
{
  return res->n_distinct;
}
