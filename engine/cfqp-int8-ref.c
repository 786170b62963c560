/* The `ref` INT8 kernels: plain scalar C, the definition of the arithmetic
 * (see cfqp-int8.h).  Written for clarity, not speed; other backends must
 * produce the same bytes. */
#include "cfqp-int8.h"

#include <string.h>

static inline guint8 *
row_of (const CfqpU8View *v, guint c, guint y)
{
  return v->data + c * v->plane_stride + y * v->row_stride;
}

static inline guint8
requant_out (const CfqpInt8Node *q, guint oc, gint64 acc)
{
  CfqpRequant rq = acc >= 0 ? q->rq_pos[oc] : q->rq_neg[oc];
  return cfqp_clamp_u8 (q->z_out + cfqp_requant (acc, rq), q->lo, q->hi);
}

static void
ref_conv (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  const CfqpConvParams *cp = &node->p.conv;
  const CfqpU8View *in = &inputs[0];
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  guint kh = cp->kernel_h, kw = cp->kernel_w, pt, pl, pb, pr;
  g_autofree gint64 *acc = g_new (gint64, output->w);

  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  for (guint oc = 0; oc < output->c; oc++) {
    guint ic0 = oc / ocg * icg;
    const gint8 *w = q->weight + (gsize) oc * icg * kh * kw;

    for (guint oy = y0; oy < y1; oy++) {
      guint8 *o = row_of (output, oc, oy);
      for (guint ox = 0; ox < output->w; ox++)
        acc[ox] = q->bias[oc];
      for (guint j = 0; j < icg; j++) {
        guint ic = ic0 + j;
        gint32 pad = q->pad[ic] - q->z_in[0];
        for (guint ky = 0; ky < kh; ky++) {
          gint iy = (gint) (oy * cp->stride_h + ky * cp->dilation_h) - (gint) pt;
          const guint8 *irow = iy >= 0 && iy < (gint) in->h ? row_of (in, ic, iy) : NULL;
          for (guint kx = 0; kx < kw; kx++) {
            gint32 wv = w[((gsize) j * kh + ky) * kw + kx];
            for (guint ox = 0; ox < output->w; ox++) {
              gint ix = (gint) (ox * cp->stride_w + kx * cp->dilation_w) - (gint) pl;
              gint32 v = irow && ix >= 0 && ix < (gint) in->w ? irow[ix] - q->z_in[0] : pad;
              acc[ox] += wv * v;
            }
          }
        }
      }
      for (guint ox = 0; ox < output->w; ox++)
        o[ox] = requant_out (q, oc, acc[ox]);
    }
  }
}

/* out(oc, oy, ox) gathers in(ic, iy, ix) where oy = iy·s − pad + ky·d. */
static void
ref_conv_transpose (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  const CfqpConvParams *cp = &node->p.conv;
  const CfqpU8View *in = &inputs[0];
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  guint kh = cp->kernel_h, kw = cp->kernel_w, pt, pl, pb, pr;

  cfqp_conv_transpose_resolve_pads (cp, &pt, &pl, &pb, &pr);
  for (guint oc = 0; oc < output->c; oc++) {
    guint g = oc / ocg, o_in_g = oc % ocg;
    for (guint oy = y0; oy < y1; oy++) {
      guint8 *o = row_of (output, oc, oy);
      for (guint ox = 0; ox < output->w; ox++) {
        gint64 acc = q->bias[oc];
        for (guint j = 0; j < icg; j++) {
          guint ic = g * icg + j;
          const gint8 *w = q->weight + ((gsize) ic * ocg + o_in_g) * kh * kw;
          for (guint ky = 0; ky < kh; ky++) {
            gint ny = (gint) (oy + pt) - (gint) (ky * cp->dilation_h);
            if (ny < 0 || ny % (gint) cp->stride_h || ny / (gint) cp->stride_h >= (gint) in->h)
              continue;
            for (guint kx = 0; kx < kw; kx++) {
              gint nx = (gint) (ox + pl) - (gint) (kx * cp->dilation_w);
              if (nx < 0 || nx % (gint) cp->stride_w || nx / (gint) cp->stride_w >= (gint) in->w)
                continue;
              acc += (gint32) w[ky * kw + kx] *
                  (row_of (in, ic, ny / cp->stride_h)[nx / cp->stride_w] - q->z_in[0]);
            }
          }
        }
        o[ox] = requant_out (q, oc, acc);
      }
    }
  }
}

