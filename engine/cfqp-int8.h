/* INT8 execution (internal): the quantised program and the kernel interface.
 *
 * The arithmetic is defined in docs/int8-arithmetic.md and by the `ref`
 * kernels (cfqp-int8-ref.c); every other backend matches them bit for bit.
 * Summary:
 *   activations  uint8, x = s·(q − z)
 *   weights      int8, symmetric per output channel, [−127, 127], each
 *                filter keeping its rounded tap sum (cfqp-int8-weights.c)
 *   bias         int32, round(b / (s_in·s_w))
 *   conv         acc = b_q + Σ w_q·(q_in − z_in)            (int32)
 *   requant      q = clamp(z_out + rshift_round(acc·m, shift), lo, hi)
 *                m: signed 31-bit multiplier, shift in [1, 62], int64
 *                product, rounding half away from zero
 *   activations  fused as clamp bounds (ReLU, Clip; ONNX's min(max(v, lo),
 *                hi), the program never builds lo > hi) or as a second
 *                multiplier used when acc < 0 (LeakyReLU, PReLU)
 *   refusals     multipliers outside shift 1..62, biases beyond 2^30 steps,
 *                layers whose worst-case acc·m overflows int64
 *   add/sub/mul  each input rescaled to 2^-20 units of the output scale,
 *                summed, then one rounding shift
 *   data moves   depth-to-space, tile, resize: bytes copied, scales shared
 * A 16-bit program (CFQP_PRECISION_INT16) is the same arithmetic on uint16
 * activations and int16 taps: each 8-bit grid (s, z) becomes (s/64, 64·z),
 * 64 times finer with 4 times the range (headroom for content brighter
 * than the calibration saw), every bound 255 becomes 65535, taps lie in
 * ±32767 on max|w|/32767, biases are int64 and the requantisation product
 * is taken in 128 bits.
 */
#pragma once

#include "cfqp-engine.h"
#include "cfqp-graph.h"

G_BEGIN_DECLS

#define CFQP_INT8_FRAC_BITS 20
/* A conv bias is refused beyond ±2^30 accumulator steps, a binary's
 * constant beyond ±2^56 units of 2^-20 output steps (docs/int8-arithmetic.md). */
#define CFQP_INT8_MAX_BIAS   1073741824.0
/* a 16-bit program's int64 bias: ±2^46 steps */
#define CFQP_INT16_MAX_BIAS  70368744177664.0
#define CFQP_INT8_MAX_OFFSET 72057594037927936.0

typedef struct {
  gint32 m;       /* signed; |m| in [2^30, 2^31) unless the multiplier is tiny */
  guint8 shift;   /* 1..62 */
} CfqpRequant;

/* Rounds x / 2^shift half away from zero. */
static inline gint64
cfqp_rshift_round (gint64 x, guint shift)
{
  gint64 half = (gint64) 1 << (shift - 1);
  return x >= 0 ? (x + half) >> shift : -((-x + half) >> shift);
}

static inline gint64
cfqp_requant (gint64 acc, CfqpRequant rq)
{
  return cfqp_rshift_round (acc * rq.m, rq.shift);
}

/* Accumulators below this in magnitude requantise in 64 bits. */
#define CFQP_REQUANT_NARROW ((gint64) 1 << 31)

/* cfqp_requant_wide without a 128-bit type (32-bit targets): |acc|·|m| as
 * two 64-bit halves, the rounding on the magnitude, the sign after.  The
 * tests hold it to the 128-bit form wherever that exists. */
static inline gint64
cfqp_requant_wide_portable (gint64 acc, CfqpRequant rq)
{
  const guint64 limit = (guint64) 1 << 62;
  gboolean neg = (acc < 0) != (rq.m < 0);
  guint64 a = acc < 0 ? (guint64) 0 - (guint64) acc : (guint64) acc;
  guint64 m = rq.m < 0 ? (guint64) 0 - (guint64) (gint64) rq.m : (guint64) rq.m;
  guint64 top = (a >> 32) * m, bottom = (a & 0xffffffffu) * m;   /* each < 2^63 */
  guint64 lo = bottom + (top << 32), hi = (top >> 32) + (lo < bottom);
  guint64 half = (guint64) 1 << (rq.shift - 1), r;

  if (a == 0 || m == 0)
    return 0;
  lo += half;
  hi += lo < half;
  /* (hi·2^64 + lo) >> shift, shift in 1..62 */
  if ((hi >> rq.shift) != 0)
    r = limit;
  else
    r = (hi << (64 - rq.shift)) | (lo >> rq.shift);
  r = MIN (r, limit);
  return neg ? -(gint64) r : (gint64) r;
}

