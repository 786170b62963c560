/* Elementwise ops of the cpu set through per-channel tables built at pack
 * time.  Wherever each input's contribution depends on one byte, ref's
 * 64-bit requantisation is evaluated once per (channel, byte value):
 *   concat / activation   out = lut[c][a]                    (bytes)
 *   add / sub / const op  t = ta[c][a] + tb[c][b] + offset    (int64, 2^20 units)
 * Same expressions as ref, so the same bytes.  Mul of two activations
 * depends on both bytes and is computed directly.
 *
 * Add/sub of two activations also has an ORC form (cfqp_orc_rq_term_u8 +
 * cfqp_orc_add_rq_u8: ref's terms recomputed in 32-bit lanes, see
 * cfqp-orc.orc), used where pack proves every intermediate fits 32 bits
 * and the 32-bit form equals the table on all 256 bytes of every channel;
 * concat and standalone activations (one multiplier for both signs) have
 * cfqp_orc_rescale_u8, checked the same way against their byte tables.
 * Both are measured faster than the tables (docs/performance.md).  Where
 * the kernel config has an add_row (AVX2 and up), add/sub instead evaluate the tables' int64
 * expression per element in vector lanes (exact at any scale); a concat or
 * activation whose tables are all the identity copies rows. */
#include "cfqp-int8-cpu-private.h"
#include "cfqp-int8-cpu-scratch.h"
#include "cfqp-int8-cpu-config.h"
#include "cfqp-int8-cpu-gemm.h"
#include "cfqp-int8-cpu-lut.h"

#include <config.h>
#include <string.h>
#ifdef HAVE_ORC
#include "cfqp-orc.h"
#endif
#if CFQP_GEMM_X86
#include <immintrin.h>
#endif

/* One input's term rshift_round((q − z)·m, s) as the ORC kernels compute it. */
typedef struct {
  gint32 z, sign, mh, ml, hj, j;
} OrcTerm;

typedef struct {
  CfqpInt8CpuPacked head;
  guint8 *bytes;    /* rescale: [input][out channel][256] */
  gint64 *terms;    /* binary add/sub: [input][channel][256] */
  OrcTerm *orc;     /* two-input add/sub through ORC: [input][channel], or NULL */
  OrcTerm *orc_rescale;  /* concat / activation through ORC: [input][out channel] */
  gboolean copy;    /* rescale whose every table is the identity: row copies */
  gboolean direct;  /* add/sub computed per element: add_lut32 or add_row */
  CfqpInt8AddRowFunc add_row;      /* int64 lanes */
  CfqpInt8AddLut32Func add_lut32;  /* int32 tables and gathers, terms32 */
  gint32 *terms32;  /* [input][channel][256], the offset in input 0's: where Σ fits int32 */
  guint   c_n;
} CpuLut;

/* Every (input, output channel) table maps v to v: the parameters were
 * unified (a concat whose producers requantise straight onto its range). */
static gboolean
tables_are_identity (const guint8 *bytes, gsize n_tables)
{
  for (gsize t = 0; t < n_tables; t++)
    for (guint v = 0; v < 256; v++)
      if (bytes[t * 256 + v] != v)
        return FALSE;
  return TRUE;
}

static void
cpu_lut_free (gpointer data)
{
  CpuLut *pl = data;
  g_free (pl->bytes);
  g_free (pl->terms);
  g_free (pl->terms32);
  g_free (pl->orc);
  g_free (pl->orc_rescale);
  g_free (pl->head.kernel);
  g_free (pl);
}

static gboolean
is_two_input_mul (const CfqpNode *node)
{
  return node->n_inputs == 2 && node->p.binary.kind == CFQP_BINARY_MUL;
}

