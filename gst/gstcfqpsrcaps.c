/* cfqp — cfqpsr's caps: transform_caps and fixate_caps for any output size.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/video/video.h>

#include "gstcfqpsrcaps.h"

static gint
mul_clamp (gint v, guint scale)
{
  return v > G_MAXINT / (gint) scale ? G_MAXINT : v * (gint) scale;
}

static gint
div_ceil (gint v, guint scale)
{
  return (v + (gint) scale - 1) / (gint) scale;
}

/* One width/height value (int, range or list) → the range of sizes on the
 * other side.  FALSE for a value that is not a size. */
static gboolean
transform_size (const GValue * in, gboolean up, guint scale, GValue * out)
{
  gint lo, hi;

  if (G_VALUE_HOLDS_INT (in)) {
    lo = hi = g_value_get_int (in);
  } else if (GST_VALUE_HOLDS_INT_RANGE (in)) {
    lo = gst_value_get_int_range_min (in);
    hi = gst_value_get_int_range_max (in);
  } else if (GST_VALUE_HOLDS_LIST (in)) {
    guint i, n = gst_value_list_get_size (in);

    g_value_init (out, GST_TYPE_LIST);
    for (i = 0; i < n; i++) {
      GValue v = G_VALUE_INIT;

      if (transform_size (gst_value_list_get_value (in, i), up, scale, &v))
        gst_value_list_append_and_take_value (out, &v);
    }
    if (gst_value_list_get_size (out) == 0) {
      g_value_unset (out);
      return FALSE;
    }
    return TRUE;
  } else {
    return FALSE;
  }

  lo = MAX (lo, 1);
  if (hi < lo)
    return FALSE;
  if (up) {
    hi = mul_clamp (hi, scale);
  } else {
    lo = div_ceil (lo, scale);
  }
  if (lo == hi) {
    g_value_init (out, G_TYPE_INT);
    g_value_set_int (out, lo);
  } else {
    g_value_init (out, GST_TYPE_INT_RANGE);
    gst_value_set_int_range (out, lo, hi);
  }
  return TRUE;
}

GstCaps *
gst_cfqp_sr_caps_transform (GstPadDirection direction, GstCaps * caps,
    GstCaps * filter, guint max_scale)
{
  gboolean up = direction == GST_PAD_SINK;
  GstCaps *ret = gst_caps_new_empty ();
  guint i;

  for (i = 0; i < gst_caps_get_size (caps); i++) {
    GstStructure *s = gst_structure_copy (gst_caps_get_structure (caps, i));
    GstCapsFeatures *f = gst_caps_get_features (caps, i);
    const gchar *fields[] = { "width", "height" };
    gboolean ok = TRUE;
    guint k;

    for (k = 0; k < G_N_ELEMENTS (fields) && ok; k++) {
      const GValue *v = gst_structure_get_value (s, fields[k]);
      GValue out = G_VALUE_INIT;

      if (v == NULL)
        continue;               /* unconstrained stays unconstrained */
      ok = transform_size (v, up, max_scale, &out);
      if (ok)
        gst_structure_take_value (s, fields[k], &out);
    }
    if (!ok) {
      gst_structure_free (s);
      continue;
    }
    /* as videoscale: the fixation picks the ratio, keeping the DAR */
    if (gst_structure_has_field (s, "pixel-aspect-ratio"))
      gst_structure_set (s, "pixel-aspect-ratio", GST_TYPE_FRACTION_RANGE, 1,
          G_MAXINT, G_MAXINT, 1, NULL);
    ret = gst_caps_merge_structure_full (ret, s,
        f ? gst_caps_features_copy (f) : NULL);
  }

  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, ret,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (ret);
    ret = tmp;
  }
  return ret;
}

guint
gst_cfqp_sr_caps_needed_scale (gint iw, gint ih, gint ow, gint oh)
{
  gint sx, sy;

  if (iw <= 0 || ih <= 0)
    return 0;
  sx = (gint) (((gint64) ow + iw - 1) / iw);
  sy = (gint) (((gint64) oh + ih - 1) / ih);
  return (guint) MAX (MAX (sx, sy), 1);
}

static gint
field_nearest (const GstStructure * s, const gchar * field, gint target)
{
  GstStructure *tmp = gst_structure_copy (s);
  gint v = target;

  gst_structure_fixate_field_nearest_int (tmp, field, target);
  gst_structure_get_int (tmp, field, &v);
  gst_structure_free (tmp);
  return v;
}

static void
set_par (GstStructure * outs, gint n, gint d)
{
  if (gst_structure_has_field (outs, "pixel-aspect-ratio") || n != d)
    gst_structure_set (outs, "pixel-aspect-ratio", GST_TYPE_FRACTION, n, d,
        NULL);
}

/* The PAR the structure would fixate to nearest n/d (to_par when it has
 * none). */