/* cfqp_requant with the product in 128 bits (a 16-bit program's: int16 taps
 * on uint16 activations outgrow acc·m in 64).  Saturates at ±2^62, beyond
 * any uint16 output and, since |M| < 2^30, never reached by the 2^-20
 * terms of add/sub/mul, whose inputs differ by at most 2^32. */
static inline gint64
cfqp_requant_wide (gint64 acc, CfqpRequant rq)
{
  /* |acc| < 2^31: |acc·m| < 2^62, so the 64-bit form is exact and the
   * saturation unreachable (the common case, and far cheaper) */
  if (acc > -CFQP_REQUANT_NARROW && acc < CFQP_REQUANT_NARROW)
    return cfqp_requant (acc, rq);
#ifdef __SIZEOF_INT128__
  const __int128 limit = (__int128) 1 << 62;
  __int128 v = (__int128) acc * rq.m, half = (__int128) 1 << (rq.shift - 1);
  __int128 r = v >= 0 ? (v + half) >> rq.shift : -((-v + half) >> rq.shift);

  return (gint64) (r > limit ? limit : r < -limit ? -limit : r);
#else
  return cfqp_requant_wide_portable (acc, rq);
#endif
}

/* ONNX Clip's order, min(max(v, lo), hi): hi when lo > hi (the program
 * never builds lo > hi, so other orders give the same byte). */
static inline guint8
cfqp_clamp_u8 (gint64 v, gint32 lo, gint32 hi)
{
  gint64 t = v < lo ? lo : v;
  return (guint8) (t > hi ? hi : t);
}

static inline guint16
cfqp_clamp_u16 (gint64 v, gint32 lo, gint32 hi)
{
  gint64 t = v < lo ? lo : v;
  return (guint16) (t > hi ? hi : t);
}

/* A 16-bit program's grid for an 8-bit one: the same zero, 64 times finer
 * steps, so 65535/(64·255) ≈ 4.02 times the range.  Finer steps alone
 * (257, the same range) left saturated photos clipping where FP32 does not
 * (docs/cfqp.md, "INT16"). */
#define CFQP_INT16_STEPS_PER_U8 64
static inline CfqpQParams
cfqp_int16_grid (CfqpQParams u8)
{
  return (CfqpQParams) { (float) (u8.scale / (double) CFQP_INT16_STEPS_PER_U8),
                         u8.zero_point * CFQP_INT16_STEPS_PER_U8 };
}

/* A pixel byte of a 16-bit program's output: q/64 rounded, ties up (away
 * from zero), saturated at 255 (the grid reaches 4.02). */
static inline guint8
cfqp_int16_to_byte (guint16 q)
{
  guint v = (q + CFQP_INT16_STEPS_PER_U8 / 2) / CFQP_INT16_STEPS_PER_U8;
  return (guint8) MIN (v, 255);
}

/* Fixed-point form of a real multiplier: shift in [1, 62].  FALSE if real
 * is not finite or |real| rounds (31-bit mantissa) to 2^30 or more. */
gboolean cfqp_requant_from_real (double real, CfqpRequant *rq);

/* Per-node quantised parameters. */
typedef struct {
  /* conv / conv transpose */
  gint8       *weight;     /* same layout as the float weights */
  gint32      *bias;       /* per output channel */
  CfqpRequant *rq_pos;     /* per output channel */
  CfqpRequant *rq_neg;     /* per output channel; == rq_pos without leaky/prelu */
  guint8      *pad;        /* per input channel: the quantised padding value */
  /* a 16-bit program's instead of weight, bias, pad (NULL there) */
  gint16      *weight16;   /* int16 taps on max|w|/32767 */
  gint64      *bias64;
  guint16     *pad16;
  /* binary / concat / activation: per (input k, output channel c) at
   * k·C + c, the multiplier onto the output scale (2^20 units for binary) */
  CfqpRequant *rq_in;
  gint64      *offset;     /* binary: per output channel, constant in 2^20 units */
  gint32       z_in[2];    /* zero points of the inputs (concat: see z_inputs) */
  gint32      *z_inputs;   /* concat: per input */
  gint32       z_out;
  gint32       lo, hi;     /* output clamp from the fused activation */
  gpointer     packed;     /* backend data (e.g. weights re-laid for its
                            * inner loop), built when the program is set */
} CfqpInt8Node;

