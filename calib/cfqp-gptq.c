/* Data-aware rounding of the int8 conv weights (GPTQ: Frantar et al. 2023).
 *
 * Rounding each tap to nearest minimises the error of each weight, not of
 * the conv's output: on the inputs a network sees, neighbouring taps read
 * nearly the same values, so their errors add up instead of cancelling.
 * GPTQ rounds a filter's taps in turn and spreads each one's error over the
 * taps not yet rounded, weighted by H⁻¹, where H = E[x xᵀ] is the second
 * moment of the conv's FP32 input patches over the RD: for that H it makes
 * the output error E[(Σ (w − q) x)²] small, its mean included.  It needs
 * only the FP32 model and the RD, CFQP's own constraint.
 *
 * H is summed from at most SAMPLES_PER_IMAGE patch positions per image (a
 * regular grid), in double.  Convs whose filters have more than
 * MAX_FILTER_TAPS taps, and those past CFQP_GPTQ_MAX_TAPS weights in all
 * (so that the calibration file stays under its cap), keep the program's
 * own rounding. */
#include "cfqp-calib-private.h"

#include <math.h>
#include <string.h>

#define SAMPLES_PER_IMAGE 1024
#define MAX_FILTER_TAPS   1152   /* 3×3 × 128 input channels per group */
#define BATCH             64
#define DAMPING           0.01   /* of the mean diagonal of H */

typedef struct {
  guint    conv;       /* index for cfqp_model_get_conv */
  guint    input;      /* its input tensor */
  guint    k;          /* taps per filter: in/groups × kernel */
  guint    groups;
  double  *h;          /* groups × k × k, upper triangles */
  guint64  n;          /* patches summed, per group */
  guint    n_calls;    /* images seen: shifts the sample grid */
} ConvMoments;

struct _CfqpGptq {
  CfqpModel   *model;
  guint        n;
  ConvMoments *convs;
  float       *batch;   /* BATCH × k of the widest conv */
};

CfqpGptq *
cfqp_gptq_new (CfqpModel *model)
{
  CfqpGptq *g = g_new0 (CfqpGptq, 1);
  guint n_convs = cfqp_model_get_n_convs (model), k_max = 1;
  gsize total = 0;

  g->model = cfqp_model_ref (model);
  g->convs = g_new0 (ConvMoments, MAX (n_convs, 1));
  for (guint i = 0; i < n_convs; i++) {
    CfqpConvInfo info;
    guint k;

    cfqp_model_get_conv (model, i, 1, 1, &info);
    k = info.in_channels / info.groups * info.kernel_h * info.kernel_w;
    if (info.fixed || k > MAX_FILTER_TAPS ||
        total + (gsize) info.out_channels * k > CFQP_GPTQ_MAX_TAPS)
      continue;
    total += (gsize) info.out_channels * k;
    g->convs[g->n] = (ConvMoments) { i, info.input, k, info.groups,
      g_new0 (double, (gsize) info.groups * k * k), 0, 0 };
    k_max = MAX (k_max, k);
    g->n++;
  }
  g->batch = g_new (float, (gsize) BATCH * k_max);
  return g;
}

void
cfqp_gptq_free (CfqpGptq *g)
{
  if (!g)
    return;
  for (guint i = 0; i < g->n; i++)
    g_free (g->convs[i].h);
  g_free (g->convs);
  g_free (g->batch);
  cfqp_model_unref (g->model);
  g_free (g);
}

/* One patch of group gi at output position (oy, ox) into p[0..k). */
static void
gather_patch (const CfqpConvInfo *c, guint gi, const float *data, guint height, guint width,
              guint oy, guint ox, float *p)
{
  guint icg = c->in_channels / c->groups;

  for (guint ci = 0; ci < icg; ci++) {
    guint ch = gi * icg + ci;
    const float *plane = data + (gsize) ch * height * width;
    float pad = c->pad_value ? c->pad_value[ch] : 0.f;

    for (guint ky = 0; ky < c->kernel_h; ky++) {
      gint64 y = (gint64) oy * c->stride_h + (gint64) ky * c->dilation_h - c->pad_top;

      for (guint kx = 0; kx < c->kernel_w; kx++) {
        gint64 x = (gint64) ox * c->stride_w + (gint64) kx * c->dilation_w - c->pad_left;

        *p++ = y < 0 || y >= height || x < 0 || x >= width ? pad :
            plane[(gsize) y * width + (gsize) x];
      }
    }
  }
}

