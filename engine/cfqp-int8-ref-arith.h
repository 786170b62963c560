/* The arithmetic ops of the `ref` kernels (conv, conv transpose, add/sub/mul,
 * rescale), written once for both widths: cfqp-int8-ref.c includes this
 * with REF_T (guint8, guint16) and its view REF_VIEW, REF_CLAMP, the node's
 * taps REF_WEIGHT (gint8, gint16), biases REF_BIAS and pads REF_PAD, the
 * requantisation REF_REQUANT (64- or 128-bit product) and REF_FN (a name
 * suffix).  The values mean what docs/int8-arithmetic.md says; the bounds
 * 255 or 65535 live in the program's clamps and zero points. */

static inline REF_T *
REF_FN (row_of) (const REF_VIEW *v, guint c, guint y)
{
  return (REF_T *) v->data + c * v->plane_stride + y * v->row_stride;
}

static inline REF_T
REF_FN (requant_out) (const CfqpInt8Node *q, guint oc, gint64 acc)
{
  CfqpRequant rq = acc >= 0 ? q->rq_pos[oc] : q->rq_neg[oc];
  return REF_CLAMP (q->z_out + REF_REQUANT (acc, rq), q->lo, q->hi);
}

static void
REF_FN (ref_conv) (const CfqpNode *node, const CfqpInt8Node *q, const REF_VIEW *inputs,
    const REF_VIEW *output, guint y0, guint y1)
{
  const CfqpConvParams *cp = &node->p.conv;
  const REF_VIEW *in = &inputs[0];
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  guint kh = cp->kernel_h, kw = cp->kernel_w, pt, pl, pb, pr;
  g_autofree gint64 *acc = g_new (gint64, output->w);

  cfqp_conv_resolve_pads (cp, in->h, in->w, &pt, &pl, &pb, &pr);
  for (guint oc = 0; oc < output->c; oc++) {
    guint ic0 = oc / ocg * icg;
    const REF_W_T *w = REF_WEIGHT (q) + (gsize) oc * icg * kh * kw;

    for (guint oy = y0; oy < y1; oy++) {
      REF_T *o = REF_FN (row_of) (output, oc, oy);
      for (guint ox = 0; ox < output->w; ox++)
        acc[ox] = REF_BIAS (q)[oc];
      for (guint j = 0; j < icg; j++) {
        guint ic = ic0 + j;
        gint32 pad = REF_PAD (q)[ic] - q->z_in[0];
        for (guint ky = 0; ky < kh; ky++) {
          gint iy = (gint) (oy * cp->stride_h + ky * cp->dilation_h) - (gint) pt;
          const REF_T *irow = iy >= 0 && iy < (gint) in->h ? REF_FN (row_of) (in, ic, iy) : NULL;
          for (guint kx = 0; kx < kw; kx++) {
            gint64 wv = w[((gsize) j * kh + ky) * kw + kx];
            for (guint ox = 0; ox < output->w; ox++) {
              gint ix = (gint) (ox * cp->stride_w + kx * cp->dilation_w) - (gint) pl;
              gint32 v = irow && ix >= 0 && ix < (gint) in->w ? irow[ix] - q->z_in[0] : pad;
              acc[ox] += wv * v;
            }
          }
        }
      }
      for (guint ox = 0; ox < output->w; ox++)
        o[ox] = REF_FN (requant_out) (q, oc, acc[ox]);
    }
  }
}