typedef struct {
  guint         bits;      /* activation width: 8 (uint8) or 16 (uint16) */
  guint         n_tensors;
  CfqpQParams  *qparams;   /* resolved: pixel grid at input/output, data moves share;
                            * a 16-bit program's are cfqp_int16_grid's */
  guint         n_nodes;
  CfqpInt8Node *nodes;
  char         *pad_misfit;  /* the first conv whose pad value left its input's
                              * u8 grid (saturated), or NULL */
} CfqpInt8Program;

/* The pixel grid (1/255, 0): the graph input's and output's in every
 * program, whatever the table says. */
static inline CfqpQParams
cfqp_int8_pixel_grid (void)
{
  return (CfqpQParams) { 1.f / 255.f, 0 };
}

static inline gboolean
cfqp_int8_on_pixel_grid (CfqpQParams qp)
{
  return qp.scale == cfqp_int8_pixel_grid ().scale &&
      qp.zero_point == cfqp_int8_pixel_grid ().zero_point;
}

/* Resolves a table (one entry per tensor) into the parameters actually used:
 * input and output on the pixel grid (1/255, 0), pure data movement sharing
 * its source's parameters.  derived (optional, n_tensors) marks tensors
 * whose parameters were not taken from the table. */
void cfqp_int8_resolve_qparams (const CfqpGraph *graph, const CfqpQParams *table,
                                CfqpQParams *out, gboolean *derived);
/* derived alone (n_tensors): it depends on the graph, not on a table. */
void cfqp_int8_find_derived (const CfqpGraph *graph, gboolean *derived);

/* Per output channel int8 weight scale of a conv (oc_n entries): the
 * model's own (weight_scale, from a QDQ file) or max|w|/127 rounded to
 * float; 1 for an all-zero channel. */
void cfqp_int8_conv_weight_scales (const CfqpConvParams *conv, gboolean transpose,
                                   double *wscale);

/* The int8 taps of a conv (same layout as its float weights) on those
 * scales: nearest rounding, then within each filter (output channel × input
 * channel, × output phase for a transposed conv) the taps nearest to a tie
 * moved until the filter's tap sum is the rounded exact sum.  FALSE if a
 * weight is not finite. */
gboolean cfqp_int8_quantize_conv_weights (const CfqpConvParams *conv, gboolean transpose,
                                          const double *wscale, gint8 *wq);

/* The same for a 16-bit program: max|w|/32767 from the float weights (a
 * QDQ model's too), and its int16 taps by the same rules on ±32767. */
void cfqp_int16_conv_weight_scales (const CfqpConvParams *conv, gboolean transpose,
                                    double *wscale);
gboolean cfqp_int16_quantize_conv_weights (const CfqpConvParams *conv, gboolean transpose,
                                           const double *wscale, gint16 *wq);

CfqpInt8Program *cfqp_int8_program_new  (const CfqpGraph *graph, const CfqpQParams *table,
                                         GError **error);
/* Whether each entry of taps names a Conv that rounds its own weights (not
 * a QDQ model's), once, with its full count of taps, all in −127..127;
 * by_output (n_values entries, zeroed; NULL: none wanted) then holds each
 * conv's taps at the tensor it computes.  The error names the node. */
gboolean cfqp_int8_check_conv_taps (const CfqpGraph *graph, const CfqpConvTaps *taps,
                                    guint n_taps, const gint8 **by_output, GError **error);
/* The same program from a calibration's whole quantisation: conv taps
 * (checked as above) and per-channel steps (cfqp-channel-steps.c: the
 * program is built from a copy of graph with the steps folded into its
 * convs).  q->qparams is the table. */
