/* FP32 Conv and ConvTranspose over a range of output rows.
 *
 * Conv with a horizontal stride of 1 (every layer of the usual SR nets)
 * takes a register-blocked path: a tile of 16 output pixels × up to 6
 * output channels is accumulated in vector registers over all input
 * channels and taps, so that each input load feeds 6 FMAs.  Border pixels,
 * whose taps reach into the padding, are computed one at a time outside the
 * hot loop.  Strided convs and narrow outputs take a simpler row-accumulating
 * path; ConvTranspose scatters input rows into output rows.
 */
#include "cfqp-f32-kernels.h"

#include <string.h>

/* Function multi-versioning: the hot loops get an AVX2+FMA clone picked at
 * load time, and stay portable C elsewhere.  Not with clang: clang 14 makes
 * the ifunc of an external clone local, so other files fail to link. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define CFQP_HOT __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef CFQP_HOT
#define CFQP_HOT
#endif

typedef float v8sf __attribute__ ((vector_size (32)));
/* Same vector, for loads and stores at any float alignment. */
typedef float v8sf_u __attribute__ ((vector_size (32), aligned (4)));

#define TILE_W 16   /* output pixels per tile: two vectors */
#define MAX_OB 6    /* output channels per tile: 12 accumulators fit 16 registers */

typedef struct {
  const CfqpConvParams *c;
  const CfqpF32View *in, *out;
  guint icg, ocg, kk;
  guint pt, pl;
} ConvGeom;

static void
conv_geom_init (ConvGeom *g, const CfqpNode *node, const CfqpF32View *in,
    const CfqpF32View *out)
{
  guint pb, pr;

  g->c = &node->p.conv;
  g->in = in;
  g->out = out;
  g->icg = g->c->in_channels / g->c->groups;
  g->ocg = g->c->out_channels / g->c->groups;
  g->kk = g->c->kernel_h * g->c->kernel_w;
  if (node->op == CFQP_OP_CONV)
    cfqp_conv_resolve_pads (g->c, in->h, in->w, &g->pt, &g->pl, &pb, &pr);
  else
    cfqp_conv_transpose_resolve_pads (g->c, &g->pt, &g->pl, &pb, &pr);
}

static inline float *
out_row (const ConvGeom *g, guint oc, guint oy)
{
  return g->out->data + oc * g->out->plane_stride + oy * g->out->row_stride;
}

/* One output pixel before activation, every tap bounds-checked. */
static float
conv_pixel (const ConvGeom *g, guint oc, guint oy, guint ox)
{
  const CfqpConvParams *c = g->c;
  guint ic0 = oc / g->ocg * g->icg;
  const float *w = c->weight + (gsize) oc * g->icg * g->kk;
  float sum = c->bias ? c->bias[oc] : 0.f;

  for (guint ic = 0; ic < g->icg; ic++) {
    const float *plane = g->in->data + (ic0 + ic) * g->in->plane_stride;
    float pv = c->pad_value ? c->pad_value[ic0 + ic] : 0.f;

    for (guint ky = 0; ky < c->kernel_h; ky++) {
      gint iy = (gint) (oy * c->stride_h + ky * c->dilation_h) - (gint) g->pt;
      gboolean row_in = iy >= 0 && iy < (gint) g->in->h;

      for (guint kx = 0; kx < c->kernel_w; kx++) {
        gint ix = (gint) (ox * c->stride_w + kx * c->dilation_w) - (gint) g->pl;
        float v = row_in && ix >= 0 && ix < (gint) g->in->w ?
            plane[iy * g->in->row_stride + ix] : pv;
        sum += *w++ * v;
      }
    }
  }
  return sum;
}

/* TILE_W pixels from x0 (all taps inside the row) × ob channels from oc0.
 * always_inline with a constant ob unrolls the channel loops so that the
 * accumulators live in registers. */