/* h (upper triangle) += Σ over the n patches of p pᵀ. */
static void
add_outer (double *h, guint k, const float *batch, guint n)
{
  for (guint s = 0; s < n; s++) {
    const float *p = batch + (gsize) s * k;

    for (guint i = 0; i < k; i++) {
      double a = p[i];
      double *row = h + (gsize) i * k;

      if (a == 0)
        continue;
      for (guint j = i; j < k; j++)
        row[j] += a * p[j];
    }
  }
}

static void
accumulate (CfqpGptq *g, ConvMoments *m, const float *data, guint height, guint width)
{
  CfqpConvInfo c;
  guint oh, ow, step, off;
  gint64 eh, ew;

  cfqp_model_get_conv (g->model, m->conv, height, width, &c);
  eh = (gint64) height + c.pad_top + c.pad_bottom - (gint64) c.dilation_h * (c.kernel_h - 1) - 1;
  ew = (gint64) width + c.pad_left + c.pad_right - (gint64) c.dilation_w * (c.kernel_w - 1) - 1;
  if (eh < 0 || ew < 0)
    return;
  oh = eh / c.stride_h + 1;
  ow = ew / c.stride_w + 1;
  step = MAX (1, (guint) ceil (sqrt ((double) oh * ow / SAMPLES_PER_IMAGE)));
  off = m->n_calls++ % step;
  for (guint gi = 0; gi < m->groups; gi++) {
    double *h = m->h + (gsize) gi * m->k * m->k;
    guint n = 0;
    guint64 total = 0;

    for (guint oy = MIN (off, oh - 1); oy < oh; oy += step)
      for (guint ox = MIN (off, ow - 1); ox < ow; ox += step) {
        gather_patch (&c, gi, data, height, width, oy, ox, g->batch + (gsize) n * m->k);
        total++;
        if (++n == BATCH) {
          add_outer (h, m->k, g->batch, n);
          n = 0;
        }
      }
    add_outer (h, m->k, g->batch, n);
    if (gi == 0)
      m->n += total;
  }
}

void
cfqp_gptq_tensor_func (guint tensor, const float *data, guint channels, guint height,
                       guint width, gpointer gptq)
{
  CfqpGptq *g = gptq;

  (void) channels;
  for (guint i = 0; i < g->n; i++)
    if (g->convs[i].input == tensor)
      accumulate (g, &g->convs[i], data, height, width);
}

/* In place: a (k × k, symmetric, full) → its lower Cholesky factor.  FALSE
 * when a is not positive definite. */
static gboolean
cholesky (double *a, guint k)
{
  for (guint j = 0; j < k; j++) {
    double d = a[(gsize) j * k + j];

    for (guint p = 0; p < j; p++)
      d -= a[(gsize) j * k + p] * a[(gsize) j * k + p];
    if (!(d > 0))
      return FALSE;
    d = sqrt (d);
    a[(gsize) j * k + j] = d;
    for (guint i = j + 1; i < k; i++) {
      double v = a[(gsize) i * k + j];

      for (guint p = 0; p < j; p++)
        v -= a[(gsize) i * k + p] * a[(gsize) j * k + p];
      a[(gsize) i * k + j] = v / d;
    }
    for (guint i = 0; i < j; i++)
      a[(gsize) i * k + j] = 0;
  }
  return TRUE;
}

/* u: the upper factor of H⁻¹ (H⁻¹ = uᵀ u) from the moments, damped.
 * FALSE when H is not positive definite even then. */