static void
par_nearest (const GstStructure * s, const GValue * to_par, gint n, gint d,
    gint * set_n, gint * set_d)
{
  GstStructure *tmp = gst_structure_copy (s);

  if (!gst_structure_has_field (tmp, "pixel-aspect-ratio"))
    gst_structure_set_value (tmp, "pixel-aspect-ratio", to_par);
  gst_structure_fixate_field_nearest_fraction (tmp, "pixel-aspect-ratio", n, d);
  if (!gst_structure_get_fraction (tmp, "pixel-aspect-ratio", set_n, set_d)) {
    *set_n = n;
    *set_d = d;
  }
  gst_structure_free (tmp);
}

/* videoscale's fixation with pw × ph (the preferred scale times the input)
 * as the size to keep; from_* are the input's for the DAR. */
static void
fixate_size (GstStructure * outs, gint from_w, gint from_h, gint from_par_n,
    gint from_par_d, const GValue * to_par, gint pw, gint ph)
{
  gint w = 0, h = 0, dar_n, dar_d, num, den, to_par_n, to_par_d;
  gint set_w, set_h, set_par_n, set_par_d;

  gst_structure_get_int (outs, "width", &w);
  gst_structure_get_int (outs, "height", &h);

  if (w && h) {
    guint n, d;

    /* downstream fixed the size: it wins; the PAR that keeps the DAR */
    if (!gst_value_is_fixed (to_par) &&
        gst_video_calculate_display_ratio (&n, &d, from_w, from_h, from_par_n,
            from_par_d, w, h)) {
      if (gst_structure_has_field (outs, "pixel-aspect-ratio"))
        gst_structure_fixate_field_nearest_fraction (outs,
            "pixel-aspect-ratio", n, d);
      else if (n != d)
        gst_structure_set (outs, "pixel-aspect-ratio", GST_TYPE_FRACTION, n, d,
            NULL);
    }
    return;
  }

  if (!gst_util_fraction_multiply (from_w, from_h, from_par_n, from_par_d,
          &dar_n, &dar_d))
    goto nearest;

  if (h || w) {
    /* one side fixed: the other from the DAR (with the PAR fixed, or
     * keeping the preferred size and adjusting the PAR) */
    gboolean have_h = h != 0;
    const gchar *free_field = have_h ? "width" : "height";
    gint fixed = have_h ? h : w, keep = have_h ? pw : ph, set;

    if (gst_value_is_fixed (to_par)) {
      to_par_n = gst_value_get_fraction_numerator (to_par);
      to_par_d = gst_value_get_fraction_denominator (to_par);
      if (!gst_util_fraction_multiply (dar_n, dar_d, to_par_d, to_par_n, &num,
              &den))
        goto nearest;
      set = have_h ? (gint) gst_util_uint64_scale_int_round (fixed, num, den) :
          (gint) gst_util_uint64_scale_int_round (fixed, den, num);
      gst_structure_fixate_field_nearest_int (outs, free_field, set);
      return;
    }
    set = field_nearest (outs, free_field, keep);
    /* PAR = DAR · h / w */
    if (!(have_h ? gst_util_fraction_multiply (dar_n, dar_d, fixed, set,
                &to_par_n, &to_par_d) : gst_util_fraction_multiply (dar_n, dar_d,
                set, fixed, &to_par_n, &to_par_d)))
      goto nearest;
    par_nearest (outs, to_par, to_par_n, to_par_d, &set_par_n, &set_par_d);
    if (set_par_n == to_par_n && set_par_d == to_par_d) {
      gst_structure_set (outs, free_field, G_TYPE_INT, set, NULL);
      set_par (outs, set_par_n, set_par_d);
      return;
    }
    if (!gst_util_fraction_multiply (dar_n, dar_d, set_par_d, set_par_n, &num,
            &den))
      goto nearest;
    set = have_h ? (gint) gst_util_uint64_scale_int_round (fixed, num, den) :
        (gint) gst_util_uint64_scale_int_round (fixed, den, num);
    gst_structure_fixate_field_nearest_int (outs, free_field, set);
    set_par (outs, set_par_n, set_par_d);
    return;
  }

  if (gst_value_is_fixed (to_par)) {
    gint f_w, f_h;

    to_par_n = gst_value_get_fraction_numerator (to_par);
    to_par_d = gst_value_get_fraction_denominator (to_par);
    if (!gst_util_fraction_multiply (dar_n, dar_d, to_par_d, to_par_n, &num,
            &den))
      goto nearest;
    /* keep the preferred height, the width from the DAR */
    set_h = field_nearest (outs, "height", ph);
    w = (gint) gst_util_uint64_scale_int_round (set_h, num, den);
    set_w = field_nearest (outs, "width", w);
    if (set_w == w) {
      gst_structure_set (outs, "width", G_TYPE_INT, set_w, "height", G_TYPE_INT,
          set_h, NULL);
      return;
    }
    f_w = set_w;
    f_h = set_h;
    /* else the preferred width, the height from the DAR */
    set_w = field_nearest (outs, "width", pw);
    h = (gint) gst_util_uint64_scale_int_round (set_w, den, num);
    set_h = field_nearest (outs, "height", h);
    if (set_h == h) {
      gst_structure_set (outs, "width", G_TYPE_INT, set_w, "height", G_TYPE_INT,
          set_h, NULL);
      return;
    }
    /* else whichever changes the DAR least */
    if ((gint64) set_w * ABS (set_h - h) < (gint64) ABS (f_w - w) * f_h) {
      f_w = set_w;
      f_h = set_h;
    }
    gst_structure_set (outs, "width", G_TYPE_INT, f_w, "height", G_TYPE_INT,
        f_h, NULL);
    return;
  }

  /* size and PAR free: the preferred size, the PAR that keeps the DAR */
  set_h = field_nearest (outs, "height", ph);
  set_w = field_nearest (outs, "width", pw);
  if (!gst_util_fraction_multiply (dar_n, dar_d, set_h, set_w, &to_par_n,
          &to_par_d))
    goto nearest;
  par_nearest (outs, to_par, to_par_n, to_par_d, &set_par_n, &set_par_d);
  if (set_par_n != to_par_n || set_par_d != to_par_d) {
    gint tmp;

    if (!gst_util_fraction_multiply (dar_n, dar_d, set_par_d, set_par_n, &num,
            &den))
      goto nearest;
    w = (gint) gst_util_uint64_scale_int_round (set_h, num, den);
    tmp = field_nearest (outs, "width", w);
    if (tmp == w) {
      set_w = tmp;
    } else {
      h = (gint) gst_util_uint64_scale_int_round (set_w, den, num);
      tmp = field_nearest (outs, "height", h);
      if (tmp == h)
        set_h = tmp;
    }
  }
  gst_structure_set (outs, "width", G_TYPE_INT, set_w, "height", G_TYPE_INT,
      set_h, NULL);
  set_par (outs, set_par_n, set_par_d);
  return;

nearest:
  gst_structure_fixate_field_nearest_int (outs, "width", pw);
  gst_structure_fixate_field_nearest_int (outs, "height", ph);
}