static void
ref_binary (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  guint c_n = output->c;
  gboolean two = node->n_inputs == 2;
  gboolean mul = two && node->p.binary.kind == CFQP_BINARY_MUL;

  for (guint c = 0; c < c_n; c++) {
    guint ca = inputs[0].c == 1 ? 0 : c, cb = two && inputs[1].c == 1 ? 0 : c;
    for (guint y = y0; y < y1; y++) {
      const guint8 *a = row_of (&inputs[0], ca, y);
      const guint8 *b = two ? row_of (&inputs[1], cb, y) : NULL;
      guint8 *o = row_of (output, c, y);
      for (guint x = 0; x < output->w; x++) {
        gint64 da = a[x] - q->z_in[0], t;
        if (mul)
          t = cfqp_requant (da * (b[x] - q->z_in[1]), q->rq_in[c]);
        else
          t = cfqp_requant (da, q->rq_in[c]) +
              (two ? cfqp_requant (b[x] - q->z_in[1], q->rq_in[c_n + c]) : 0);
        t += q->offset[c];
        o[x] = cfqp_clamp_u8 (q->z_out + cfqp_rshift_round (t, CFQP_INT8_FRAC_BITS), q->lo, q->hi);
      }
    }
  }
}

/* Concat and standalone activations: each input rescaled onto the output. */
static void
ref_rescale (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  guint c_n = output->c, oc = 0;

  for (guint k = 0; k < node->n_inputs; k++) {
    const CfqpRequant *rq = q->rq_in + (gsize) k * 2 * c_n;
    for (guint c = 0; c < inputs[k].c; c++, oc++) {
      for (guint y = y0; y < y1; y++) {
        const guint8 *a = row_of (&inputs[k], c, y);
        guint8 *o = row_of (output, oc, y);
        for (guint x = 0; x < output->w; x++) {
          gint64 d = a[x] - q->z_inputs[k];
          o[x] = cfqp_clamp_u8 (q->z_out + cfqp_requant (d, d >= 0 ? rq[oc] : rq[c_n + oc]),
              q->lo, q->hi);
        }
      }
    }
  }
}

static void
ref_depth_to_space (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  guint b = node->p.shuffle.block;
  gboolean dcr = node->p.shuffle.mode == CFQP_D2S_DCR;

  for (guint c = 0; c < output->c; c++)
    for (guint y = y0; y < y1; y++) {
      guint8 *o = row_of (output, c, y);
      guint i = y % b;
      for (guint j = 0; j < b; j++) {
        guint ic = dcr ? (i * b + j) * output->c + c : c * b * b + i * b + j;
        const guint8 *in = row_of (&inputs[0], ic, y / b);
        for (guint x = 0; x < inputs[0].w; x++)
          o[x * b + j] = in[x];
      }
    }
}

static void
ref_space_to_depth (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  guint b = node->p.shuffle.block, in_c = inputs[0].c;
  gboolean dcr = node->p.shuffle.mode == CFQP_D2S_DCR;

  for (guint oc = 0; oc < output->c; oc++) {
    guint c = dcr ? oc % in_c : oc / (b * b);
    guint ij = dcr ? oc / in_c : oc % (b * b), i = ij / b, j = ij % b;
    for (guint y = y0; y < y1; y++) {
      guint8 *o = row_of (output, oc, y);
      const guint8 *in = row_of (&inputs[0], c, y * b + i) + j;
      for (guint x = 0; x < output->w; x++)
        o[x] = in[x * b];
    }
  }
}

static void
ref_resize_nearest (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  guint sh = node->p.resize.scale_h, sw = node->p.resize.scale_w;

  for (guint c = 0; c < output->c; c++)
    for (guint y = y0; y < y1; y++) {
      guint8 *o = row_of (output, c, y);
      const guint8 *in = row_of (&inputs[0], c, y / sh);
      for (guint x = 0; x < output->w; x++)
        o[x] = in[x / sw];
    }
}

static void
ref_tile_channels (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  for (guint c = 0; c < output->c; c++) {
    guint src = node->p.tile.interleave ? c / node->p.tile.repeats : c % inputs[0].c;
    for (guint y = y0; y < y1; y++)
      memcpy (row_of (output, c, y), row_of (&inputs[0], src, y), output->w);
  }
}

const CfqpInt8Backend cfqp_int8_ref_backend = {
  "ref",
  {
    [CFQP_OP_CONV] = ref_conv,
    [CFQP_OP_CONV_TRANSPOSE] = ref_conv_transpose,
    [CFQP_OP_ACTIVATION] = ref_rescale,
    [CFQP_OP_BINARY] = ref_binary,
    [CFQP_OP_CONCAT] = ref_rescale,
    [CFQP_OP_DEPTH_TO_SPACE] = ref_depth_to_space,
    [CFQP_OP_SPACE_TO_DEPTH] = ref_space_to_depth,
    [CFQP_OP_RESIZE_NEAREST] = ref_resize_nearest,
    [CFQP_OP_TILE_CHANNELS] = ref_tile_channels,
  },
  NULL, NULL,
};
