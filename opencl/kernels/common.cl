/* Helpers shared by the FP32 and INT8 kernels.  Tensors are dense planar
 * C×H×W; every kernel runs one work-item per output element over the
 * global range (width, height, channels). */

/* CfqpActKind, in the engine's order. */
#define ACT_NONE   0
#define ACT_RELU   1
#define ACT_LEAKY  2
#define ACT_PRELU  3
#define ACT_CLIP   4

/* The fused activation of an FP32 node, as kernel arguments. */
#define ACT_ARGS int act_kind, float act_alpha, float act_lo, float act_hi, \
    __global const float *act_slopes, int act_n_slopes
#define ACT(v, c) act_apply ((v), (c), act_kind, act_alpha, act_lo, act_hi, act_slopes, \
    act_n_slopes)

/* cfqp_activation_apply(), comparisons in the same order so that NaN and
 * signed zeros come out the same. */
inline float
act_apply (float v, int c, int kind, float alpha, float lo, float hi,
    __global const float *slopes, int n_slopes)
{
  switch (kind) {
    case ACT_RELU:
      return v > 0.f ? v : 0.f;
    case ACT_LEAKY:
      return v >= 0.f ? v : v * alpha;
    case ACT_PRELU:
      return v >= 0.f ? v : v * slopes[n_slopes == 1 ? 0 : c];
    case ACT_CLIP:
      v = v < lo ? lo : v;   /* ONNX's order: hi everywhere when lo > hi */
      return v > hi ? hi : v;
    default:
      return v;
  }
}

/* Pure data movement (CfqpOpType order): where output (c, y, x) reads. */
#define MOVE_D2S    5
#define MOVE_S2D    6
#define MOVE_RESIZE 7
#define MOVE_TILE   8

/* p0, p1: block and DCR flag (shuffles), scale_h and scale_w (resize),
 * repeats and interleave flag (tile). */
inline size_t
move_src (int op, int p0, int p1, int c, int y, int x, int in_c, int in_h, int in_w,
    int out_c)
{
  int ic = c, iy = y, ix = x;

  switch (op) {
    case MOVE_D2S: {
      int i = y % p0, j = x % p0;
      ic = p1 ? (i * p0 + j) * out_c + c : c * p0 * p0 + i * p0 + j;
      iy = y / p0;
      ix = x / p0;
      break;
    }
    case MOVE_S2D: {
      int ij = p1 ? c / in_c : c % (p0 * p0);
      ic = p1 ? c % in_c : c / (p0 * p0);
      iy = y * p0 + ij / p0;
      ix = x * p0 + ij % p0;
      break;
    }
    case MOVE_RESIZE:
      iy = y / p0;
      ix = x / p1;
      break;
    case MOVE_TILE:
      ic = p1 ? c / p0 : c % in_c;
      break;
  }
  return ((size_t) ic * in_h + iy) * in_w + ix;
}

#define OUT_INDEX(c, y, x, h, w) (((size_t) (c) * (h) + (y)) * (w) + (x))