#ifdef HAVE_ORC
/* The 32-bit form of rshift_round (d·m, s), d = sign·(v − z) in [−255, 255]
 * and M = |m| (cfqp-orc.orc): with s = 23 + j, M = mh·2^23 + ml,
 *   (d·mh + 2^(j−1) + ((d·ml − [d<0]) >> 23)) >> j;
 * for s ≤ 24, j = 1 with mh = M >> (s−1) and ml = (M mod 2^(s−1))·2^(24−s)
 * (the low part scaled up: the extra factor 2^(24−s) divides every other
 * term of the numerator, so −[d<0] rounds the same).  FALSE if m's sign
 * is not the expected one or an intermediate could leave int32. */
static gboolean
orc_term_from (CfqpRequant rq, gint32 z, gboolean allow_negative, OrcTerm *t)
{
  gint64 M = rq.m < 0 ? -(gint64) rq.m : rq.m;
  guint s = rq.shift;

  if ((rq.m < 0 && !allow_negative) || s < 1 || s > 53)
    return FALSE;
  t->z = z;
  t->sign = rq.m < 0 ? -1 : 1;
  if (s <= 24) {
    t->j = 1;
    t->mh = (gint32) MIN (M >> (s - 1), G_MAXINT32);
    t->ml = (gint32) ((M & (((gint64) 1 << (s - 1)) - 1)) << (24 - s));
  } else {
    t->j = (gint32) s - 23;
    t->mh = (gint32) (M >> 23);
    t->ml = (gint32) (M & ((1 << 23) - 1));
  }
  t->hj = 1 << (t->j - 1);
  /* |d·mh| + hj + |(d·ml − 1) >> 23| fits int32 */
  return (gint64) 255 * t->mh + t->hj + 256 <= G_MAXINT32;
}

static gint32
orc_term (const OrcTerm *t, guint v)
{
  gint32 d = t->sign * ((gint32) v - t->z);
  gint32 low = (d * t->ml + (d < 0 ? -1 : 0)) >> 23;
  return (d * t->mh + t->hj + low) >> t->j;
}
#endif

/* The ORC form of a two-input add/sub: every channel's terms equal ref's
 * table and their sum with the offset stays in int32; else NULL. */
static OrcTerm *
orc_binary_terms (const CfqpNode *node, const CfqpInt8Node *q, const gint64 *terms, guint c_n)
{
#ifdef HAVE_ORC
  OrcTerm *orc = g_new (OrcTerm, 2 * (gsize) c_n);

  for (guint c = 0; c < c_n; c++) {
    gint64 bound = q->offset[c] < 0 ? -q->offset[c] : q->offset[c];
    for (guint k = 0; k < 2; k++) {
      OrcTerm *t = &orc[k * c_n + c];
      gint64 most = 0;
      /* the first input's sign is fixed (+) by the kernel, the second's a parameter */
      if (!orc_term_from (q->rq_in[k * c_n + c], q->z_in[k], k == 1, t) ||
          (t->j != 1))
        goto refuse;
      for (guint v = 0; v < 256; v++) {
        gint64 want = terms[((gsize) k * c_n + c) * 256 + v];
        if (orc_term (t, v) != want)
          goto refuse;
        most = MAX (most, want < 0 ? -want : want);
      }
      bound += most;
    }
    /* every partial sum, the rounding half included, fits int32 */
    if (bound + (1 << 19) > G_MAXINT32)
      goto refuse;
  }
  return orc;
refuse:
  g_free (orc);
#endif
  return NULL;
}

/* The ORC form of a rescale: one multiplier for both signs, and the same
 * bytes as the tables for all 256 inputs of every (input, channel). */