/* out(oc, oy, ox) gathers in(ic, iy, ix) where oy = iy·s − pad + ky·d. */
static void
REF_FN (ref_conv_transpose) (const CfqpNode *node, const CfqpInt8Node *q, const REF_VIEW *inputs,
    const REF_VIEW *output, guint y0, guint y1)
{
  const CfqpConvParams *cp = &node->p.conv;
  const REF_VIEW *in = &inputs[0];
  guint icg = cp->in_channels / cp->groups, ocg = cp->out_channels / cp->groups;
  guint kh = cp->kernel_h, kw = cp->kernel_w, pt, pl, pb, pr;

  cfqp_conv_transpose_resolve_pads (cp, &pt, &pl, &pb, &pr);
  for (guint oc = 0; oc < output->c; oc++) {
    guint g = oc / ocg, o_in_g = oc % ocg;
    for (guint oy = y0; oy < y1; oy++) {
      REF_T *o = REF_FN (row_of) (output, oc, oy);
      for (guint ox = 0; ox < output->w; ox++) {
        gint64 acc = REF_BIAS (q)[oc];
        for (guint j = 0; j < icg; j++) {
          guint ic = g * icg + j;
          const REF_W_T *w = REF_WEIGHT (q) + ((gsize) ic * ocg + o_in_g) * kh * kw;
          for (guint ky = 0; ky < kh; ky++) {
            gint ny = (gint) (oy + pt) - (gint) (ky * cp->dilation_h);
            if (ny < 0 || ny % (gint) cp->stride_h || ny / (gint) cp->stride_h >= (gint) in->h)
              continue;
            for (guint kx = 0; kx < kw; kx++) {
              gint nx = (gint) (ox + pl) - (gint) (kx * cp->dilation_w);
              if (nx < 0 || nx % (gint) cp->stride_w || nx / (gint) cp->stride_w >= (gint) in->w)
                continue;
              acc += (gint64) w[ky * kw + kx] *
                  (REF_FN (row_of) (in, ic, ny / cp->stride_h)[nx / cp->stride_w] - q->z_in[0]);
            }
          }
        }
        o[ox] = REF_FN (requant_out) (q, oc, acc);
      }
    }
  }
}

static void
REF_FN (ref_binary) (const CfqpNode *node, const CfqpInt8Node *q, const REF_VIEW *inputs,
    const REF_VIEW *output, guint y0, guint y1)
{
  guint c_n = output->c;
  gboolean two = node->n_inputs == 2;
  gboolean mul = two && node->p.binary.kind == CFQP_BINARY_MUL;

  for (guint c = 0; c < c_n; c++) {
    guint ca = inputs[0].c == 1 ? 0 : c, cb = two && inputs[1].c == 1 ? 0 : c;
    for (guint y = y0; y < y1; y++) {
      const REF_T *a = REF_FN (row_of) (&inputs[0], ca, y);
      const REF_T *b = two ? REF_FN (row_of) (&inputs[1], cb, y) : NULL;
      REF_T *o = REF_FN (row_of) (output, c, y);
      for (guint x = 0; x < output->w; x++) {
        gint64 da = a[x] - q->z_in[0], t;
        if (mul)
          t = REF_REQUANT (da * (b[x] - q->z_in[1]), q->rq_in[c]);
        else
          t = REF_REQUANT (da, q->rq_in[c]) +
              (two ? REF_REQUANT (b[x] - q->z_in[1], q->rq_in[c_n + c]) : 0);
        t += q->offset[c];
        o[x] = REF_CLAMP (q->z_out + cfqp_rshift_round (t, CFQP_INT8_FRAC_BITS), q->lo, q->hi);
      }
    }
  }
}

/* Concat and standalone activations: each input rescaled onto the output. */
static void
REF_FN (ref_rescale) (const CfqpNode *node, const CfqpInt8Node *q, const REF_VIEW *inputs,
    const REF_VIEW *output, guint y0, guint y1)
{
  guint c_n = output->c, oc = 0;

  for (guint k = 0; k < node->n_inputs; k++) {
    const CfqpRequant *rq = q->rq_in + (gsize) k * 2 * c_n;
    for (guint c = 0; c < inputs[k].c; c++, oc++) {
      for (guint y = y0; y < y1; y++) {
        const REF_T *a = REF_FN (row_of) (&inputs[k], c, y);
        REF_T *o = REF_FN (row_of) (output, oc, y);
        for (guint x = 0; x < output->w; x++) {
          gint64 d = a[x] - q->z_inputs[k];
          o[x] = REF_CLAMP (q->z_out + REF_REQUANT (d, d >= 0 ? rq[oc] : rq[c_n + oc]),
              q->lo, q->hi);
        }
      }
    }
  }
}