static inline __attribute__ ((always_inline)) void
conv_tile (const ConvGeom *g, guint oc0, const guint ob, guint oy, guint x0)
{
  const CfqpConvParams *c = g->c;
  guint ic0 = oc0 / g->ocg * g->icg;
  gsize w_oc_stride = (gsize) g->icg * g->kk;
  v8sf acc[MAX_OB][2];

  /* only ob rows are used; zeroing all quiets -Wmaybe-uninitialized */
  memset (acc, 0, sizeof acc);

  for (guint j = 0; j < ob; j++) {
    float b = c->bias ? c->bias[oc0 + j] : 0.f;
    acc[j][0] = (v8sf) { b, b, b, b, b, b, b, b };
    acc[j][1] = acc[j][0];
  }

  for (guint ic = 0; ic < g->icg; ic++) {
    const float *plane = g->in->data + (ic0 + ic) * g->in->plane_stride;
    const float *w = c->weight + (gsize) oc0 * w_oc_stride + ic * g->kk;

    for (guint ky = 0; ky < c->kernel_h; ky++, w += c->kernel_w) {
      gint iy = (gint) (oy * c->stride_h + ky * c->dilation_h) - (gint) g->pt;
      const float *row;

      if (iy < 0 || iy >= (gint) g->in->h) {
        float pv = c->pad_value ? c->pad_value[ic0 + ic] : 0.f;
        if (pv == 0.f)
          continue;
        for (guint kx = 0; kx < c->kernel_w; kx++) {
          for (guint j = 0; j < ob; j++) {
            float t = w[j * w_oc_stride + kx] * pv;
            acc[j][0] += t;
            acc[j][1] += t;
          }
        }
        continue;
      }
      row = plane + iy * g->in->row_stride + x0 - g->pl;
      for (guint kx = 0; kx < c->kernel_w; kx++) {
        const float *p = row + kx * c->dilation_w;
        v8sf a = *(const v8sf_u *) p;
        v8sf b = *(const v8sf_u *) (p + 8);

        for (guint j = 0; j < ob; j++) {
          float wv = w[j * w_oc_stride + kx];
          acc[j][0] += a * wv;
          acc[j][1] += b * wv;
        }
      }
    }
  }

  for (guint j = 0; j < ob; j++) {
    float *o = out_row (g, oc0 + j, oy) + x0;
    *(v8sf_u *) o = acc[j][0];
    *(v8sf_u *) (o + 8) = acc[j][1];
  }
}

#define DEFINE_CONV_ROW_BLOCK(OB) \
  static inline __attribute__ ((always_inline)) void \
  conv_row_block_##OB (const ConvGeom *g, guint oc0, guint oy, guint xa, guint xb) \
  { \
    for (guint x0 = xa; x0 < xb; x0 += TILE_W) \
      conv_tile (g, oc0, OB, oy, MIN (x0, xb - TILE_W)); \
  }
DEFINE_CONV_ROW_BLOCK (6)
DEFINE_CONV_ROW_BLOCK (4)
DEFINE_CONV_ROW_BLOCK (2)
DEFINE_CONV_ROW_BLOCK (1)

/* Stride-1 columns [xa, xb) have every tap inside the input row. */
CFQP_HOT static void
conv_rows_tiled (const CfqpNode *node, const ConvGeom *g, guint xa, guint xb,
    guint y0, guint y1)
{
  const CfqpConvParams *c = g->c;

  for (guint oy = y0; oy < y1; oy++) {
    for (guint grp = 0; grp < c->groups; grp++) {
      guint oc_end = (grp + 1) * g->ocg;

      for (guint oc0 = grp * g->ocg; oc0 < oc_end;) {
        guint ob = oc_end - oc0 >= 6 ? 6 : oc_end - oc0 >= 4 ? 4 : oc_end - oc0 >= 2 ? 2 : 1;

        switch (ob) {
          case 6: conv_row_block_6 (g, oc0, oy, xa, xb); break;
          case 4: conv_row_block_4 (g, oc0, oy, xa, xb); break;
          case 2: conv_row_block_2 (g, oc0, oy, xa, xb); break;
          default: conv_row_block_1 (g, oc0, oy, xa, xb); break;
        }
        for (guint j = 0; j < ob; j++) {
          float *o = out_row (g, oc0 + j, oy);
          for (guint x = 0; x < xa; x++)
            o[x] = conv_pixel (g, oc0 + j, oy, x);
          for (guint x = xb; x < g->out->w; x++)
            o[x] = conv_pixel (g, oc0 + j, oy, x);
          cfqp_f32_activate_row (&node->act, oc0 + j, o, g->out->w);
        }
        oc0 += ob;
      }
    }
  }
}