static OrcTerm *
orc_rescale_terms (const CfqpNode *node, const CfqpInt8Node *q, const guint8 *bytes, guint c_n)
{
#ifdef HAVE_ORC
  OrcTerm *orc = g_new (OrcTerm, (gsize) node->n_inputs * c_n);

  for (guint k = 0; k < node->n_inputs; k++) {
    const CfqpRequant *rq = q->rq_in + (gsize) k * 2 * c_n;
    for (guint oc = 0; oc < c_n; oc++) {
      OrcTerm *t = &orc[k * c_n + oc];
      if (rq[oc].m != rq[c_n + oc].m || rq[oc].shift != rq[c_n + oc].shift ||
          !orc_term_from (rq[oc], q->z_inputs[k], FALSE, t))
        goto refuse;
      for (guint v = 0; v < 256; v++) {
        gint32 o = CLAMP (orc_term (t, v), G_MININT16, G_MAXINT16) + q->z_out;
        if (CLAMP (o, q->lo, q->hi) != bytes[((gsize) k * c_n + oc) * 256 + v])
          goto refuse;
      }
    }
  }
  return orc;
refuse:
  g_free (orc);
#endif
  return NULL;
}

/* Add/sub per element, the tables' arithmetic itself: term_k =
 * rshift_round((v_k − z_k)·m_k, s_k) in int64, then rshift_round(Σ + off,
 * FRAC) onto the output; branch-free rounding (half away from zero) so GCC
 * vectorises it.  Two forms of the same integers: AVX-512 DQ multiplies
 * and shifts int64 lanes directly; AVX2 has neither, so there the product
 * is int32 × int32 (vpmuldq: |v − z| ≤ 255), the sign a compare and the
 * magnitude's shift a logical one (in a one-off timing the all-int64 form
 * compiled for AVX2 was the slower of the two, and on AVX-512 the faster).
 * Two inputs; b == NULL for one. */
#if CFQP_GEMM_X86
static inline __attribute__ ((always_inline)) gint64
round_shift (gint64 x, guint shift, gint64 half)
{
  gint64 sign = x >> 63;
  gint64 ax = (x ^ sign) - sign;
  return (((ax + half) >> shift) ^ sign) - sign;
}

static inline __attribute__ ((always_inline)) gint64
round_shift_nosra (gint64 x, guint shift, gint64 half)
{
  gint64 sign = -(gint64) (x < 0);
  gint64 ax = (x ^ sign) - sign;
  return ((gint64) ((guint64) (ax + half) >> shift) ^ sign) - sign;
}

#define DEFINE_ADD_ROW(isa, attr, ROUND, PRODUCT) \
  attr void \
  cfqp_int8_add_row_u8__##isa (const guint8 *a, const guint8 *b, guint8 *o, guint n, \
      gint64 za, CfqpRequant ra, gint64 zb, CfqpRequant rb, gint64 off, gint32 zo, \
      gint32 lo, gint32 hi) \
  { \
    gint64 ha = (gint64) 1 << (ra.shift - 1), hb = (gint64) 1 << (rb.shift - 1); \
    gint64 hf = (gint64) 1 << (CFQP_INT8_FRAC_BITS - 1); \
    for (guint x = 0; x < n; x++) { \
      gint64 t = ROUND (PRODUCT (a[x], za, ra.m), ra.shift, ha) + off; \
      gint64 v; \
      if (b) \
        t += ROUND (PRODUCT (b[x], zb, rb.m), rb.shift, hb); \
      v = zo + ROUND (t, CFQP_INT8_FRAC_BITS, hf); \
      v = v < lo ? lo : v;                     /* cfqp_clamp_u8's order */ \
      o[x] = (guint8) (v > hi ? hi : v); \
    } \
  }

#define PRODUCT64(v, z, m) (((gint64) (v) - (z)) * (m))
#define PRODUCT32(v, z, m) ((gint64) ((gint32) (v) - (gint32) (z)) * (m))

DEFINE_ADD_ROW (avx2, __attribute__ ((target ("avx2,fma"))), round_shift_nosra, PRODUCT32)
DEFINE_ADD_ROW (avx512, __attribute__ ((target ("avx512f,avx512dq,avx512bw,avx512vl"))),
    round_shift, PRODUCT64)