CfqpInt8Program *cfqp_int8_program_new_full (const CfqpGraph *graph, const CfqpQuantisation *q,
                                             GError **error);
/* Whether steps fit graph: each names a tensor that a float Conv computes
 * (no activation, ReLU, LeakyReLU or PReLU) and only Convs read, once,
 * with one finite step per channel in [2^-8, 2^8]. */
gboolean         cfqp_int8_check_channel_steps (const CfqpGraph *graph,
                                                const CfqpChannelSteps *steps, guint n_steps,
                                                GError **error);
/* A copy of graph with the steps folded into its convs (NULL, error if
 * they do not fit). */
CfqpGraph       *cfqp_int8_graph_with_channel_steps (const CfqpGraph *graph,
                                                     const CfqpChannelSteps *steps,
                                                     guint n_steps, GError **error);
/* The activation width of the programs a quantised precision runs (INT8: 8,
 * INT16: 16). */
static inline guint
cfqp_int8_program_bits (CfqpPrecision precision)
{
  return precision == CFQP_PRECISION_INT16 ? 16 : 8;
}

/* The same on bits-wide activations (8 or 16): q->qparams stays the 8-bit
 * table, which a 16-bit program resolves as an 8-bit one does and then
 * takes each grid's cfqp_int16_grid.  A 16-bit program rounds its own
 * int16 taps: q's int8 conv taps are checked, not used. */
CfqpInt8Program *cfqp_int8_program_new_bits (const CfqpGraph *graph, const CfqpQuantisation *q,
                                             guint bits, GError **error);
void             cfqp_int8_program_free (CfqpInt8Program *program);
/* Frees a node's parameters (its packed data is the backend's): what
 * cfqp_int8_program_free does per node, for a node built by hand. */
void             cfqp_int8_node_clear   (CfqpInt8Node *q);
/* Whether every conv's pad value (a folded input normalisation pads with
 * the value that normalises to 0) lies on its input's u8 grid; the program
 * saturates one that does not, which changes the borders against FP32.
 * FALSE with CFQP_ENGINE_ERROR_UNSUPPORTED naming the node otherwise. */
gboolean         cfqp_int8_program_pads_fit (const CfqpInt8Program *program, GError **error);

typedef struct {
  guint8 *data;
  guint   c, h, w;
  gsize   row_stride;    /* bytes */
  gsize   plane_stride;  /* bytes */
} CfqpU8View;

/* The uint16 tensors of a 16-bit program; strides in elements. */
typedef struct {
  guint16 *data;
  guint    c, h, w;
  gsize    row_stride;
  gsize    plane_stride;
} CfqpU16View;

/* Computes output rows [y0, y1) of a node. */
typedef void (*CfqpInt8OpFunc) (const CfqpNode *node, const CfqpInt8Node *q,
                                const CfqpU8View *inputs, const CfqpU8View *output,
                                guint y0, guint y1);
typedef void (*CfqpInt16OpFunc) (const CfqpNode *node, const CfqpInt8Node *q,
                                 const CfqpU16View *inputs, const CfqpU16View *output,
                                 guint y0, guint y1);

/* A kernel set.  pack (optional) builds a node's backend data once per
 * program, so no kernel allocates or re-lays weights per frame; pack16
 * (optional) the same for 16-bit programs.  free_packed frees either. */
typedef struct {
  const char     *name;
  CfqpInt8OpFunc  ops[CFQP_OP_N_OPS];
  gpointer      (*pack)        (const CfqpNode *node, const CfqpInt8Node *q);
  void          (*free_packed) (gpointer packed);
  CfqpInt16OpFunc ops16[CFQP_OP_N_OPS];   /* 16-bit programs; none: it runs only 8 */
  gpointer      (*pack16)      (const CfqpNode *node, const CfqpInt8Node *q);
} CfqpInt8Backend;

/* The reference kernels: the definition. */
extern const CfqpInt8Backend cfqp_int8_ref_backend;
/* A 16-bit program's data moves (and a concat that only copies):
 * cfqp-moves.c on two-byte elements. */
void cfqp_int16_ref_move (const CfqpNode *node, const CfqpInt8Node *q,
                          const CfqpU16View *inputs, const CfqpU16View *output,
                          guint y0, guint y1);

G_END_DECLS