/* Any stride: each tap adds a (strided) input row into the output row. */
CFQP_HOT static void
conv_rows_generic (const CfqpNode *node, const ConvGeom *g, guint y0, guint y1)
{
  const CfqpConvParams *c = g->c;
  guint out_w = g->out->w, in_w = g->in->w, sw = c->stride_w;

  for (guint oy = y0; oy < y1; oy++) {
    for (guint oc = 0; oc < c->out_channels; oc++) {
      float *o = out_row (g, oc, oy);
      guint ic0 = oc / g->ocg * g->icg;
      const float *w = c->weight + (gsize) oc * g->icg * g->kk;
      float b = c->bias ? c->bias[oc] : 0.f;

      for (guint x = 0; x < out_w; x++)
        o[x] = b;
      for (guint ic = 0; ic < g->icg; ic++) {
        const float *plane = g->in->data + (ic0 + ic) * g->in->plane_stride;
        float pv = c->pad_value ? c->pad_value[ic0 + ic] : 0.f;

        for (guint ky = 0; ky < c->kernel_h; ky++, w += c->kernel_w) {
          gint iy = (gint) (oy * c->stride_h + ky * c->dilation_h) - (gint) g->pt;
          const float *row;

          if (iy < 0 || iy >= (gint) g->in->h) {
            float t = 0.f;
            for (guint kx = 0; kx < c->kernel_w; kx++)
              t += w[kx] * pv;
            for (guint x = 0; x < out_w && pv != 0.f; x++)
              o[x] += t;
            continue;
          }
          row = plane + iy * g->in->row_stride;
          for (guint kx = 0; kx < c->kernel_w; kx++) {
            /* Input column of output x is x·sw + off; [xa, xb) stays inside. */
            gint off = (gint) (kx * c->dilation_w) - (gint) g->pl;
            gint first = off < 0 ? (-off + sw - 1) / sw : 0;
            gint last = (gint) in_w - 1 - off < 0 ? -1 : ((gint) in_w - 1 - off) / (gint) sw;
            guint xa = MIN ((guint) first, out_w);
            guint xb = MAX ((gint) xa, MIN (last + 1, (gint) out_w));
            float wv = w[kx];

            if (sw == 1) {
              for (guint x = xa; x < xb; x++)
                o[x] += wv * row[x + off];
            } else {
              for (guint x = xa; x < xb; x++)
                o[x] += wv * row[x * sw + off];
            }
            if (pv != 0.f) {
              for (guint x = 0; x < xa; x++)
                o[x] += wv * pv;
              for (guint x = xb; x < out_w; x++)
                o[x] += wv * pv;
            }
          }
        }
      }
      cfqp_f32_activate_row (&node->act, oc, o, out_w);
    }
  }
}

void
cfqp_f32_conv (const CfqpNode *node, const CfqpF32View *inputs,
    const CfqpF32View *output, guint y0, guint y1)
{
  ConvGeom g;
  gint64 xa, xb;

  conv_geom_init (&g, node, &inputs[0], output);
  /* Columns whose taps all fall inside the input row. */
  xa = g.pl;
  xb = MIN ((gint64) g.in->w + g.pl - (gint64) g.c->dilation_w * (g.c->kernel_w - 1),
      (gint64) output->w);
  if (g.c->stride_w == 1 && xb - xa >= TILE_W)
    conv_rows_tiled (node, &g, xa, xb, y0, y1);
  else
    conv_rows_generic (node, &g, y0, y1);
}

/* Each input pixel scatters its kernel: output row oy receives input row
 * iy through tap ky when oy + pad_t − ky·dilation = iy·stride. */
CFQP_HOT void
cfqp_f32_conv_transpose (const CfqpNode *node, const CfqpF32View *inputs,
    const CfqpF32View *output, guint y0, guint y1)
{
  const CfqpConvParams *c = &node->p.conv;
  ConvGeom g;
  guint out_w = output->w, in_w = inputs[0].w, sw = c->stride_w;

  conv_geom_init (&g, node, &inputs[0], output);
  for (guint oy = y0; oy < y1; oy++) {
    for (guint oc = 0; oc < c->out_channels; oc++) {
      float *o = out_row (&g, oc, oy);
      guint grp = oc / g.ocg, ocl = oc % g.ocg;
      float b = c->bias ? c->bias[oc] : 0.f;

      for (guint x = 0; x < out_w; x++)
        o[x] = b;
      for (guint ic = grp * g.icg; ic < (grp + 1) * g.icg; ic++) {
        const float *w = c->weight + ((gsize) ic * g.ocg + ocl) * g.kk;
        const float *plane = g.in->data + ic * g.in->plane_stride;

        for (guint ky = 0; ky < c->kernel_h; ky++) {
          gint num = (gint) (oy + g.pt) - (gint) (ky * c->dilation_h);
          const float *row;

          if (num < 0 || num % (gint) c->stride_h)
            continue;
          if (num / (gint) c->stride_h >= (gint) g.in->h)
            continue;
          row = plane + (num / c->stride_h) * g.in->row_stride;
          for (guint kx = 0; kx < c->kernel_w; kx++) {
            /* Output column of input ix is ix·sw + off. */
            gint off = (gint) (kx * c->dilation_w) - (gint) g.pl;
            gint first = off < 0 ? (-off + sw - 1) / sw : 0;
            gint last = MIN ((gint) in_w - 1, ((gint) out_w - 1 - off) < 0 ? -1 :
                ((gint) out_w - 1 - off) / (gint) sw);
            float wv = w[ky * c->kernel_w + kx];

            for (gint ix = first; ix <= last; ix++)
              o[ix * sw + off] += wv * row[ix];
          }
        }
      }
      cfqp_f32_activate_row (&node->act, oc, o, out_w);
    }
  }
}