/* Add/sub from int32 term tables (offset in ta): per 8 pixels two
 * vpgatherdd, one add and the output rounding in int32 lanes:
 * rshift_round(t, 20) = (t + 2^19 + (t >> 31)) >> 20 arithmetically (for
 * t < 0, −((−t + h) >> s) = (t + h − 1) >> s).  The pack made sure no sum
 * leaves int32. */
static inline __attribute__ ((target ("avx2,fma"))) __m256i
lut32_eight (const guint8 *a, const guint8 *b, const gint32 *ta, const gint32 *tb, __m256i loz,
    __m256i hiz, __m256i z)
{
  const __m256i h = _mm256_set1_epi32 (1 << (CFQP_INT8_FRAC_BITS - 1));
  __m256i t = _mm256_i32gather_epi32 (ta,
      _mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) a)), 4);
  if (b)
    t = _mm256_add_epi32 (t, _mm256_i32gather_epi32 (tb,
        _mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) b)), 4));
  t = _mm256_add_epi32 (t, _mm256_add_epi32 (h, _mm256_srai_epi32 (t, 31)));
  t = _mm256_srai_epi32 (t, CFQP_INT8_FRAC_BITS);
  /* cfqp_clamp_u8's order, then z and the low byte */
  t = _mm256_min_epi32 (_mm256_max_epi32 (t, loz), hiz);   /* cfqp_clamp_u8's order */
  return _mm256_and_si256 (_mm256_add_epi32 (t, z), _mm256_set1_epi32 (0xff));
}

__attribute__ ((target ("avx2,fma"))) void
cfqp_int8_add_lut32_u8__avx2 (const guint8 *a, const guint8 *b, guint8 *o, guint n,
    const gint32 *ta, const gint32 *tb, gint32 zo, gint32 lo, gint32 hi)
{
  __m256i z = _mm256_set1_epi32 (zo), loz = _mm256_set1_epi32 (lo - zo);
  __m256i hiz = _mm256_set1_epi32 (hi - zo);
  guint x = 0;

  for (; x + 16 <= n; x += 16) {
    __m256i r0 = lut32_eight (a + x, b ? b + x : NULL, ta, tb, loz, hiz, z);
    __m256i r1 = lut32_eight (a + x + 8, b ? b + x + 8 : NULL, ta, tb, loz, hiz, z);
    __m256i p = _mm256_permute4x64_epi64 (_mm256_packs_epi32 (r0, r1), 0xd8);
    _mm_storeu_si128 ((__m128i *) (o + x), _mm_packus_epi16 (_mm256_castsi256_si128 (p),
        _mm256_extracti128_si256 (p, 1)));
  }
  for (; x < n; x++) {
    gint64 t = (gint64) ta[a[x]] + (b ? tb[b[x]] : 0);
    o[x] = cfqp_clamp_u8 (zo + cfqp_rshift_round (t, CFQP_INT8_FRAC_BITS), lo, hi);
  }
}
#endif

/* The term tables in int32 with the offset folded into input 0's, when
 * every channel's Σ of terms and offset, plus the rounding's 2^19, fits
 * int32 for any bytes (ratios of scales up to ~7: the usual residual add);
 * else NULL.  Same integers as the int64 tables, so ref's bytes. */
static gint32 *
terms_int32 (const CfqpNode *node, const CfqpInt8Node *q, const gint64 *terms, guint c_n)
{
  gint32 *t32;

  for (guint c = 0; c < c_n; c++) {
    gint64 bound = (gint64) 1 << (CFQP_INT8_FRAC_BITS - 1);
    for (guint k = 0; k < node->n_inputs; k++) {
      gint64 m = 0;
      for (guint v = 0; v < 256; v++)
        m = MAX (m, ABS (terms[((gsize) k * c_n + c) * 256 + v] + (k == 0 ? q->offset[c] : 0)));
      bound += m;
    }
    if (bound > G_MAXINT32)
      return NULL;
  }
  t32 = g_new (gint32, (gsize) node->n_inputs * c_n * 256);
  for (guint k = 0; k < node->n_inputs; k++)
    for (guint c = 0; c < c_n; c++)
      for (guint v = 0; v < 256; v++) {
        gsize i = ((gsize) k * c_n + c) * 256 + v;
        t32[i] = (gint32) (terms[i] + (k == 0 ? q->offset[c] : 0));
      }
  return t32;
}