GstCaps *
gst_cfqp_sr_caps_fixate (GstPadDirection direction, GstCaps * caps,
    GstCaps * othercaps, guint scale)
{
  GstStructure *ins, *outs;
  const GValue *from_par, *to_par;
  GValue fpar = G_VALUE_INIT, tpar = G_VALUE_INIT;
  gint from_w, from_h, pw, ph, from_par_n = 1, from_par_d = 1;

  othercaps = gst_caps_truncate (othercaps);
  othercaps = gst_caps_make_writable (othercaps);
  ins = gst_caps_get_structure (caps, 0);
  outs = gst_caps_get_structure (othercaps, 0);

  if (!gst_structure_get_int (ins, "width", &from_w) ||
      !gst_structure_get_int (ins, "height", &from_h) || from_w <= 0
      || from_h <= 0)
    return gst_caps_fixate (othercaps);

  from_par = gst_structure_get_value (ins, "pixel-aspect-ratio");
  to_par = gst_structure_get_value (outs, "pixel-aspect-ratio");
  /* as videoscale: a missing input PAR is 1/1; a missing output PAR is any
   * ratio from the sink side, 1/1 (and set) from the source side */
  if (direction == GST_PAD_SINK) {
    if (to_par == NULL) {
      g_value_init (&tpar, GST_TYPE_FRACTION_RANGE);
      gst_value_set_fraction_range_full (&tpar, 1, G_MAXINT, G_MAXINT, 1);
      to_par = &tpar;
    }
  } else if (to_par == NULL) {
    g_value_init (&tpar, GST_TYPE_FRACTION);
    gst_value_set_fraction (&tpar, 1, 1);
    to_par = &tpar;
    gst_structure_set (outs, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
        NULL);
  }
  if (from_par == NULL || !gst_value_is_fixed (from_par)) {
    g_value_init (&fpar, GST_TYPE_FRACTION);
    gst_value_set_fraction (&fpar, 1, 1);
    from_par = &fpar;
  }
  from_par_n = gst_value_get_fraction_numerator (from_par);
  from_par_d = gst_value_get_fraction_denominator (from_par);

  if (direction == GST_PAD_SINK) {
    pw = mul_clamp (from_w, scale);
    ph = mul_clamp (from_h, scale);
  } else {
    pw = MAX ((from_w + (gint) scale / 2) / (gint) scale, 1);
    ph = MAX ((from_h + (gint) scale / 2) / (gint) scale, 1);
  }
  fixate_size (outs, from_w, from_h, from_par_n, from_par_d, to_par, pw, ph);

  if (G_IS_VALUE (&fpar))
    g_value_unset (&fpar);
  if (G_IS_VALUE (&tpar))
    g_value_unset (&tpar);
  return gst_caps_fixate (othercaps);
}