static gboolean
inverse_factor (const double *h_upper, guint64 n, guint k, double *u)
{
  g_autofree double *a = g_new (double, (gsize) k * k);
  g_autofree double *linv = g_new0 (double, (gsize) k * k);
  double mean = 0;

  for (guint i = 0; i < k; i++)
    for (guint j = i; j < k; j++)
      a[(gsize) i * k + j] = a[(gsize) j * k + i] = h_upper[(gsize) i * k + j] / n;
  for (guint i = 0; i < k; i++) {
    /* an input the RD never reached: its taps round alone */
    if (a[(gsize) i * k + i] == 0)
      a[(gsize) i * k + i] = 1;
    mean += a[(gsize) i * k + i] / k;
  }
  for (guint i = 0; i < k; i++)
    a[(gsize) i * k + i] += DAMPING * mean;
  if (!cholesky (a, k))
    return FALSE;
  /* L⁻¹ by forward substitution, column by column */
  for (guint j = 0; j < k; j++) {
    linv[(gsize) j * k + j] = 1 / a[(gsize) j * k + j];
    for (guint i = j + 1; i < k; i++) {
      double v = 0;

      for (guint p = j; p < i; p++)
        v -= a[(gsize) i * k + p] * linv[(gsize) p * k + j];
      linv[(gsize) i * k + j] = v / a[(gsize) i * k + i];
    }
  }
  /* H⁻¹ = L⁻ᵀ L⁻¹, then its own Cholesky factor, transposed */
  for (guint i = 0; i < k; i++)
    for (guint j = 0; j <= i; j++) {
      double v = 0;

      for (guint p = i; p < k; p++)
        v += linv[(gsize) p * k + i] * linv[(gsize) p * k + j];
      u[(gsize) i * k + j] = u[(gsize) j * k + i] = v;
    }
  if (!cholesky (u, k))
    return FALSE;
  for (guint i = 0; i < k; i++)
    for (guint j = i + 1; j < k; j++) {
      u[(gsize) i * k + j] = u[(gsize) j * k + i];
      u[(gsize) j * k + i] = 0;
    }
  return TRUE;
}

static double
round_half_away (double v)
{
  return v < 0 ? -floor (-v + 0.5) : floor (v + 0.5);
}

/* One filter row w (k taps, in steps of its scale) → taps q. */
static void
round_row (double *w, guint k, const double *u, gint8 *q)
{
  for (guint i = 0; i < k; i++) {
    double r = CLAMP (round_half_away (w[i]), -127, 127);
    double err = (w[i] - r) / u[(gsize) i * k + i];

    q[i] = (gint8) r;
    for (guint j = i + 1; j < k; j++)
      w[j] -= err * u[(gsize) i * k + j];
  }
}

/* The taps of one conv into t; FALSE where its moments are empty or
 * singular. */
static gboolean
solve_conv (CfqpGptq *g, const ConvMoments *m, CfqpConvTaps *t)
{
  CfqpConvInfo c;
  guint ocg;
  g_autofree double *scales = NULL;
  g_autofree double *u = g_new (double, (gsize) m->k * m->k);
  g_autofree double *w = g_new (double, m->k);
  g_autofree gint8 *taps = NULL;

  if (m->n == 0)
    return FALSE;
  cfqp_model_get_conv (g->model, m->conv, 1, 1, &c);
  ocg = c.out_channels / c.groups;
  scales = g_new (double, c.out_channels);
  cfqp_model_get_conv_weight_scales (g->model, m->conv, scales);
  taps = g_new (gint8, (gsize) c.out_channels * m->k);
  for (guint gi = 0; gi < m->groups; gi++) {
    if (!inverse_factor (m->h + (gsize) gi * m->k * m->k, m->n, m->k, u))
      return FALSE;
    for (guint oc = gi * ocg; oc < (gi + 1) * ocg; oc++) {
      for (guint i = 0; i < m->k; i++)
        w[i] = c.weight[(gsize) oc * m->k + i] / scales[oc];
      round_row (w, m->k, u, taps + (gsize) oc * m->k);
    }
  }
  *t = (CfqpConvTaps) { c.output, c.out_channels * m->k, g_steal_pointer (&taps) };
  return TRUE;
}

void
cfqp_gptq_solve (CfqpGptq *g, GArray *taps)
{
  for (guint i = 0; i < g->n; i++) {
    CfqpConvTaps t;

    if (solve_conv (g, &g->convs[i], &t))
      g_array_append_val (taps, t);
  }
}