gboolean
cfqp_int8_cpu_lut_uses_lut32 (const CfqpInt8CpuPacked *packed)
{
  return packed && ((const CpuLut *) packed)->add_lut32 != NULL;
}

CfqpInt8CpuPacked *
cfqp_int8_cpu_lut_pack (const CfqpNode *node, const CfqpInt8Node *q)
{
  return cfqp_int8_cpu_lut_pack_with (node, q, TRUE, TRUE);
}

CfqpInt8CpuPacked *
cfqp_int8_cpu_lut_pack_full (const CfqpNode *node, const CfqpInt8Node *q, gboolean allow_orc)
{
  return cfqp_int8_cpu_lut_pack_with (node, q, allow_orc, FALSE);
}

gboolean
cfqp_int8_cpu_lut_is_direct (const CfqpInt8CpuPacked *packed)
{
  return packed && ((const CpuLut *) packed)->direct;
}

CfqpInt8CpuPacked *
cfqp_int8_cpu_lut_pack_with (const CfqpNode *node, const CfqpInt8Node *q, gboolean allow_orc,
    gboolean allow_direct)
{
  CpuLut *pl = g_new0 (CpuLut, 1);
  guint c_n = node->out_channels;

  pl->head.free = cpu_lut_free;
  pl->c_n = c_n;
  if (node->op == CFQP_OP_BINARY && is_two_input_mul (node)) {
    pl->head.kernel = g_strdup ("mul: direct int64 requantisation");
  } else if (node->op == CFQP_OP_BINARY) {
    pl->terms = g_new0 (gint64, (gsize) node->n_inputs * c_n * 256);
    for (guint k = 0; k < node->n_inputs; k++)
      for (guint c = 0; c < c_n; c++)
        for (guint v = 0; v < 256; v++)
          pl->terms[((gsize) k * c_n + c) * 256 + v] =
              cfqp_requant ((gint64) v - q->z_in[k], q->rq_in[k * c_n + c]);
    /* measured on ABPN ×3's residual add (27 channels, 640×360): the ORC
     * form ran 5× slower in the network than in isolation; this is exact
     * whatever the scales (docs/performance.md) */
    if (allow_direct && node->n_inputs <= 2)
      pl->terms32 = terms_int32 (node, q, pl->terms, c_n);
    pl->add_lut32 = pl->terms32 ? cfqp_int8_cpu_config ()->add_lut32 : NULL;
    pl->add_row = allow_direct && node->n_inputs <= 2 && !pl->add_lut32 ?
        cfqp_int8_cpu_config ()->add_row : NULL;
    if (!pl->add_lut32)
      g_clear_pointer (&pl->terms32, g_free);
    pl->direct = pl->add_row != NULL || pl->add_lut32 != NULL;
    if (allow_orc && !pl->direct && node->n_inputs == 2)
      pl->orc = orc_binary_terms (node, q, pl->terms, c_n);
    pl->head.kernel = pl->add_lut32 ? g_strdup_printf ("%s: int32 term tables, gathered (%s)",
            cfqp_op_type_to_string (node->op), cfqp_int8_cpu_config ()->add_lut32_name)
        : pl->direct ? g_strdup_printf ("%s: direct int64 requantisation (%s)",
            cfqp_op_type_to_string (node->op), cfqp_int8_cpu_config ()->add_row_name)
        : pl->orc ? g_strdup_printf ("%s: ORC 32-bit requantisation",
            cfqp_op_type_to_string (node->op))
        : g_strdup_printf ("%s: per-channel int64 term tables",
            cfqp_op_type_to_string (node->op));
  } else {
    /* concat / activation: which input feeds output channel oc depends on
     * the inputs' channel counts, so every (input, output channel) gets one */
    pl->bytes = g_new (guint8, (gsize) node->n_inputs * c_n * 256);
    for (guint k = 0; k < node->n_inputs; k++) {
      const CfqpRequant *rq = q->rq_in + (gsize) k * 2 * c_n;
      for (guint oc = 0; oc < c_n; oc++)
        for (guint v = 0; v < 256; v++) {
          gint64 d = (gint64) v - q->z_inputs[k];
          pl->bytes[((gsize) k * c_n + oc) * 256 + v] = cfqp_clamp_u8 (q->z_out +
              cfqp_requant (d, d >= 0 ? rq[oc] : rq[c_n + oc]), q->lo, q->hi);
        }
    }
    pl->copy = tables_are_identity (pl->bytes, (gsize) node->n_inputs * c_n);
    if (allow_orc && !pl->copy)
      pl->orc_rescale = orc_rescale_terms (node, q, pl->bytes, c_n);
    pl->head.kernel = g_strdup_printf (pl->copy ? "%s: row copies (parameters unified)"
        : pl->orc_rescale ? "%s: ORC 32-bit rescale"
        : "%s: per-channel byte tables", cfqp_op_type_to_string (node->op));
  }
  g_debug ("node '%s': %s", node->name, pl->head.kernel);
  return &pl->head;
}

void
cfqp_int8_cpu_binary (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  const CpuLut *pl = q->packed;
  guint c_n = output->c;
  gboolean two = node->n_inputs == 2;

  if (!pl || !pl->terms) {
    cfqp_int8_ref_backend.ops[node->op] (node, q, inputs, output, y0, y1);
    return;
  }
  if (pl->add_lut32) {
    for (guint c = 0; c < c_n; c++) {
      guint ca = inputs[0].c == 1 ? 0 : c, cb = two && inputs[1].c == 1 ? 0 : c;
      const gint32 *ta = pl->terms32 + (gsize) c * 256;
      const gint32 *tb = two ? pl->terms32 + ((gsize) c_n + c) * 256 : NULL;
      for (guint y = y0; y < y1; y++)
        pl->add_lut32 (cfqp_u8_row (&inputs[0], ca, y),
            two ? cfqp_u8_row (&inputs[1], cb, y) : NULL, cfqp_u8_row (output, c, y),
            output->w, ta, tb, q->z_out, q->lo, q->hi);
    }
    return;
  }
  if (pl->direct) {
    for (guint c = 0; c < c_n; c++) {
      guint ca = inputs[0].c == 1 ? 0 : c, cb = two && inputs[1].c == 1 ? 0 : c;
      CfqpRequant ra = q->rq_in[c], rb = two ? q->rq_in[c_n + c] : ra;
      for (guint y = y0; y < y1; y++)
        pl->add_row (cfqp_u8_row (&inputs[0], ca, y),
            two ? cfqp_u8_row (&inputs[1], cb, y) : NULL, cfqp_u8_row (output, c, y),
            output->w, q->z_in[0], ra, two ? q->z_in[1] : 0, rb, q->offset[c], q->z_out,
            q->lo, q->hi);
    }
    return;
  }
#ifdef HAVE_ORC
  if (pl->orc) {
    gint32 *t = cfqp_int8_cpu_scratch ((gsize) output->w * sizeof (gint32));
    for (guint c = 0; c < c_n; c++) {
      guint ca = inputs[0].c == 1 ? 0 : c, cb = inputs[1].c == 1 ? 0 : c;
      const OrcTerm *ta = &pl->orc[c], *tb = &pl->orc[c_n + c];
      for (guint y = y0; y < y1; y++) {
        cfqp_orc_rq_term_u8 (t, cfqp_u8_row (&inputs[0], ca, y), ta->z, ta->mh, ta->ml,
            output->w);
        cfqp_orc_add_rq_u8 (cfqp_u8_row (output, c, y), t, cfqp_u8_row (&inputs[1], cb, y),
            tb->z, tb->sign, tb->mh, tb->ml, (gint32) q->offset[c], q->z_out, q->lo, q->hi,
            output->w);
      }
    }
    return;
  }
#endif
  for (guint c = 0; c < c_n; c++) {
    guint ca = inputs[0].c == 1 ? 0 : c, cb = two && inputs[1].c == 1 ? 0 : c;
    const gint64 *ta = pl->terms + (gsize) c * 256;
    const gint64 *tb = two ? pl->terms + ((gsize) c_n + c) * 256 : NULL;
    gint64 off = q->offset[c];
    for (guint y = y0; y < y1; y++) {
      const guint8 *a = cfqp_u8_row (&inputs[0], ca, y);
      const guint8 *b = two ? cfqp_u8_row (&inputs[1], cb, y) : NULL;
      guint8 *o = cfqp_u8_row (output, c, y);
      if (two)
        for (guint x = 0; x < output->w; x++)
          o[x] = cfqp_clamp_u8 (q->z_out + cfqp_rshift_round (ta[a[x]] + tb[b[x]] + off,
              CFQP_INT8_FRAC_BITS), q->lo, q->hi);
      else
        for (guint x = 0; x < output->w; x++)
          o[x] = cfqp_clamp_u8 (q->z_out + cfqp_rshift_round (ta[a[x]] + off,
              CFQP_INT8_FRAC_BITS), q->lo, q->hi);
    }
  }
}

void
cfqp_int8_cpu_rescale (const CfqpNode *node, const CfqpInt8Node *q, const CfqpU8View *inputs,
    const CfqpU8View *output, guint y0, guint y1)
{
  const CpuLut *pl = q->packed;
  guint oc = 0;

  if (!pl || !pl->bytes) {
    cfqp_int8_ref_backend.ops[node->op] (node, q, inputs, output, y0, y1);
    return;
  }
  if (pl->copy) {
    for (guint k = 0; k < node->n_inputs; k++)
      for (guint c = 0; c < inputs[k].c; c++, oc++)
        for (guint y = y0; y < y1; y++)
          memcpy (cfqp_u8_row (output, oc, y), cfqp_u8_row (&inputs[k], c, y), output->w);
    return;
  }
#ifdef HAVE_ORC
  if (pl->orc_rescale) {
    for (guint k = 0; k < node->n_inputs; k++)
      for (guint c = 0; c < inputs[k].c; c++, oc++) {
        const OrcTerm *t = &pl->orc_rescale[k * pl->c_n + oc];
        for (guint y = y0; y < y1; y++)
          cfqp_orc_rescale_u8 (cfqp_u8_row (output, oc, y), cfqp_u8_row (&inputs[k], c, y),
              t->z, t->mh, t->ml, t->hj, t->j, q->z_out, q->lo, q->hi, output->w);
      }
    return;
  }
#endif
  for (guint k = 0; k < node->n_inputs; k++)
    for (guint c = 0; c < inputs[k].c; c++, oc++) {
      const guint8 *lut = pl->bytes + ((gsize) k * pl->c_n + oc) * 256;
      for (guint y = y0; y < y1; y++) {
        const guint8 *a = cfqp_u8_row (&inputs[k], c, y);
        guint8 *o = cfqp_u8_row (output, oc, y);
        for (guint x = 0; x < output->w; x++)
          o[x] = lut[a[x]];
      }
    }
}

gboolean
cfqp_int8_cpu_lut_uses_orc (const CfqpInt8CpuPacked *packed)
{
  return packed && (((const CpuLut *) packed)->orc || ((const CpuLut *) packed)->orc_rescale);
}

gboolean
cfqp_int8_cpu_lut_is_copy (const CfqpInt8CpuPacked *packed)
{
  return packed && ((const CpuLut *) packed)->copy;
}
